"""Neural-network building blocks: Module and the layers, ``init``, ``utils`` and ``functional``."""

from mytensor.nn import functional, init, utils
from mytensor.nn.activation import GELU, ReLU, Sigmoid, Tanh
from mytensor.nn.batchnorm import BatchNorm1d, BatchNorm2d
from mytensor.nn.container import ModuleList, Sequential
from mytensor.nn.conv import Conv2d
from mytensor.nn.dropout import Dropout
from mytensor.nn.flatten import Flatten
from mytensor.nn.linear import Identity, Linear
from mytensor.nn.loss import CrossEntropyLoss
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter
from mytensor.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GELU",
    "Identity",
    "Linear",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "functional",
    "init",
    "utils",
]
