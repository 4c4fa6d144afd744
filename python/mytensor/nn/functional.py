"""``mytensor.nn.functional``: the functional API under PyTorch's module path."""

from mytensor.functional import *  # noqa: F403
from mytensor.functional import __all__  # noqa: F401
