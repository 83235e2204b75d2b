"""The data layer: reading and writing photos, the degradation, the tf.data input, the demo set."""
