"""Rows for index_select and gather (src/core/ops/index.cpp). Indices are drawn from a fixed seed
for each input shape, with repeats, so the backward's accumulation (index_add, scatter_add) is
exercised."""

import mytensor as mt
import numpy as np
import torch

from tests.ops.op_table import Row

_DTYPES = {
    mt: {"int64": mt.int64, "int32": mt.int32},
    torch: {"int64": torch.int64, "int32": torch.int32},
}


def _index(lib, values, like, dtype="int64"):
    return lib.tensor(
        np.asarray(values, dtype=np.int64), dtype=_DTYPES[lib][dtype], device=like.device
    )


def _select(lib, dim, k, dtype="int64"):
    """index_select along dim with k indices drawn (with repeats) from [0, size)."""

    def f(x):
        size = x.shape[dim] if x.ndim else 1
        values = np.random.default_rng(k).integers(0, size, k)
        return lib.index_select(x, dim, _index(lib, values, x, dtype))

    return f


def _select_fixed(lib, dim, values, dtype="int64"):
    def f(x):
        return lib.index_select(x, dim, _index(lib, values, x, dtype))

    return f


def _gather(lib, dim, k, shrink=0, dtype="int64"):
    """gather along dim with an index of x's shape, dim resized to k and the other dims made
    `shrink` smaller (index.size(d) <= x.size(d) is allowed)."""

    def f(x):
        shape = [max(s - shrink, 0) for s in x.shape]
        if x.ndim:
            shape[dim] = k
        size = x.shape[dim] if x.ndim else 1
        values = np.random.default_rng(k).integers(0, size, shape)
        return lib.gather(x, dim, _index(lib, values, x, dtype))

    return f


ROWS = [
    Row(
        "index_select",
        _select(mt, 0, 5),
        _select(torch, 0, 5),
        [((4, 3),), ((7,),), ((3, 4, 5),), ((1, 2),), ((5000, 40),)],
        covers=("index_select_backward",),
        label="select_0_5",
    ),
    Row(
        "index_select",
        _select(mt, 1, 4),
        _select(torch, 1, 4),
        [((3, 5),), ((2, 3, 4),), ((1, 1),), ((2, 7, 3, 5),)],
        label="select_1_4",
    ),
    Row(
        "index_select",
        _select(mt, -1, 3000),
        _select(torch, -1, 3000),
        [((3, 7),), ((30, 777),)],
        label="select_1_3000",
    ),
    Row(
        "index_select",
        _select(mt, 1, 6, "int32"),
        _select(torch, 1, 6, "int32"),
        [((2, 3, 4),), ((2, 9),)],
        label="select_1_6_int32",
    ),
    Row(
        "index_select",
        _select_fixed(mt, 0, []),
        _select_fixed(torch, 0, []),
        [((3, 4),), ((5,),)],
        label="select_fixed_0",
    ),
    Row(
        "index_select",
        _select_fixed(mt, 0, [0]),
        _select_fixed(torch, 0, [0]),
        [((),)],
        layouts=False,
        label="select_fixed_0_0",
    ),
    Row(
        "index_select",
        _select_fixed(mt, 0, 2),
        _select_fixed(torch, 0, 2),
        [((4, 3),), ((3,),)],
        label="select_fixed_0_2",
    ),
    Row(
        "index_select",
        _select(mt, 1, 3),
        _select(torch, 1, 3),
        [((0, 3),)],
        layouts=False,
        label="select_1_3",
    ),
    Row(
        "index_select",
        _select(mt, 0, 4),
        _select(torch, 0, 4),
        [((3, 4),)],
        grad=(),
        dtypes=("float32",),
        make=lambda s, r, d: [r.integers(-9, 9, s[0]).astype(np.int64)],
        label="select_0_4",
    ),
    Row(
        "gather",
        _gather(mt, 0, 4),
        _gather(torch, 0, 4),
        [((3, 4),), ((5,),), ((2, 3, 4),), ((300, 200),)],
        covers=("gather_backward",),
        label="0_4",
    ),
    Row(
        "gather",
        _gather(mt, 1, 6),
        _gather(torch, 1, 6),
        [((3, 4),), ((2, 3, 4),), ((4, 1, 2, 3),), ((300, 200),)],
        label="1_6",
    ),
    Row(
        "gather",
        _gather(mt, -1, 2, shrink=1),
        _gather(torch, -1, 2, shrink=1),
        [((3, 4),), ((4, 3, 5),), ((2, 2),)],
        label="1_2_shrink_1",
    ),
    Row(
        "gather",
        _gather(mt, 0, 3, shrink=1),
        _gather(torch, 0, 3, shrink=1),
        [((2, 5, 3),), ((130, 257),)],
        label="0_3_shrink_1",
    ),
    Row(
        "gather",
        _gather(mt, 1, 5, dtype="int32"),
        _gather(torch, 1, 5, dtype="int32"),
        [((3, 4),)],
        label="1_5_dtype_int32",
    ),
    Row("gather", _gather(mt, 0, 1), _gather(torch, 0, 1), [((),)], layouts=False, label="0_1"),
    Row("gather", _gather(mt, 1, 0), _gather(torch, 1, 0), [((3, 4),), ((0, 2),)], label="1_0"),
    Row(
        "gather",
        _gather(mt, 1, 3),
        _gather(torch, 1, 3),
        [((3, 4),)],
        grad=(),
        dtypes=("float32",),
        make=lambda s, r, d: [r.integers(-9, 9, s[0]).astype(np.int32)],
        label="1_3",
    ),
]
