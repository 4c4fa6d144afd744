"""The functional API, with ``torch.nn.functional``'s names and arguments (also importable as
``mytensor.nn.functional``)."""

from mytensor.ops.activation import (
    elu,
    hardsigmoid,
    hardswish,
    leaky_relu,
    mish,
    prelu,
    selu,
    silu,
    softplus,
)
from mytensor.ops.conv import conv2d
from mytensor.ops.elementwise import gelu, relu, sigmoid, tanh
from mytensor.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
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
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cosine_embedding_loss",
    "cross_entropy",
    "dropout",
    "elu",
    "gelu",
    "hardsigmoid",
    "hardswish",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "margin_ranking_loss",
    "max_pool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "pad",
    "prelu",
    "relu",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]
