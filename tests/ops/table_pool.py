"""Rows for pooling and its backward ops (src/core/ops/pool.cpp)."""

import mytensor.nn.functional as F
import torch.nn.functional as TF

from tests.ops.op_table import Row, kwargs_label

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
