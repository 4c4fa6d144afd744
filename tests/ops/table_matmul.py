"""Rows for matmul and linear (src/core/ops/matmul.cpp)."""

import mytensor as mt
import mytensor.nn.functional as F
import torch
import torch.nn.functional as TF

from tests.ops.op_table import ErrorRow, Row, zeros_on

# float32 products sum K terms of size ~1 in a different order than MKL: errors grow like
# sqrt(K) * eps * |value|, so values near 0 need an absolute tolerance of ~1e-4 (K up to 300).
GEMM_ATOL = 1e-4

MATMUL_CASES = [
    ((4, 3), (3, 5)),  # small first case: gradcheck and the transposed/sliced layouts
    ((72, 73), (73, 74)),  # misses every register tile and cache block
    ((1, 1), (1, 1)),
    ((3,), (3,)),  # dot product: a 0-d result
    ((3,), (3, 4)),
    ((4, 3), (3,)),
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dims
    ((5, 3, 4), (4, 2)),  # batched @ 2-D: the batch folds into M
    ((4, 2), (3, 2, 5)),  # 2-D @ batched
    ((2, 3, 4), (2, 4, 5)),
    ((3,), (2, 3, 4)),
    ((2, 4, 3), (3,)),
    ((4, 0), (0, 3)),  # K = 0: zeros
    ((0, 3), (3, 2)),
    ((2, 0, 3), (3, 4)),
    ((16, 20, 24), (16, 24, 12)),  # many small products: one thread per product
    ((260, 300), (300, 200)),  # K > the K block; large enough for every thread
]

LINEAR_CASES = [
    ((3, 4), (5, 4), (5,)),
    ((2, 3, 7), (6, 7), (6,)),
    ((7,), (3, 7), (3,)),
    ((0, 4), (5, 4), (5,)),
    ((4, 0), (3, 0), (3,)),  # no input features: the bias alone
    ((128, 300), (70, 300), (70,)),
]

ROWS = [
    Row(
        "matmul", mt.matmul, torch.matmul, MATMUL_CASES, grad=(0, 1), atol=GEMM_ATOL, label="plain"
    ),
    Row(
        "matmul",
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        [((2, 3), (3, 2))],
        grad=(0, 1),
        label="operator",
    ),
    # Operands that are transposed views by construction (column-major GEMM operands).
    Row(
        "matmul",
        lambda a, b: a.mT @ b,
        lambda a, b: a.mT @ b,
        [((5, 4), (5, 3)), ((2, 7, 6), (2, 7, 5)), ((40, 33), (40, 31))],
        grad=(0, 1),
        atol=GEMM_ATOL,
        label="a-transposed",
    ),
    Row(
        "matmul",
        lambda a, b: a @ b.mT,
        lambda a, b: a @ b.mT,
        [((4, 5), (3, 5)), ((3, 6, 7), (2, 1, 5, 7))],
        grad=(0, 1),
        atol=GEMM_ATOL,
        label="b-transposed",
    ),
    # A stride-0 (expanded) operand: copied into a GEMM-readable layout.
    Row(
        "matmul",
        lambda a, b: a.expand(3, 4) @ b,
        lambda a, b: a.expand(3, 4) @ b,
        [((1, 4), (4, 2))],
        grad=(0, 1),
        covers=("expand",),
        label="expanded",
    ),
    Row("linear", F.linear, TF.linear, LINEAR_CASES, grad=(0, 1, 2), atol=GEMM_ATOL, label="bias"),
    Row(
        "linear",
        lambda x, w: F.linear(x, w),
        lambda x, w: TF.linear(x, w),
        [((3, 4), (5, 4)), ((2, 2, 6), (3, 6))],
        grad=(0, 1),
        atol=GEMM_ATOL,
        label="no-bias",
    ),
]

# Bad calls: a typed exception naming the op and the shapes or dtypes.
ERRORS = [
    ErrorRow(
        "matmul-inner-dims",
        lambda d: mt.matmul(zeros_on(d, 4, 3), zeros_on(d, 5, 2)),
        mt.ShapeError,
        r"\[matmul\] inner dims differ: a is \(4, 3\), b is \(5, 2\)",
    ),
    ErrorRow(
        "matmul-vector-lengths",
        lambda d: zeros_on(d, 3) @ zeros_on(d, 4),
        ValueError,
        r"\[matmul\] inner dims differ: a is \(3,\), b is \(4,\)",
    ),
    ErrorRow(
        "matmul-0d",
        lambda d: mt.matmul(mt.tensor(2.0, device=d), zeros_on(d, 3)),
        ValueError,
        r"\[matmul\] both arguments must be at least 1-D",
    ),
    ErrorRow(
        "matmul-batch-not-broadcastable",
        lambda d: mt.matmul(zeros_on(d, 2, 4, 3), zeros_on(d, 3, 3, 5)),
        ValueError,
        r"\[matmul\] batch dims \(2,\) and \(3,\) cannot be",
    ),
    # PyTorch multiplies integer matrices on the CPU; mytensor's GEMM is float-only.
    ErrorRow(
        "matmul-int64",
        lambda d: mt.matmul(zeros_on(d, 2, 2, dtype=mt.int64), zeros_on(d, 2, 2, dtype=mt.int64)),
        mt.DTypeError,
        r"\[matmul\] expected float32 or float64.*int64",
    ),
    ErrorRow(
        "matmul-mixed-dtypes",
        lambda d: mt.matmul(zeros_on(d, 2, 2), zeros_on(d, 2, 2, dtype=mt.float64)),
        TypeError,
        r"\[matmul\] expected a and b to have one dtype, got float32 and float64",
    ),
    ErrorRow(
        "matmul-list-operand",
        lambda d: mt.matmul(zeros_on(d, 2, 2), [[1.0, 0.0], [0.0, 1.0]]),
        TypeError,
        r"\[matmul\] other must be a Tensor",
    ),
    ErrorRow(
        "linear-in-features",
        lambda d: F.linear(zeros_on(d, 128, 2048), zeros_on(d, 256, 1024)),
        ValueError,
        r"\[linear\] input has 2048 features \(shape \(128, 2048\)\) but weight expects 1024 "
        r"\(weight shape \(256, 1024\)\)",
    ),
    ErrorRow(
        "linear-1d-weight",
        lambda d: F.linear(zeros_on(d, 2, 3), zeros_on(d, 3)),
        ValueError,
        r"\[linear\] weight must be 2-D",
    ),
    ErrorRow(
        "linear-bias-shape",
        lambda d: F.linear(zeros_on(d, 2, 3), zeros_on(d, 5, 3), zeros_on(d, 4)),
        ValueError,
        r"\[linear\] bias must have shape \(5,\)",
    ),
    ErrorRow(
        "linear-mixed-dtypes",
        lambda d: F.linear(zeros_on(d, 2, 3, dtype=mt.float64), zeros_on(d, 5, 3)),
        TypeError,
        r"\[linear\] expected input and weight to have one dtype",
    ),
]
