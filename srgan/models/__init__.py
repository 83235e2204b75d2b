"""The networks: the seed's generator and critic (generator.py, critic.py), SRResNet and
SRGAN's discriminator (srresnet.py), plain Keras 3 with no TensorFlow call; a model's
networks by its name are the registry's (registry.py).

Nothing is imported here, so that the command line reads the registry's names without
loading Keras (which loads TensorFlow).
"""


def check_size(features: int, blocks: int) -> None:
    """ValueError unless `features` and `blocks` describe a generator: the check every
    generator builder makes first."""
    if features < 1 or blocks < 0:
        raise ValueError(f"features must be >= 1 and blocks >= 0, got {features}, {blocks}")
