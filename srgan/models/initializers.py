"""How a new network's weights are drawn (`--init`).

"reference" is what the seed's reference code (TensorFlow 1 + TensorLayer) does for the
seed's generator and critic, and TensorLayer's SRGAN for the baselines: every conv and
dense kernel from an untruncated N(0, 0.02) (`tf.random_normal_initializer(stddev=0.02)`),
biases zero, BatchNorm gamma from N(1, 0.02) and beta zero. "glorot" is Keras' defaults
(Glorot-uniform kernels, gamma 1), which this project used before; it is kept to compare.
Draws follow `keras.utils.set_random_seed`, so a seeded build is reproducible.
"""

import keras

INITS = ("reference", "glorot")
REFERENCE_STDDEV = 0.02


def check_init(init: str) -> None:
    """ValueError unless `init` names a scheme of INITS."""
    if init not in INITS:
        raise ValueError(f"unknown initialisation {init!r}; choose one of {', '.join(INITS)}")


def kernel_initializer(init: str) -> keras.initializers.Initializer | str:
    """Each call a fresh initializer, so that every layer gets its own draws."""
    check_init(init)
    if init == "glorot":
        return "glorot_uniform"
    return keras.initializers.RandomNormal(mean=0.0, stddev=REFERENCE_STDDEV)


def gamma_initializer(init: str) -> keras.initializers.Initializer | str:
    check_init(init)
    if init == "glorot":
        return "ones"
    return keras.initializers.RandomNormal(mean=1.0, stddev=REFERENCE_STDDEV)
