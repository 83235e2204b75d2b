"""Training: the epoch loop, and what only it uses (precise BatchNorm statistics, sample
grids, a clean stop on Ctrl+C). The per-model steps it drives are srgan/training/tf_steps.py."""
