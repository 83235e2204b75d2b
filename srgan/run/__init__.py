"""A training run's folder on disk, and the one place its format is written and read.

    CHECKPOINT_DIR/
      settings.json          the run's TrainConfig and the format version (settings.py)
      checkpoint             TensorFlow's pointer to the newest checkpoint (folder.py)
      ckpt-N.index, ckpt-N.data-*   checkpoints named by their step (state.py: what
                             they hold; folder.py: which is intact, which damaged)
      best/                  the best checkpoint by validation PSNR-Y, and best.json
      .lock                  held by the training that uses the folder (folder.py)
      logs/, samples/        TensorBoard scalars and images; sample grids
"""
