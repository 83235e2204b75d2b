"""The test run: a trained generator measured against bicubic, as the seed's results table."""
