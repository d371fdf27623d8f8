"""deepstep: build, train and explain deep neural networks from scratch on NumPy."""

__version__ = "0.1.0"
