"""Peel's trainer: PyTorch code that produces the weights in `weights/`."""
