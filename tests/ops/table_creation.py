"""Rows for creation ops (src/core/ops/creation.cpp): compared by value with PyTorch."""

import torch

import mytensor as mt
from tests.ops.op_table import Row

ROWS = [
    Row("arange", lambda: mt.arange(7), lambda: torch.arange(7), [()], grad=()),
    Row("arange", lambda: mt.arange(1, 2.5, 0.25), lambda: torch.arange(1, 2.5, 0.25), [()],
        grad=()),
    Row("arange", lambda: mt.arange(5, -3, -2), lambda: torch.arange(5, -3, -2), [()], grad=()),
    Row("eye", lambda: mt.eye(3), lambda: torch.eye(3), [()], grad=()),
    Row("eye", lambda: mt.eye(2, 4, dtype=mt.int64), lambda: torch.eye(2, 4, dtype=torch.int64),
        [()], grad=()),
    Row("full", lambda: mt.full((2, 3), 1.5), lambda: torch.full((2, 3), 1.5), [()], grad=()),
    Row("full", lambda: mt.zeros(0, 3) + mt.ones(1, 3), lambda: torch.zeros(0, 3) + torch.ones(1, 3),
        [()], grad=()),
]
