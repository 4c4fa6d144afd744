"""Rows for pooling and its backward ops (src/core/ops/pool.cpp)."""

import mytensor as mt
import mytensor.nn.functional as F
import numpy as np
import torch.nn.functional as TF
from mytensor import _C

from tests.ops.op_table import ErrorRow, Row, kwargs_label, tensor_on, zeros_on

# Uniform random inputs have no ties, so max pooling's gradient is unambiguous.
POOL_CASES = [((1, 2, 5, 5),), ((2, 3, 9, 11),), ((3, 7, 8),), ((0, 2, 5, 5),), ((4, 16, 33, 33),)]


def pool(name, mt_fn, torch_fn, cases=POOL_CASES, **kw):
    return Row(
        name,
        lambda x: mt_fn(x, **kw),
        lambda x: torch_fn(x, **kw),
        cases,
        covers=(name + "_backward",),
        label=kwargs_label(kw),
    )


ROWS = [
    # Overlapping windows with padding.
    pool("max_pool2d", F.max_pool2d, TF.max_pool2d, kernel_size=3, stride=2, padding=1),
    pool(
        "max_pool2d", F.max_pool2d, TF.max_pool2d, [((1, 2, 4, 6),), ((2, 3, 7, 9),)], kernel_size=2
    ),
    pool(
        "max_pool2d",
        F.max_pool2d,
        TF.max_pool2d,
        [((1, 2, 5, 6),), ((2, 3, 8, 7),)],
        kernel_size=(3, 2),
        stride=(1, 2),
        padding=(1, 0),
    ),
    pool(
        "max_pool2d",
        F.max_pool2d,
        TF.max_pool2d,
        [((1, 2, 5, 5),), ((2, 3, 9, 11),)],
        kernel_size=3,
        stride=2,
        padding=1,
        return_indices=True,
    ),
    pool("avg_pool2d", F.avg_pool2d, TF.avg_pool2d, kernel_size=3, stride=2, padding=1),
    pool(
        "avg_pool2d",
        F.avg_pool2d,
        TF.avg_pool2d,
        kernel_size=3,
        stride=2,
        padding=1,
        count_include_pad=False,
    ),
    pool(
        "avg_pool2d", F.avg_pool2d, TF.avg_pool2d, [((1, 2, 4, 6),), ((2, 3, 7, 9),)], kernel_size=2
    ),
    pool(
        "avg_pool2d",
        F.avg_pool2d,
        TF.avg_pool2d,
        [((1, 2, 5, 6),), ((2, 3, 8, 7),)],
        kernel_size=(3, 2),
        stride=(1, 2),
        padding=(1, 0),
        count_include_pad=False,
    ),
    pool(
        "adaptive_avg_pool2d",
        F.adaptive_avg_pool2d,
        TF.adaptive_avg_pool2d,
        [((1, 2, 9, 11),), ((2, 3, 8, 8),), ((3, 7, 5),), ((4, 16, 33, 33),)],
        output_size=(4, 5),
    ),
    pool(
        "adaptive_avg_pool2d",
        F.adaptive_avg_pool2d,
        TF.adaptive_avg_pool2d,
        [((1, 2, 5, 6),), ((2, 3, 8, 8),)],
        output_size=1,
    ),  # global average pooling
    pool(
        "adaptive_avg_pool2d",
        F.adaptive_avg_pool2d,
        TF.adaptive_avg_pool2d,
        [((1, 2, 3, 4),), ((2, 2, 5, 3),)],
        output_size=(5, 7),
    ),  # overlapping windows
    pool(
        "adaptive_avg_pool2d",
        F.adaptive_avg_pool2d,
        TF.adaptive_avg_pool2d,
        [((1, 2, 6, 7),)],
        output_size=(3, None),
    ),
]


# Bad calls: a typed exception naming the op and the shapes or hyper-parameters.
def _max(d, shape, *args, **kw):
    return F.max_pool2d(zeros_on(d, *shape), *args, **kw)


def _avg(d, shape, *args, **kw):
    return F.avg_pool2d(zeros_on(d, *shape), *args, **kw)


def _adaptive(d, shape, output_size):
    return F.adaptive_avg_pool2d(zeros_on(d, *shape), output_size)


ERRORS = [
    ErrorRow(
        "max_pool2d-kernel-larger-than-input",
        lambda d: _max(d, (1, 1, 2, 2), 3),
        ValueError,
        r"\[max_pool2d\] kernel \(3, 3\) is larger than the padded input \(2, 2\)",
    ),
    ErrorRow(
        "max_pool2d-padding-over-half-kernel",
        lambda d: _max(d, (1, 1, 8, 8), 3, padding=2),
        ValueError,
        r"\[max_pool2d\] padding \(2, 2\) must be at most half the kernel size \(3, 3\)",
    ),
    ErrorRow(
        "avg_pool2d-padding-over-half-kernel",
        lambda d: _avg(d, (1, 1, 8, 8), 3, padding=2),
        ValueError,
        r"\[avg_pool2d\] padding \(2, 2\) must be at most half",
    ),
    ErrorRow(
        "max_pool2d-zero-kernel",
        lambda d: _max(d, (1, 1, 6, 6), kernel_size=0),
        ValueError,
        r"\[max_pool2d\] kernel_size must be positive",
    ),
    ErrorRow(
        "max_pool2d-zero-stride",
        lambda d: _max(d, (1, 1, 6, 6), kernel_size=2, stride=0),
        ValueError,
        r"\[max_pool2d\] stride must be positive",
    ),
    ErrorRow(
        "max_pool2d-negative-padding",
        lambda d: _max(d, (1, 1, 6, 6), kernel_size=2, padding=-1),
        ValueError,
        r"\[max_pool2d\] padding must be non-negative",
    ),
    ErrorRow(
        "max_pool2d-ceil-mode",
        lambda d: _max(d, (1, 1, 6, 6), 2, ceil_mode=True),
        ValueError,
        r"\[max_pool2d\] ceil_mode=True is not supported",
    ),
    ErrorRow(
        "max_pool2d-dilation",
        lambda d: _max(d, (1, 1, 6, 6), 2, dilation=2),
        ValueError,
        r"\[max_pool2d\] only dilation=1 is supported",
    ),
    ErrorRow(
        "avg_pool2d-ceil-mode",
        lambda d: _avg(d, (1, 1, 6, 6), 2, ceil_mode=True),
        ValueError,
        r"\[avg_pool2d\] ceil_mode=True is not supported",
    ),
    ErrorRow(
        "avg_pool2d-divisor-override",
        lambda d: _avg(d, (1, 1, 6, 6), 2, divisor_override=3),
        ValueError,
        r"\[avg_pool2d\] divisor_override is not supported",
    ),
    ErrorRow(
        "avg_pool2d-2d-input",
        lambda d: _avg(d, (6, 6), 2),
        ValueError,
        r"\[avg_pool2d\] expected a 3-D \(C, H, W\) or 4-D",
    ),
    ErrorRow(
        "adaptive_avg_pool2d-5d-input",
        lambda d: _adaptive(d, (2, 1, 1, 6, 6), 2),
        ValueError,
        r"\[adaptive_avg_pool2d\] expected a 3-D",
    ),
    ErrorRow(
        "adaptive_avg_pool2d-empty-spatial-dims",
        lambda d: _adaptive(d, (1, 2, 0, 4), 2),
        ValueError,
        r"\[adaptive_avg_pool2d\] expected non-empty spatial dims",
    ),
    ErrorRow(
        "max_pool2d-int64-input",
        lambda d: F.max_pool2d(zeros_on(d, 1, 1, 4, 4, dtype=mt.int64), 2),
        TypeError,
        r"\[max_pool2d\] input must be float32 or float64, got int64",
    ),
    ErrorRow(
        "adaptive_avg_pool2d-string-output-size",
        lambda d: _adaptive(d, (1, 1, 4, 4), "2"),
        TypeError,
        r"\[adaptive_avg_pool2d\] output_size must be an int or",
    ),
    ErrorRow(
        "adaptive_avg_pool2d-negative-output-size",
        lambda d: _adaptive(d, (1, 1, 4, 4), -1),
        ValueError,
        r"\[adaptive_avg_pool2d\] output_size must be non-neg",
    ),
    # The _C backward ops validate too (the Python wrappers may be bypassed).
    ErrorRow(
        "max_pool2d_backward-index-out-of-plane",
        lambda d: _C.max_pool2d_backward(
            zeros_on(d, 1, 1, 2, 2)._impl,
            tensor_on(d, [[[[0, 1], [99, 2]]]], dtype=np.int64)._impl,
            [1, 1, 4, 4],
        ),
        IndexError,
        r"\[max_pool2d_backward\] index 99 is out of range",
        cpu_only="the CUDA kernel skips an index outside its plane and reports nothing",
    ),
    ErrorRow(
        "max_pool2d_backward-float-indices",
        lambda d: _C.max_pool2d_backward(
            zeros_on(d, 1, 1, 2, 2)._impl, zeros_on(d, 1, 1, 2, 2)._impl, [1, 1, 4, 4]
        ),
        TypeError,
        r"\[max_pool2d_backward\] indices must be int64",
    ),
    ErrorRow(
        "avg_pool2d_backward-grad-shape",
        lambda d: _C.avg_pool2d_backward(
            zeros_on(d, 1, 1, 3, 3)._impl, [1, 1, 4, 4], [2], [], [0], True
        ),
        ValueError,
        r"\[avg_pool2d_backward\] expected grad_out of shape \(1, 1, 2, 2\)",
    ),
]
