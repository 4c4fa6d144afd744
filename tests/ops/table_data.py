"""Rows for the fused image augmentation (src/core/ops/data.cpp) against a NumPy reference with
the same Philox draws or the same explicit plan (tests/data/philox_ref.py)."""

import numpy as np
import torch
from mytensor import _C
from mytensor.ops._util import wrap

from tests.data.philox_ref import augment_reference
from tests.ops.op_table import Row


def _make(shapes, rng, dtype):
    (n, c, h, w), (b,) = shapes
    images = rng.integers(0, 256, (n, c, h, w), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.int64)
    indices = rng.integers(0, n, b).astype(np.int64)
    mean = rng.uniform(0.3, 0.6, c).astype(dtype)
    std = rng.uniform(0.2, 0.3, c).astype(dtype)
    return [images, labels, indices, mean, std]


def _make_plan(shapes, rng, dtype):
    """The inputs of _make plus an explicit plan for padding 4: int32 (B, 3) dy, dx, flip."""
    inputs = _make(shapes, rng, dtype)
    b = shapes[1][0]
    params = (
        np.stack([rng.integers(0, 9, b), rng.integers(0, 9, b), rng.integers(0, 2, b)], axis=1)
        .astype(np.int32)
        .reshape(b, 3)
    )
    return inputs + [params]


def _mt_plan(images, labels, indices, mean, std, params):
    x, y = _C.augment_images(
        images._impl,
        labels._impl,
        indices._impl,
        mean._impl,
        std._impl,
        4,
        True,
        99,
        12345,
        params._impl,
    )
    return wrap(x), wrap(y)


def _torch_plan(images, labels, indices, mean, std, params):
    dtype = mean.numpy().dtype.type
    x, y = augment_reference(
        images.numpy(),
        labels.numpy(),
        indices.numpy(),
        mean.numpy(),
        std.numpy(),
        4,
        True,
        99,
        12345,
        dtype,
        params=params.numpy(),
    )
    return torch.tensor(x), torch.tensor(y)


def _mt(images, labels, indices, mean, std):
    x, y = _C.augment_images(
        images._impl, labels._impl, indices._impl, mean._impl, std._impl, 4, True, 99, 12345
    )
    return wrap(x), wrap(y)


def _torch(images, labels, indices, mean, std):
    dtype = mean.numpy().dtype.type
    x, y = augment_reference(
        images.numpy(),
        labels.numpy(),
        indices.numpy(),
        mean.numpy(),
        std.numpy(),
        4,
        True,
        99,
        12345,
        dtype,
    )
    return torch.tensor(x), torch.tensor(y)


ROWS = [
    Row(
        "augment_images",
        _mt,
        _torch,
        [
            ((10, 3, 8, 8), (6,)),
            ((4, 1, 5, 7), (9,)),
            ((3, 3, 4, 4), (0,)),
            ((64, 3, 32, 32), (128,)),
        ],
        grad=(),
        make=_make,
        layouts=False,
        label="augment",
    ),
    # The explicit-plan mode: per-sample (dy, dx, flip) given instead of drawn.
    Row(
        "augment_images",
        _mt_plan,
        _torch_plan,
        [
            ((10, 3, 8, 8), (6,)),
            ((4, 1, 5, 7), (9,)),
            ((3, 3, 4, 4), (0,)),
            ((64, 3, 32, 32), (128,)),
        ],
        grad=(),
        make=_make_plan,
        layouts=False,
        label="plan",
    ),
]
