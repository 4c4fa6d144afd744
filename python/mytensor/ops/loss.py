"""Losses: cross_entropy (fused with log-softmax) and nll_loss, over int64 class targets."""

from __future__ import annotations

from mytensor import _C
from mytensor.autograd.function import Function
from mytensor.ops._util import native

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target, reduction, ignore_index, label_smoothing):
        loss, lse = _C.cross_entropy(logits, target, reduction, ignore_index, label_smoothing)
        ctx.args = (reduction, ignore_index, label_smoothing)
        ctx.save_for_backward(logits, target, lse)
        return loss

    @staticmethod
    def backward(ctx, g):
        logits, target, lse = ctx.saved_tensors
        grad = native(_C.cross_entropy_backward, g, logits, target, lse, *ctx.args)
        return grad, None, None, None, None


class NllLoss(Function):
    @staticmethod
    def forward(ctx, logp, target, reduction, ignore_index):
        ctx.args = (reduction, ignore_index)
        ctx.save_for_backward(logp, target)
        return _C.nll_loss(logp, target, reduction, ignore_index)

    @staticmethod
    def backward(ctx, g):
        logp, target = ctx.saved_tensors
        return native(_C.nll_loss_backward, g, logp, target, *ctx.args), None, None, None


def _check_common(name, weight, reduction, size_average, reduce):
    if weight is not None:
        raise ValueError(f"[{name}] class weights are not supported; got weight={weight!r}")
    if size_average is not None or reduce is not None:
        raise ValueError(
            f"[{name}] size_average and reduce are deprecated and not supported; "
            "use reduction='mean' | 'sum' | 'none'"
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"[{name}] reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Cross entropy between logits and int64 class-index targets (log-softmax + NLL, fused).

    Args:
        input: logits of shape (C), (N, C) or (N, C, d1, ...).
        target: int64 class indices of shape (), (N) or (N, d1, ...), in [0, C) or ignore_index.
        ignore_index: targets equal to it contribute neither loss nor gradient; "mean" divides
            by the number of the other targets.
        reduction: "mean", "sum" or "none" (per-target losses of target's shape).
        label_smoothing: eps in [0, 1]; loss = (1-eps) * nll + eps * mean over classes of -logp.

    Returns:
        The loss: 0-d for "mean"/"sum", target's shape for "none".
    """
    _check_common("cross_entropy", weight, reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"[cross_entropy] label_smoothing must be in [0, 1], got {label_smoothing}"
        )
    return CrossEntropy.apply(input, target, reduction, int(ignore_index), float(label_smoothing))


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
):
    """Negative log-likelihood of int64 class targets given log-probabilities ``input``.

    Shapes and ``ignore_index`` / ``reduction`` as :func:`cross_entropy`.
    """
    _check_common("nll_loss", weight, reduction, size_average, reduce)
    return NllLoss.apply(input, target, reduction, int(ignore_index))
