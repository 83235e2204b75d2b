"""Using a trained generator: loading it from a checkpoint, upscaling photos, exporting it."""
