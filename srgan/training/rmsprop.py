"""RMSProp as TensorFlow 1's `tf.train.RMSPropOptimizer` runs it: the seed's optimizer.

    ms  <- decay * ms + (1 - decay) * g^2        ms starts at ONES
    var <- var - lr * g / sqrt(ms + epsilon)     epsilon 1e-10, inside the root

Keras' RMSprop starts `ms` at zeros, with epsilon 1e-7. Two things follow: TF1's first
steps are nearly frozen until `ms` has decayed from 1 towards the gradients' own mean
square (0.9^k: a hundred-odd steps for small gradients), where Keras' are full size at
once; and TF1's denominator can fall to sqrt(1e-10) = 1e-5 where Keras' stays above
sqrt(1e-7) = 3.2e-4, so weights with small gradients (the 0.1 SSIM and 1e-3 adversarial
terms) move up to ~30x further under TF1's rule.
"""

import keras
from keras import ops

TF1_DECAY = 0.9
TF1_EPSILON = 1e-10


class TF1RMSprop(keras.optimizers.RMSprop):
    """Keras' RMSprop (its `velocity` slots, so checkpoints keep their layout) with TF1's
    rule: the accumulator from ones, epsilon 1e-10, no momentum."""

    def __init__(self, learning_rate: float = 0.001, rho: float = TF1_DECAY,
                 epsilon: float = TF1_EPSILON, **kwargs):
        kwargs.setdefault("name", "tf1_rmsprop")
        super().__init__(learning_rate=learning_rate, rho=rho, momentum=0.0, epsilon=epsilon,
                         centered=False, **kwargs)

    def build(self, var_list) -> None:
        if self.built:
            return
        keras.optimizers.Optimizer.build(self, var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity", initializer="ones")
        self._momentums = []
        self._average_gradients = []

    def update_step(self, gradient, variable, learning_rate) -> None:
        rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        mean_square = self._velocities[self._get_variable_index(variable)]
        self.assign(mean_square, ops.add(ops.multiply(self.rho, mean_square),
                                         ops.multiply(1.0 - self.rho, ops.square(gradient))))
        self.assign_sub(variable, ops.divide(ops.multiply(rate, gradient),
                                             ops.sqrt(ops.add(mean_square, self.epsilon))))

    def get_config(self) -> dict:
        config = super().get_config()
        for name in ("momentum", "centered"):
            config.pop(name)
        return config
