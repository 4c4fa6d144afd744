"""The functional API, with ``torch.nn.functional``'s names and arguments (also importable as
``mytensor.nn.functional``)."""

from mytensor.ops.conv import conv2d
from mytensor.ops.elementwise import gelu, relu, sigmoid, tanh
from mytensor.ops.loss import cross_entropy, nll_loss
from mytensor.ops.matmul import linear
from mytensor.ops.norm import batch_norm
from mytensor.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from mytensor.ops.random import dropout
from mytensor.ops.reduce import log_softmax, softmax
from mytensor.ops.shape import pad

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "conv2d",
    "cross_entropy",
    "dropout",
    "gelu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "nll_loss",
    "pad",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
