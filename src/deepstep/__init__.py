"""deepstep: build, train and explain deep neural networks from scratch on NumPy.

- :mod:`deepstep.course`: the deep learning course's functions under their own names;
- :class:`deepstep.Network`: the network to train and use (fit / predict / evaluate / save);
- :mod:`deepstep.engine`: the math, written once, under both.
"""

__version__ = "0.1.0"

from .io import ModelFormatError  # noqa: E402
from .model import DEFAULTS, Network  # noqa: E402

__all__ = ["DEFAULTS", "ModelFormatError", "Network", "__version__"]
