"""Training: the compiled steps, the run's state on disk, and the epoch loop."""
