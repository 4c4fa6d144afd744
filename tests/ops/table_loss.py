"""Rows for losses (src/core/ops/loss.cpp): cross_entropy and nll_loss over int64 targets."""

import mytensor as mt
import numpy as np
import torch.nn.functional as TF

from tests.ops.op_table import ErrorRow, Row, ones_on, tensor_on

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
        label="mean",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="sum"),
        lambda x, t: TF.cross_entropy(x, t, reduction="sum"),
        SHAPES[:5],
        make=class_inputs(),
        label="sum",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        lambda x, t: TF.cross_entropy(x, t, reduction="none"),
        SHAPES[:5],
        make=class_inputs(),
        label="none",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
        lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1),
        SHAPES[:3] + SHAPES[5:7],
        make=class_inputs(),
        label="smoothing0.1",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=1.0),
        lambda x, t: TF.cross_entropy(x, t, reduction="none", label_smoothing=1.0),
        SHAPES[:3],
        make=class_inputs(),
        label="none-smoothing1.0",
    ),
    # ignore_index: ignored targets give no loss and no gradient; "mean" divides by the others.
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t),
        lambda x, t: TF.cross_entropy(x, t),
        [((8, 6), (8,)), ((3, 5, 4, 2), (3, 4, 2)), ((7000, 10), (7000,))],
        make=class_inputs(-100),
        label="ignore-100",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, ignore_index=2, label_smoothing=0.2),
        lambda x, t: TF.cross_entropy(x, t, ignore_index=2, label_smoothing=0.2),
        [((8, 6), (8,)), ((3, 5, 4, 2), (3, 4, 2))],
        make=class_inputs(2),
        label="ignore2-smoothing0.2",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="sum", ignore_index=-1, label_smoothing=0.3),
        lambda x, t: TF.cross_entropy(x, t, reduction="sum", ignore_index=-1, label_smoothing=0.3),
        [((8, 6), (8,))],
        make=class_inputs(-1),
        label="sum-ignore-1-smoothing0.3",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        lambda x, t: TF.cross_entropy(x, t, reduction="none"),
        [((8, 6), (8,))],
        make=class_inputs(-100, frac=1.0),
        label="none-all-ignored",
    ),
    Row(
        "cross_entropy",
        lambda x, t: F.cross_entropy(x * 300, t),
        lambda x, t: TF.cross_entropy(x * 300, t),
        [((4, 10), (4,))],
        make=class_inputs(),
        gradcheck=False,
        label="large-logits",
    ),  # large logits: the lse shift keeps exp finite
    # nll_loss on arbitrary values (it is linear in them) and composed with log_softmax.
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(x, t),
        lambda x, t: TF.nll_loss(x, t),
        SHAPES,
        make=class_inputs(),
        covers=("nll_loss_backward",),
        label="mean",
    ),
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(x, t, reduction="none"),
        lambda x, t: TF.nll_loss(x, t, reduction="none"),
        SHAPES[:5],
        make=class_inputs(),
        label="none",
    ),
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(x, t, reduction="sum", ignore_index=1),
        lambda x, t: TF.nll_loss(x, t, reduction="sum", ignore_index=1),
        [((8, 6), (8,)), ((3, 5, 4, 2), (3, 4, 2))],
        make=class_inputs(1),
        label="sum-ignore1",
    ),
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(x, t),
        lambda x, t: TF.nll_loss(x, t),
        [((8, 6), (8,)), ((3, 5, 4, 2), (3, 4, 2))],
        make=class_inputs(-100),
        label="ignore-100",
    ),
    Row(
        "nll_loss",
        lambda x, t: F.nll_loss(F.log_softmax(x, 1), t),
        lambda x, t: TF.nll_loss(TF.log_softmax(x, 1), t),
        [((4, 10), (4,)), ((37, 129), (37,))],
        make=class_inputs(),
        label="of-log_softmax",
    ),
]

# Bad calls. CUDA kernels check target values themselves and report a bad one at the next
# synchronize, with another message (src/cuda/device.cpp), so the out-of-bounds rows run on the
# CPU.
_ON_DEVICE = "CUDA checks target values in the kernel and reports them at the next synchronize"


def _targets(d, values):
    return tensor_on(d, values, dtype=np.int64)


def _ce_backward_bad_grad(d):
    x, t = ones_on(d, 4, 10), _targets(d, [0, 1, 2, 3])
    _loss, lse = mt._C.cross_entropy(x._impl, t._impl, "mean", -100, 0.0)
    g = ones_on(d, 4)  # "mean" gives a 0-d loss, so a 0-d grad
    return mt._C.cross_entropy_backward(g._impl, x._impl, t._impl, lse, "mean", -100, 0.0)


ERRORS = [
    ErrorRow(
        "cross_entropy-target-too-large",
        lambda d: F.cross_entropy(ones_on(d, 4, 10), _targets(d, [1, 2, 12, 3])),
        IndexError,
        r"\[cross_entropy\] target 12 is out of bounds for 10 classes",
        cpu_only=_ON_DEVICE,
    ),
    ErrorRow(
        "cross_entropy-target-negative",
        lambda d: F.cross_entropy(ones_on(d, 4, 10), _targets(d, [1, -1, 2, 3])),
        IndexError,
        r"\[cross_entropy\] target -1 is out of bounds for 10 classes",
        cpu_only=_ON_DEVICE,
    ),
    ErrorRow(
        "cross_entropy-target-too-large-nd",
        lambda d: F.cross_entropy(ones_on(d, 2, 3, 4), _targets(d, [[0, 1, 2, 3], [0, 0, 0, 0]])),
        IndexError,
        r"\[cross_entropy\] target 3 is out of bounds for 3 classes",
        cpu_only=_ON_DEVICE,
    ),
    ErrorRow(
        "nll_loss-target-too-large",
        lambda d: F.nll_loss(ones_on(d, 2, 3), _targets(d, [0, 5])),
        IndexError,
        r"\[nll_loss\] target 5 is out of bounds for 3 classes",
        cpu_only=_ON_DEVICE,
    ),
    ErrorRow(
        "cross_entropy-target-batch-size",
        lambda d: F.cross_entropy(ones_on(d, 4, 10), _targets(d, [1, 2, 3])),
        mt.ShapeError,
        (
            r"\[cross_entropy\] expected target of shape \(4,\) for logits of shape \(4, 10\), got "
            r"target of shape \(3,\)"
        ),
    ),
    ErrorRow(
        "cross_entropy-target-shape-nd",
        lambda d: F.cross_entropy(ones_on(d, 2, 3, 4), _targets(d, [[0, 1, 2], [0, 0, 0]])),
        mt.ShapeError,
        (
            r"expected target of shape \(2, 4\) for logits of shape \(2, 3, 4\), got target of "
            r"shape \(2, 3\)"
        ),
    ),
    ErrorRow(
        "cross_entropy-target-extra-dim",
        lambda d: F.cross_entropy(ones_on(d, 4, 10), _targets(d, [[1], [2], [3], [4]])),
        mt.ShapeError,
        r"got target of shape \(4, 1\)",
    ),
    ErrorRow(
        "cross_entropy-unbatched-target-shape",
        lambda d: F.cross_entropy(ones_on(d, 10), _targets(d, [1])),
        mt.ShapeError,
        r"expected target of shape \(\) for logits of shape \(10,\)",
    ),
    ErrorRow(
        "cross_entropy-0d-logits",
        lambda d: F.cross_entropy(ones_on(d), _targets(d, 1)),
        mt.ShapeError,
        r"\[cross_entropy\] expected logits of shape \(C\), \(N, C\) or \(N, C, d1, \.\.\.\)",
    ),
    ErrorRow(
        "cross_entropy-float-targets",
        lambda d: F.cross_entropy(ones_on(d, 4, 10), ones_on(d, 4, 10)),
        mt.DTypeError,
        r"\[cross_entropy\] class-index targets must be int64, got float32",
    ),
    ErrorRow(
        "cross_entropy-int32-targets",
        lambda d: F.cross_entropy(ones_on(d, 4, 10), ones_on(d, 4, dtype=mt.int32)),
        mt.DTypeError,
        r"class-index targets must be int64, got int32",
    ),
    ErrorRow(
        "cross_entropy-int64-logits",
        lambda d: F.cross_entropy(ones_on(d, 4, 10, dtype=mt.int64), _targets(d, [0, 1, 2, 3])),
        mt.DTypeError,
        r"\[cross_entropy\] logits must be float32 or float64, got int64",
    ),
    ErrorRow(
        "nll_loss-float-targets",
        lambda d: F.nll_loss(ones_on(d, 2, 3), ones_on(d, 2)),
        mt.DTypeError,
        r"\[nll_loss\] class-index targets must be int64",
    ),
    ErrorRow(
        "cross_entropy-unknown-reduction",
        lambda d: F.cross_entropy(ones_on(d, 4, 10), _targets(d, [0, 1, 2, 3]), reduction="avg"),
        ValueError,
        r"\[cross_entropy\] reduction must be 'mean', 'sum' or 'none', got 'avg'",
    ),
    ErrorRow(
        "cross_entropy-label-smoothing-above-1",
        lambda d: F.cross_entropy(
            ones_on(d, 4, 10), _targets(d, [0, 1, 2, 3]), label_smoothing=1.5
        ),
        ValueError,
        r"\[cross_entropy\] label_smoothing must be in \[0, 1\], got 1.5",
    ),
    ErrorRow(
        "cross_entropy-class-weights",
        lambda d: F.cross_entropy(
            ones_on(d, 4, 10), _targets(d, [0, 1, 2, 3]), weight=ones_on(d, 10)
        ),
        ValueError,
        r"\[cross_entropy\] class weights are not supported",
    ),
    ErrorRow(
        "nll_loss-unknown-reduction",
        lambda d: F.nll_loss(ones_on(d, 2, 3), _targets(d, [0, 1]), reduction="mean_"),
        ValueError,
        r"\[nll_loss\] reduction must be",
    ),
    # The _C ops validate too (the Python wrappers may be bypassed).
    ErrorRow(
        "cross_entropy-native-unknown-reduction",
        lambda d: mt._C.cross_entropy(
            ones_on(d, 4, 10)._impl, _targets(d, [0, 1, 2, 3])._impl, "avg", -100, 0.0
        ),
        ValueError,
        r"\[cross_entropy\] reduction must be",
    ),
    ErrorRow(
        "cross_entropy-native-negative-label-smoothing",
        lambda d: mt._C.cross_entropy(
            ones_on(d, 4, 10)._impl, _targets(d, [0, 1, 2, 3])._impl, "mean", -100, -0.1
        ),
        ValueError,
        r"\[cross_entropy\] label_smoothing must be in",
    ),
    ErrorRow(
        "cross_entropy_backward-grad-shape",
        _ce_backward_bad_grad,
        mt.ShapeError,
        r"\[cross_entropy_backward\] expected grad of shape",
    ),
    ErrorRow(
        "nll_loss_backward-grad-shape",
        lambda d: mt._C.nll_loss_backward(
            ones_on(d)._impl, ones_on(d, 4, 10)._impl, _targets(d, [0, 1, 2, 3])._impl, "none", -100
        ),
        mt.ShapeError,
        r"\[nll_loss_backward\] expected grad of shape \(4,\)",
    ),
]
