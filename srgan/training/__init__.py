"""Training: how each model trains (recipe.py, its compiled steps in tf_steps.py and
jax_steps.py), the epoch loop (loop.py) and what a checkpoint does (checkpoints.py),
what a run starts from (start.py), where it runs (tf_devices.py, jax_devices.py), and
--mode=compare, which trains several models alike (compare.py)."""
