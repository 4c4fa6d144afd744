"""Rows for losses: cross_entropy and nll_loss over int64 targets (src/core/ops/loss.cpp); the
losses composed in Python (python/mytensor/ops/loss.py, issue #14)."""

import mytensor as mt
import numpy as np
import torch.nn.functional as TF

from tests.ops.op_table import ErrorRow, Row, kwargs_label, ones_on, tensor_on

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

# Losses composed from elementwise ops and reductions (issue #14): rows named after the
# functional (tests/test_op_coverage.py COMPOSED), every reduction, both inputs differentiated
# where PyTorch differentiates both.
PAIR_SHAPES = [
    ((4, 10), (4, 10)),
    ((10,), (10,)),
    ((), ()),
    ((3, 5, 4, 2), (3, 5, 4, 2)),
    ((0, 5), (0, 5)),
    ((37, 129), (37, 129)),
    ((7000, 10), (7000, 10)),
]


def uniform_pair(lo1, hi1, lo2, hi2):
    def make(shapes, rng, dtype):
        return [
            rng.uniform(lo1, hi1, shapes[0]).astype(dtype),
            rng.uniform(lo2, hi2, shapes[1]).astype(dtype),
        ]

    return make


def with_signs(shapes, rng, dtype):
    """Two inputs in [-2, 2] and a target of +-1 (the last shape)."""
    *xs, ys = shapes
    out = [rng.uniform(-2, 2, s).astype(dtype) for s in xs]
    return out + [np.asarray(rng.choice([-1.0, 1.0], size=ys)).astype(dtype)]


def _loss(name, kw, lib):
    fn = getattr(F if lib == "mt" else TF, name)
    return lambda *a: fn(*a, **kw)


_REGRESSION = [
    ("mse_loss", {}),
    ("l1_loss", {}),
    ("smooth_l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {}),
    ("huber_loss", {"delta": 0.3}),
]
_BINARY = [
    # input probabilities away from 0 and 1, where the log clamp would cut the gradient.
    ("binary_cross_entropy", {}, uniform_pair(0.02, 0.98, 0.0, 1.0)),
    # large logits: the stable form has no overflow.
    ("binary_cross_entropy_with_logits", {}, uniform_pair(-30.0, 30.0, 0.0, 1.0)),
    # input: log-probabilities; target: probabilities away from 0 (PyTorch's target gradient is
    # NaN at 0; see the "target-zeros" row).
    ("kl_div", {}, uniform_pair(-4.0, 0.0, 0.02, 1.0)),
    ("kl_div", {"log_target": True}, uniform_pair(-4.0, 0.0, -4.0, 0.0)),
]

for _name, _kw in _REGRESSION:
    for _red in ("mean", "sum", "none"):
        _args = dict(_kw, reduction=_red)
        ROWS.append(
            Row(
                _name,
                _loss(_name, _args, "mt"),
                _loss(_name, _args, "torch"),
                PAIR_SHAPES if _red == "mean" else PAIR_SHAPES[:5],
                grad=(0, 1),
                label=kwargs_label(_args),
            )
        )
# Every pair of edge values (NaN, +-inf, huge, tiny, the kink at beta/delta = 1): values and
# both gradients as PyTorch's, whose backward sends NaN through the quadratic piece.
_EDGE = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, 1e30, -1e30, 1e-30, 3.0]


def _edge_pairs(shapes, rng, dtype):
    a, b = np.meshgrid(_EDGE, _EDGE)
    n = int(np.prod(shapes[0]))
    return [np.resize(v.ravel(), n).reshape(shapes[0]).astype(dtype) for v in (a, b)]


for _name, _kw in _REGRESSION:
    _args = dict(_kw, reduction="none")
    ROWS.append(
        Row(
            _name,
            _loss(_name, _args, "mt"),
            _loss(_name, _args, "torch"),
            [((12, 12), (12, 12)), ((144,), (144,))],
            grad=(0, 1),
            make=_edge_pairs,
            gradcheck=False,
            label=kwargs_label(_args) + "-edges",
        )
    )
for _name, _kw, _make in _BINARY:
    for _red in ("mean", "sum", "none") + (("batchmean",) if _name == "kl_div" else ()):
        _args = dict(_kw, reduction=_red)
        ROWS.append(
            Row(
                _name,
                _loss(_name, _args, "mt"),
                _loss(_name, _args, "torch"),
                PAIR_SHAPES if _red == "mean" else PAIR_SHAPES[:5],
                grad=(0, 1),
                make=_make,
                label=kwargs_label(_args),
            )
        )


def _bce_edges(shapes, rng, dtype):
    x = np.resize([0.0, 1.0, 0.5, 1e-30, 1 - 1e-7, 1e-3], shapes[0]).astype(dtype)
    t = np.resize([0.0, 1.0, 0.3, 1.0, 0.0, 1.0, 0.7], shapes[1]).astype(dtype)
    return [x, t]


def _logit_edges(shapes, rng, dtype):
    x = np.resize([1e4, -1e4, 0.0, 100.0, -100.0, np.inf, -np.inf, np.nan, 30.0], shapes[0])
    t = np.resize([1.0, 0.0, 0.5, 0.0, 1.0, 1.0, 0.0, 1.0, 0.2, 0.9, 0.0], shapes[1])
    return [x.astype(dtype), t.astype(dtype)]


def _kl_target_zeros(shapes, rng, dtype):
    x = rng.uniform(-4, 0, shapes[0]).astype(dtype)
    t = rng.uniform(0, 1, shapes[1])
    t[..., ::3] = 0.0
    return [x, t.astype(dtype)]


def _kl_signed_targets(shapes, rng, dtype):
    x = rng.uniform(-4, 0, shapes[0]).astype(dtype)
    t = np.resize([0.0, -0.5, 0.3, np.nan, 1.0, -0.0], shapes[1])
    return [x, t.astype(dtype)]


def _weights(shapes, rng, dtype):
    return [
        rng.uniform(-5, 5, shapes[0]).astype(dtype),
        rng.uniform(0, 1, shapes[1]).astype(dtype),
        rng.uniform(0.1, 3, shapes[2]).astype(dtype),
    ]


def _probs_weights(shapes, rng, dtype):
    x, t, w = _weights(shapes, rng, dtype)
    return [rng.uniform(0.02, 0.98, shapes[0]).astype(dtype), t, w]


WEIGHT_SHAPES = [((4, 10), (4, 10), (10,)), ((3, 5), (3, 5), (3, 5)), ((2, 3, 4), (2, 3, 4), ())]
ROWS += [
    # log(0) and log(1 - 1) are clamped at -100: finite losses (values only; PyTorch's gradient
    # there divides by max(x * (1 - x), 1e-12), the composed one is cut by the clamp).
    Row(
        "binary_cross_entropy",
        lambda x, t: F.binary_cross_entropy(x, t, reduction="none"),
        lambda x, t: TF.binary_cross_entropy(x, t, reduction="none"),
        [((2, 6), (2, 6)), ((7,), (7,))],
        grad=(),
        make=_bce_edges,
        label="edges",
    ),
    Row(
        "binary_cross_entropy",
        lambda x, t, w: F.binary_cross_entropy(x, t, weight=w),
        lambda x, t, w: TF.binary_cross_entropy(x, t, weight=w),
        WEIGHT_SHAPES,
        grad=(0, 1),
        make=_probs_weights,
        label="weight",
    ),
    Row(
        "binary_cross_entropy_with_logits",
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
        lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction="none"),
        [((3, 3), (3, 3)), ((11,), (11,))],
        make=_logit_edges,
        gradcheck=False,
        label="edges",
    ),
    Row(
        "binary_cross_entropy_with_logits",
        lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, weight=w),
        lambda x, t, w: TF.binary_cross_entropy_with_logits(x, t, weight=w),
        WEIGHT_SHAPES,
        grad=(0, 1),
        make=_weights,
        label="weight",
    ),
    Row(
        "binary_cross_entropy_with_logits",
        lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, pos_weight=w, reduction="sum"),
        lambda x, t, w: TF.binary_cross_entropy_with_logits(x, t, pos_weight=w, reduction="sum"),
        WEIGHT_SHAPES,
        grad=(0, 1),
        make=_weights,
        label="pos_weight",
    ),
    Row(
        "kl_div",
        lambda x, t: F.kl_div(x, t, reduction="batchmean"),
        lambda x, t: TF.kl_div(x, t, reduction="batchmean"),
        [((4, 10), (4, 10)), ((3, 5, 4), (3, 5, 4))],
        make=_kl_target_zeros,
        label="target-zeros",
    ),
    # xlogy(t, t): 0 at t = 0, NaN for a negative or NaN target, as PyTorch.
    Row(
        "kl_div",
        lambda x, t: F.kl_div(x, t, reduction="none"),
        lambda x, t: TF.kl_div(x, t, reduction="none"),
        [((2, 6), (2, 6)), ((7,), (7,))],
        make=_kl_signed_targets,
        gradcheck=False,
        label="signed-targets",
    ),
    Row(
        "margin_ranking_loss",
        lambda a, b, y: F.margin_ranking_loss(a, b, y),
        lambda a, b, y: TF.margin_ranking_loss(a, b, y),
        [((4, 10), (4, 10), (4, 10)), ((9,), (9,), (9,)), ((), (), ()), ((0,), (0,), (0,))],
        grad=(0, 1),
        make=with_signs,
        label="mean",
    ),
    Row(
        "margin_ranking_loss",
        lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.5, reduction="sum"),
        lambda a, b, y: TF.margin_ranking_loss(a, b, y, margin=0.5, reduction="sum"),
        [((4, 10), (4, 10), (4, 10)), ((37, 129), (37, 129), (37, 129))],
        grad=(0, 1),
        make=with_signs,
        label="margin0.5-sum",
    ),
    Row(
        "margin_ranking_loss",
        lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=-0.2, reduction="none"),
        lambda a, b, y: TF.margin_ranking_loss(a, b, y, margin=-0.2, reduction="none"),
        [((4, 10), (4, 10), (4, 10)), ((9,), (9,), (9,))],
        grad=(0, 1),
        make=with_signs,
        label="margin-0.2-none",
    ),
    Row(
        "cosine_embedding_loss",
        lambda a, b, y: F.cosine_embedding_loss(a, b, y),
        lambda a, b, y: TF.cosine_embedding_loss(a, b, y),
        [
            ((4, 10), (4, 10), (4,)),
            ((7,), (7,), ()),
            ((1, 3), (1, 3), (1,)),
            ((37, 129), (37, 129), (37,)),
        ],
        grad=(0, 1),
        make=with_signs,
        label="mean",
    ),
    Row(
        "cosine_embedding_loss",
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.3, reduction="sum"),
        lambda a, b, y: TF.cosine_embedding_loss(a, b, y, margin=0.3, reduction="sum"),
        [((4, 10), (4, 10), (4,)), ((7,), (7,), ())],
        grad=(0, 1),
        make=with_signs,
        label="margin0.3-sum",
    ),
    Row(
        "cosine_embedding_loss",
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=-0.5, reduction="none"),
        lambda a, b, y: TF.cosine_embedding_loss(a, b, y, margin=-0.5, reduction="none"),
        [((4, 10), (4, 10), (4,)), ((6, 3), (6, 3), (6,))],
        grad=(0, 1),
        make=with_signs,
        label="margin-0.5-none",
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
    # issue #14: the composed losses check shapes, reductions and hyper-parameters.
    ErrorRow(
        "mse_loss-shape-mismatch",
        lambda d: F.mse_loss(ones_on(d, 4, 3), ones_on(d, 4, 1)),
        mt.ShapeError,
        r"\[mse_loss\] input and target must have the same shape: input is \(4, 3\), target is "
        r"\(4, 1\)",
    ),
    ErrorRow(
        "l1_loss-unknown-reduction",
        lambda d: F.l1_loss(ones_on(d, 2), ones_on(d, 2), reduction="avg"),
        ValueError,
        r"\[l1_loss\] reduction must be one of 'mean', 'sum', 'none', got 'avg'",
    ),
    ErrorRow(
        "smooth_l1_loss-negative-beta",
        lambda d: F.smooth_l1_loss(ones_on(d, 2), ones_on(d, 2), beta=-1.0),
        ValueError,
        r"\[smooth_l1_loss\] beta must be >= 0, got -1.0",
    ),
    ErrorRow(
        "huber_loss-zero-delta",
        lambda d: F.huber_loss(ones_on(d, 2), ones_on(d, 2), delta=0.0),
        ValueError,
        r"\[huber_loss\] delta must be > 0, got 0.0",
    ),
    ErrorRow(
        "binary_cross_entropy-shape-mismatch",
        lambda d: F.binary_cross_entropy(ones_on(d, 3), ones_on(d, 3, 1)),
        mt.ShapeError,
        r"\[binary_cross_entropy\] input and target must have the same shape",
    ),
    ErrorRow(
        "binary_cross_entropy-input-above-1",
        lambda d: F.binary_cross_entropy(tensor_on(d, [0.5, 1.5]), ones_on(d, 2)),
        RuntimeError,
        r"\[binary_cross_entropy\] all elements of input should be between 0 and 1, got 1 "
        r"outside",
        cpu_only="the range check would synchronise on CUDA: skipped there (NaN loss)",
    ),
    ErrorRow(
        "binary_cross_entropy-input-nan",
        lambda d: F.binary_cross_entropy(tensor_on(d, [np.nan, 0.5, -0.1]), ones_on(d, 3)),
        RuntimeError,
        r"\[binary_cross_entropy\] all elements of input should be between 0 and 1, got 2 ",
        cpu_only="the range check would synchronise on CUDA: skipped there (NaN loss)",
    ),
    ErrorRow(
        "binary_cross_entropy-weight-shape",
        lambda d: F.binary_cross_entropy(ones_on(d, 2, 3), ones_on(d, 2, 3), weight=ones_on(d, 2)),
        mt.ShapeError,
        r"\[binary_cross_entropy\] weight of shape \(2,\) does not broadcast to the loss of "
        r"shape \(2, 3\)",
    ),
    ErrorRow(
        "binary_cross_entropy_with_logits-pos_weight-shape",
        lambda d: F.binary_cross_entropy_with_logits(
            ones_on(d, 2, 3), ones_on(d, 2, 3), pos_weight=ones_on(d, 4)
        ),
        mt.ShapeError,
        r"\[binary_cross_entropy_with_logits\] pos_weight of shape \(4,\) does not broadcast",
    ),
    ErrorRow(
        "binary_cross_entropy_with_logits-int-input",
        lambda d: F.binary_cross_entropy_with_logits(ones_on(d, 2, dtype=mt.int64), ones_on(d, 2)),
        mt.DTypeError,
        r"\[binary_cross_entropy_with_logits\] input must be floating point, got int64",
    ),
    ErrorRow(
        "kl_div-unknown-reduction",
        lambda d: F.kl_div(ones_on(d, 2), ones_on(d, 2), reduction="batch"),
        ValueError,
        r"\[kl_div\] reduction must be one of 'mean', 'sum', 'none', 'batchmean', got 'batch'",
    ),
    ErrorRow(
        "margin_ranking_loss-target-shape",
        lambda d: F.margin_ranking_loss(ones_on(d, 3), ones_on(d, 3), ones_on(d, 2)),
        mt.ShapeError,
        r"\[margin_ranking_loss\] input and target must have the same shape: input is \(3,\), "
        r"target is \(2,\)",
    ),
    ErrorRow(
        "margin_ranking_loss-input2-shape",
        lambda d: F.margin_ranking_loss(ones_on(d, 3), ones_on(d, 4), ones_on(d, 3)),
        mt.ShapeError,
        r"\[margin_ranking_loss\] input and input2 must have the same shape",
    ),
    ErrorRow(
        "cosine_embedding_loss-target-shape",
        lambda d: F.cosine_embedding_loss(ones_on(d, 4, 3), ones_on(d, 4, 3), ones_on(d, 3)),
        mt.ShapeError,
        r"\[cosine_embedding_loss\] expected target of shape \(4,\) for inputs of shape "
        r"\(4, 3\), got \(3,\)",
    ),
    ErrorRow(
        "cosine_embedding_loss-3d-inputs",
        lambda d: F.cosine_embedding_loss(
            ones_on(d, 2, 4, 3), ones_on(d, 2, 4, 3), ones_on(d, 2, 4)
        ),
        mt.ShapeError,
        r"\[cosine_embedding_loss\] expected inputs of shape \(N, D\) or \(D\)",
    ),
    ErrorRow(
        "mse_loss-not-a-tensor",
        lambda d: F.mse_loss(ones_on(d, 2), [1.0, 2.0]),
        TypeError,
        r"\[mse_loss\] target must be a Tensor, got list",
    ),
]
