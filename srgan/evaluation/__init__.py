"""Measuring a trained generator: the test run against bicubic (as the seed's results
table), validation during training, reports and grids, which generator a mode uses."""
