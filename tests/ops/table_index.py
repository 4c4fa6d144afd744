"""Rows for index_select and gather (src/core/ops/index.cpp). Indices are drawn from a fixed seed
for each input shape, with repeats, so the backward's accumulation (index_add, scatter_add) is
exercised."""

import re

import mytensor as mt
import numpy as np
import torch

from tests.ops.op_table import ErrorRow, Row, ones_on, tensor_on

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

# Bad calls: a typed exception naming the op and the bad index (literal message fragments).
# A CUDA kernel skips an index out of range and reports it at the next synchronize, in its own
# words (src/cuda/device.cpp), so the rows on index values run on the CPU.
_ON_DEVICE = "CUDA checks index values in the kernel and reports them at the next synchronize"


def _i(d, values, dtype=np.int64):
    return tensor_on(d, values, dtype=dtype)


ERRORS = [
    ErrorRow(
        "index_select-index-too-large",
        lambda d: mt.index_select(ones_on(d, 5), 0, _i(d, [1, 5])),
        IndexError,
        re.escape("[index_select] index 5 is out of range for dim 0 of size 5"),
        cpu_only=_ON_DEVICE,
    ),
    ErrorRow(
        "index_select-negative-index",
        lambda d: mt.index_select(ones_on(d, 2, 5), 1, _i(d, [-1])),
        IndexError,
        re.escape("index -1 is out of range for dim 1 of size 5"),
        cpu_only=_ON_DEVICE,
    ),
    ErrorRow(
        "index_select-2d-index",
        lambda d: mt.index_select(ones_on(d, 5), 0, _i(d, [[1]])),
        mt.ShapeError,
        re.escape("[index_select] expected a 0-d or 1-D index, got shape (1, 1)"),
    ),
    ErrorRow(
        "index_select-float-index",
        lambda d: mt.index_select(ones_on(d, 5), 0, _i(d, [1.0], dtype=np.float32)),
        mt.DTypeError,
        re.escape("[index_select] expected index of dtype int64 or int32, got float32"),
    ),
    ErrorRow(
        "index_select-dim-out-of-range",
        lambda d: mt.index_select(ones_on(d, 5), 1, _i(d, [0])),
        IndexError,
        re.escape("[index_select] dim 1"),
    ),
    ErrorRow(
        "index_select-list-index",
        lambda d: mt.index_select(ones_on(d, 5), 0, [0]),
        TypeError,
        re.escape("[index_select] index must be a"),
    ),
    ErrorRow(
        "index_select_backward-grad-shape",
        lambda d: mt._C.index_select_backward(ones_on(d, 3)._impl, [5], 0, _i(d, [0, 1])._impl),
        mt.ShapeError,
        re.escape("[index_select_backward] expected grad of shape (2,), got (3,)"),
    ),
    ErrorRow(
        "gather-index-rank",
        lambda d: mt.gather(ones_on(d, 3, 4), 1, _i(d, [0, 1])),
        mt.ShapeError,
        re.escape(
            "[gather] expected index with as many dims as the input: input is (3, 4), index is (2,)"
        ),
    ),
    ErrorRow(
        "gather-index-larger-than-input",
        lambda d: mt.gather(ones_on(d, 2, 3), 1, mt.zeros(3, 2, dtype=mt.int64, device=d)),
        mt.ShapeError,
        re.escape(
            "[gather] index of shape (3, 2) is larger than the input of shape (2, 3) in dim 0"
        ),
    ),
    ErrorRow(
        "gather-index-too-large",
        lambda d: mt.gather(ones_on(d, 2, 3), 1, _i(d, [[0, 3]])),
        IndexError,
        re.escape("[gather] index 3 is out of range for dim 1 of size 3"),
        cpu_only=_ON_DEVICE,
    ),
    ErrorRow(
        "gather-negative-index",
        lambda d: mt.gather(ones_on(d, 2, 3), 0, _i(d, [[0, -2]])),
        IndexError,
        re.escape("index -2"),
        cpu_only=_ON_DEVICE,
    ),
    ErrorRow(
        "gather-bool-index",
        lambda d: mt.gather(ones_on(d, 2, 3), 0, _i(d, [[True]], dtype=np.bool_)),
        mt.DTypeError,
        re.escape("[gather] expected index of dtype int64 or int32, got bool"),
    ),
    ErrorRow(
        "gather-dim-out-of-range",
        lambda d: mt.gather(ones_on(d, 2, 3), -3, _i(d, [[0]])),
        IndexError,
        re.escape("[gather] dim -3"),
    ),
    ErrorRow(
        "gather_backward-grad-shape",
        lambda d: mt._C.gather_backward(ones_on(d, 1, 2)._impl, [2, 3], 1, _i(d, [[0]])._impl),
        mt.ShapeError,
        re.escape("[gather_backward] expected grad of shape (1, 1) (the index's), got (1, 2)"),
    ),
]
