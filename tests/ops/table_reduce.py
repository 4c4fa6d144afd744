"""Rows for reductions (src/core/ops/reduce.cpp)."""

import torch

import mytensor as mt
from tests.ops.op_table import Row

ROWS = [
    Row("sum", lambda x: x.sum(), lambda x: x.sum(), [((3, 4),), ((),), ((0, 3),), ((70000,),)]),
    Row("sum", lambda x: x.sum(1), lambda x: x.sum(1), [((3, 4),), ((2, 3, 5),), ((2, 0),)]),
    Row("sum", lambda x: x.sum((0, 2), keepdim=True), lambda x: x.sum((0, 2), keepdim=True),
        [((2, 3, 5),), ((4, 1, 3),)]),
    Row("sum", lambda x: x.sum(0), lambda x: x.sum(0), [((257, 33),), ((1, 5),)]),
    Row("sum", lambda x: x.long().sum(-1), lambda x: x.long().sum(-1), [((3, 4),)], grad=()),
    Row("mean", lambda x: x.mean(), lambda x: x.mean(), [((3, 4),), ((),), ((70000,),)]),
    Row("mean", lambda x: x.mean((0, 2)), lambda x: x.mean((0, 2)), [((2, 3, 5),)]),
    Row("mean", lambda x: mt.mean(x, -1, keepdim=True), lambda x: torch.mean(x, -1, keepdim=True),
        [((4, 6),)]),
]
