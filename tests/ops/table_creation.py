"""Rows for creation ops (src/core/ops/creation.cpp): compared by value with PyTorch."""

import mytensor as mt
import torch

from tests.ops.op_table import ErrorRow, Row, ones_on

ROWS = [
    Row(
        "arange",
        lambda device: mt.arange(7, device=device),
        lambda: torch.arange(7),
        [()],
        grad=(),
        device_arg=True,
        label="7",
    ),
    Row(
        "arange",
        lambda device: mt.arange(1, 2.5, 0.25, device=device),
        lambda: torch.arange(1, 2.5, 0.25),
        [()],
        grad=(),
        device_arg=True,
        label="1_2.5_0.25",
    ),
    Row(
        "arange",
        lambda device: mt.arange(5, -3, -2, device=device),
        lambda: torch.arange(5, -3, -2),
        [()],
        grad=(),
        device_arg=True,
        label="5_3_2",
    ),
    Row(
        "eye",
        lambda device: mt.eye(3, device=device),
        lambda: torch.eye(3),
        [()],
        grad=(),
        device_arg=True,
        label="3",
    ),
    Row(
        "eye",
        lambda device: mt.eye(2, 4, dtype=mt.int64, device=device),
        lambda: torch.eye(2, 4, dtype=torch.int64),
        [()],
        grad=(),
        device_arg=True,
        label="2_4_dtype_int64",
    ),
    Row(
        "full",
        lambda device: mt.full((2, 3), 1.5, device=device),
        lambda: torch.full((2, 3), 1.5),
        [()],
        grad=(),
        device_arg=True,
        label="2_3_1.5",
    ),
    Row(
        "full",
        lambda device: mt.zeros(0, 3, device=device) + mt.ones(1, 3, device=device),
        lambda: torch.zeros(0, 3) + torch.ones(1, 3),
        [()],
        grad=(),
        device_arg=True,
        label="zeros_0_3_ones_1_3",
    ),
]

# Bad calls: creation, conversion and device parsing.
ERRORS = [
    ErrorRow(
        "arange-zero-step",
        lambda d: mt.arange(0, 10, 0, device=d),
        ValueError,
        r"\[arange\] step must be nonzero",
    ),
    ErrorRow(
        "arange-wrong-direction",
        lambda d: mt.arange(10, 0, 1, device=d),
        ValueError,
        r"\[arange\] upper bound",
    ),
    ErrorRow(
        "zeros-negative-dim",
        lambda d: mt.zeros(-1, 2, device=d),
        mt.ShapeError,
        r"negative dimension",
    ),
    ErrorRow(
        "item-of-many-elements",
        lambda d: ones_on(d, 3).item(),
        ValueError,
        r"\[item\] a tensor with 3 elements",
    ),
    ErrorRow(
        "device-unknown-name",
        lambda d: mt.device("gpu"),
        ValueError,
        r"\[device\] expected 'cpu' or 'cuda",
        cpu_only="no tensor, so no device",
    ),
    ErrorRow(
        "from_numpy-of-a-list",
        lambda d: mt.from_numpy([1, 2]),
        TypeError,
        r"\[from_numpy\] expected a numpy.ndarray",
        cpu_only="from_numpy makes CPU tensors",
    ),
    ErrorRow(
        "tensor-of-strings",
        lambda d: mt.tensor(["a"], device=d),
        mt.DTypeError,
        r"NumPy dtype <U1 is not supported",
    ),
]
