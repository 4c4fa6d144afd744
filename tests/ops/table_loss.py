"""Rows for losses (src/core/ops/loss.cpp): cross_entropy and nll_loss over int64 targets."""

import mytensor as mt
import numpy as np
import torch.nn.functional as TF

from tests.ops.op_table import Row

F = mt.nn.functional

# (logits, target) shapes: (N, C), unbatched (C), (N, C, d1, d2), empty batch, one class,
# odd sizes, and a batch large enough to be split across threads.
SHAPES = [
    ((4, 10), (4,)),
    ((10,), ()),
    ((3, 5, 4, 2), (3, 4, 2)),
    ((0, 5), (0,)),
    ((1, 1), (1,)),
    ((37, 129), (37,)),
    ((7000, 10), (7000,)),
    ((2, 3, 70), (2, 70)),
]


def class_inputs(ignore=None, frac=0.3):
    """Logits in [-3, 3] and int64 targets in [0, C); a fraction set to `ignore` if given."""

    def make(shapes, rng, dtype):
        (xs, ts) = shapes
        classes = xs[0] if len(xs) == 1 else xs[1]
        x = rng.uniform(-3, 3, xs).astype(dtype)
        t = rng.integers(0, classes, ts).astype(np.int64)
        if ignore is not None:
            t = np.where(rng.uniform(0, 1, ts) < frac, ignore, t).astype(np.int64)
            t.reshape(-1)[:1] = 0  # keep at least one target, so "mean" is defined
        return [x, np.asarray(t)]

    return make


ROWS = [
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t),
        lambda x, t: TF.cross_entropy(x, t),
        SHAPES,
        make=class_inputs(),
        covers=("cross_entropy_backward",),
        label="plain",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="sum"),
        lambda x, t: TF.cross_entropy(x, t, reduction="sum"),
        SHAPES[:5],
        make=class_inputs(),
        label="reduction_sum",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        lambda x, t: TF.cross_entropy(x, t, reduction="none"),
        SHAPES[:5],
        make=class_inputs(),
        label="reduction_none",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
        lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1),
        SHAPES[:3] + SHAPES[5:7],
        make=class_inputs(),
        label="label_smoothing_0.1",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=1.0),
        lambda x, t: TF.cross_entropy(x, t, reduction="none", label_smoothing=1.0),
        SHAPES[:3],
        make=class_inputs(),
        label="reduction_none_label_smoot",
    ),
    # ignore_index: ignored targets give no loss and no gradient; "mean" divides by the others.
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t),
        lambda x, t: TF.cross_entropy(x, t),
        [((8, 6), (8,)), ((3, 5, 4, 2), (3, 4, 2)), ((7000, 10), (7000,))],
        make=class_inputs(-100),
        label="plain-8x6x8",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, ignore_index=2, label_smoothing=0.2),
        lambda x, t: TF.cross_entropy(x, t, ignore_index=2, label_smoothing=0.2),
        [((8, 6), (8,)), ((3, 5, 4, 2), (3, 4, 2))],
        make=class_inputs(2),
        label="ignore_index_2_label_smoot",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="sum", ignore_index=-1, label_smoothing=0.3),
        lambda x, t: TF.cross_entropy(x, t, reduction="sum", ignore_index=-1, label_smoothing=0.3),
        [((8, 6), (8,))],
        make=class_inputs(-1),
        label="reduction_sum_ignore_index",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        lambda x, t: TF.cross_entropy(x, t, reduction="none"),
        [((8, 6), (8,))],
        make=class_inputs(-100, frac=1.0),
        label="reduction_none-8x6x8",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x * 300, t),
        lambda x, t: TF.cross_entropy(x * 300, t),
        [((4, 10), (4,))],
        make=class_inputs(),
        gradcheck=False,
        label="300",
    ),  # large logits: the lse shift keeps exp finite
    # nll_loss on arbitrary values (it is linear in them) and composed with log_softmax.
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(x, t),
        lambda x, t: TF.nll_loss(x, t),
        SHAPES,
        make=class_inputs(),
        covers=("nll_loss_backward",),
        label="plain",
    ),
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(x, t, reduction="none"),
        lambda x, t: TF.nll_loss(x, t, reduction="none"),
        SHAPES[:5],
        make=class_inputs(),
        label="reduction_none",
    ),
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(x, t, reduction="sum", ignore_index=1),
        lambda x, t: TF.nll_loss(x, t, reduction="sum", ignore_index=1),
        [((8, 6), (8,)), ((3, 5, 4, 2), (3, 4, 2))],
        make=class_inputs(1),
        label="reduction_sum_ignore_index_1",
    ),
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(x, t),
        lambda x, t: TF.nll_loss(x, t),
        [((8, 6), (8,)), ((3, 5, 4, 2), (3, 4, 2))],
        make=class_inputs(-100),
        label="plain-8x6x8",
    ),
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(F.log_softmax(x, 1), t),
        lambda x, t: TF.nll_loss(TF.log_softmax(x, 1), t),
        [((4, 10), (4,)), ((37, 129), (37,))],
        make=class_inputs(),
        label="log_softmax_1",
    ),
]
