"""Losses: cross_entropy (fused with log-softmax) and nll_loss over int64 class targets; the
regression, binary, divergence and ranking losses composed from elementwise ops."""

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


# ---- losses composed from elementwise ops and reductions (issue #14) -------------------------
# No kernels of their own: autograd and every backend work through the ops they are built from.
# Unlike PyTorch, which broadcasts a target of another shape with a warning for some of them,
# these raise a ShapeError when input and target shapes differ.
def _reduce(loss, reduction: str, name: str):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"[{name}] reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_reduction(name: str, reduction: str, extra: tuple = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        allowed = ", ".join(repr(r) for r in _REDUCTIONS + extra)
        raise ValueError(f"[{name}] reduction must be one of {allowed}, got {reduction!r}")


def _check_pair(name: str, input, target, what: str = "target", floating: bool = True) -> None:
    from mytensor._tensor import Tensor

    for label, t in (("input", input), (what, target)):
        if not isinstance(t, Tensor):
            raise TypeError(f"[{name}] {label} must be a Tensor, got {type(t).__name__}")
    if floating and not input.dtype.is_floating_point:
        raise _C.DTypeError(f"[{name}] input must be floating point, got {input.dtype.name}")
    if tuple(input.shape) != tuple(target.shape):
        raise _C.ShapeError(
            f"[{name}] input and {what} must have the same shape: input is "
            f"{tuple(input.shape)}, {what} is {tuple(target.shape)}"
        )


def _deprecated_args(name: str, size_average, reduce) -> None:
    if size_average is not None or reduce is not None:
        raise ValueError(
            f"[{name}] size_average and reduce are deprecated and not supported; "
            "use reduction='mean' | 'sum' | 'none'"
        )


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean squared error, ``(input - target) ** 2`` reduced.

    Args:
        input: a floating-point tensor.
        target: of input's shape (a mismatch raises ShapeError; PyTorch would broadcast with a
            warning).
        reduction: "mean", "sum" or "none" (elementwise losses, input's shape).
    """
    _deprecated_args("mse_loss", size_average, reduce)
    _check_reduction("mse_loss", reduction)
    _check_pair("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean absolute error, ``|input - target|`` reduced (gradient 0 where they are equal).

    Args:
        input: a floating-point tensor.
        target: of input's shape (a mismatch raises ShapeError).
        reduction: "mean", "sum" or "none".
    """
    _deprecated_args("l1_loss", size_average, reduce)
    _check_reduction("l1_loss", reduction)
    # Integer tensors are accepted for "none" and "sum", as in PyTorch ("mean" of them raises).
    _check_pair("l1_loss", input, target, floating=False)
    return _reduce((input - target).abs(), reduction, "l1_loss")


def smooth_l1_loss(
    input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0
):
    """Smooth L1: ``0.5 * d**2 / beta`` where ``d = |input - target| < beta``, else
    ``d - 0.5 * beta``; ``beta = 0`` is the L1 loss.

    Args:
        input: a floating-point tensor.
        target: of input's shape (a mismatch raises ShapeError).
        reduction: "mean", "sum" or "none".
        beta: the switch point, >= 0.
    """
    _deprecated_args("smooth_l1_loss", size_average, reduce)
    _check_reduction("smooth_l1_loss", reduction)
    _check_pair("smooth_l1_loss", input, target)
    beta = float(beta)
    if not beta >= 0.0:
        raise ValueError(f"[smooth_l1_loss] beta must be >= 0, got {beta}")
    d = (input - target).abs()
    if beta == 0.0:
        return _reduce(d, reduction, "smooth_l1_loss")
    from mytensor.ops.elementwise import where

    # The quadratic piece sees only its own values, so an infinite d leaves no NaN in the masked
    # gradient (PyTorch's is +-1 there); a NaN d takes the quadratic piece, whose gradient is
    # NaN, as PyTorch's.
    big = d >= beta
    dq = where(big, 0.0, d)
    loss = where(big, d - 0.5 * beta, (0.5 / beta) * dq * dq)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0):
    """Huber loss: ``0.5 * d**2`` where ``d = |input - target| < delta``, else
    ``delta * (d - 0.5 * delta)``.

    Args:
        input: a floating-point tensor.
        target: of input's shape (a mismatch raises ShapeError).
        reduction: "mean", "sum" or "none".
        delta: the switch point, > 0.
    """
    _check_reduction("huber_loss", reduction)
    _check_pair("huber_loss", input, target)
    delta = float(delta)
    if not delta > 0.0:
        raise ValueError(f"[huber_loss] delta must be > 0, got {delta}")
    from mytensor.ops.elementwise import where

    d = (input - target).abs()
    big = d >= delta  # the pieces see their own values, as in smooth_l1_loss
    dq = where(big, 0.0, d)
    loss = where(big, delta * (d - 0.5 * delta), 0.5 * dq * dq)
    return _reduce(loss, reduction, "huber_loss")


def _weighted(loss, weight, name: str, what: str = "weight"):
    if weight is None:
        return loss
    from mytensor._C import broadcast_shapes

    try:
        shape = tuple(broadcast_shapes(list(weight.shape), list(loss.shape)))
    except ValueError:
        shape = None
    if shape != tuple(loss.shape):
        raise _C.ShapeError(
            f"[{name}] {what} of shape {tuple(weight.shape)} does not broadcast to the loss of "
            f"shape {tuple(loss.shape)}"
        )
    return loss * weight


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"
):
    """Binary cross entropy between probabilities ``input`` and ``target`` in [0, 1]:
    ``-(t * log(x) + (1 - t) * log(1 - x))``, each log clamped at -100 as in PyTorch (so x = 0
    or 1 gives a finite loss). On the CPU an input value outside [0, 1], or NaN, raises
    RuntimeError, as in PyTorch; on CUDA that check would synchronise with the device (and could
    not run inside a captured graph), so it is skipped there and such an input gives NaN.

    Args:
        input: a floating-point tensor.
        target: of input's shape (a mismatch raises ShapeError).
        weight: optional, broadcast to input's shape, multiplies each element's loss.
        reduction: "mean", "sum" or "none".
    """
    _deprecated_args("binary_cross_entropy", size_average, reduce)
    _check_reduction("binary_cross_entropy", reduction)
    _check_pair("binary_cross_entropy", input, target)
    from mytensor.ops.elementwise import clamp, log

    # PyTorch checks the range (NaN fails it too): on the CPU, where reading it costs no sync.
    inside = input.numel() if input.is_cuda else ((input >= 0.0) * (input <= 1.0)).sum().item()
    if inside != input.numel():
        raise RuntimeError(
            "[binary_cross_entropy] all elements of input should be between 0 and 1, got "
            f"{input.numel() - inside} outside [0, 1] (or NaN)"
        )

    log_x = clamp(log(input), min=-100.0)
    log_1mx = clamp(log(1.0 - input), min=-100.0)
    loss = -(target * log_x + (1.0 - target) * log_1mx)
    return _reduce(
        _weighted(loss, weight, "binary_cross_entropy"), reduction, "binary_cross_entropy"
    )


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight=None,
):
    """Binary cross entropy on logits, ``-(p * t * log(sigmoid(x)) + (1 - t) * log(1 -
    sigmoid(x)))`` with ``p = pos_weight``, in the stable form
    ``(1 - t) * x + (1 + (p - 1) * t) * softplus(-x)`` (no overflow for large ``|x|``).

    Args:
        input: logits, a floating-point tensor.
        target: values in [0, 1] of input's shape (a mismatch raises ShapeError).
        weight: optional, broadcast to input's shape, multiplies each element's loss.
        reduction: "mean", "sum" or "none".
        pos_weight: optional weight of the positive term, broadcast along the last dim (one
            per class).
    """
    name = "binary_cross_entropy_with_logits"
    _deprecated_args(name, size_average, reduce)
    _check_reduction(name, reduction)
    _check_pair(name, input, target)
    from mytensor.ops.activation import _softplus

    sp = _softplus(-input)  # -log(sigmoid(x)), stable
    if pos_weight is not None:
        lw = _weighted(target, pos_weight, name, "pos_weight")  # p * t, checked to broadcast
        loss = (1.0 - target) * input + (1.0 + lw - target) * sp
    else:
        loss = (1.0 - target) * input + sp
    return _reduce(_weighted(loss, weight, name), reduction, name)


def kl_div(
    input,
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
):
    """Kullback-Leibler divergence, with ``input`` as log-probabilities:
    ``target * (log(target) - input)`` (0 where target is 0, NaN where it is negative), or
    ``exp(target) * (target - input)`` with ``log_target=True``.

    Args:
        input: a floating-point tensor.
        target: of input's shape (a mismatch raises ShapeError).
        reduction: "mean" (over all elements, as PyTorch's — not the true KL divergence),
            "batchmean" (sum / input.size(0), the divergence per sample), "sum" or "none".
        log_target: whether target holds log-probabilities.
    """
    _deprecated_args("kl_div", size_average, reduce)
    _check_reduction("kl_div", reduction, ("batchmean",))
    _check_pair("kl_div", input, target)
    from mytensor.ops.elementwise import exp, log, where

    if log_target:
        loss = exp(target) * (target - input)
    else:
        zero = target == 0
        # xlogy(t, t) as PyTorch: 0 where t is 0, t * log(t) elsewhere (NaN for t < 0 or NaN).
        # log sees 1 where t is 0, so the unused branch has no -inf (no NaN in the target's
        # gradient there; PyTorch's is NaN at 0).
        safe = where(zero, 1.0, target)
        loss = where(zero, target * 0.0, target * log(safe)) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction, "kl_div")


def margin_ranking_loss(
    input1,
    input2,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
):
    """``max(0, -target * (input1 - input2) + margin)``, target in {1, -1}.

    Args:
        input1: a floating-point tensor.
        input2: of input1's shape.
        target: +-1 of input1's shape (a mismatch raises ShapeError).
        margin: the margin.
        reduction: "mean", "sum" or "none".
    """
    name = "margin_ranking_loss"
    _deprecated_args(name, size_average, reduce)
    _check_reduction(name, reduction)
    _check_pair(name, input1, input2, "input2")
    _check_pair(name, input1, target)
    from mytensor.ops.elementwise import clamp

    loss = clamp(-target * (input1 - input2) + float(margin), min=0.0)
    return _reduce(loss, reduction, name)


# PyTorch's EPSILON in cosine_embedding_loss, added to both squared norms.
_COSINE_EPS = 1e-12


def cosine_embedding_loss(
    input1,
    input2,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
):
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1
    (0 for other target values), cos taken along the last dim.

    Args:
        input1: a floating-point tensor of shape (N, D) or (D).
        input2: of input1's shape.
        target: shape (N) or () (a mismatch raises ShapeError).
        margin: in [-1, 1].
        reduction: "mean", "sum" or "none" (losses of target's shape).
    """
    name = "cosine_embedding_loss"
    _deprecated_args(name, size_average, reduce)
    _check_reduction(name, reduction)
    _check_pair(name, input1, input2, "input2")
    if input1.ndim not in (1, 2):
        raise _C.ShapeError(
            f"[{name}] expected inputs of shape (N, D) or (D), got {tuple(input1.shape)}"
        )
    if tuple(target.shape) != tuple(input1.shape[:-1]):
        raise _C.ShapeError(
            f"[{name}] expected target of shape {tuple(input1.shape[:-1])} for inputs of shape "
            f"{tuple(input1.shape)}, got {tuple(target.shape)}"
        )
    from mytensor.ops.elementwise import clamp, sqrt, where

    dot = (input1 * input2).sum(-1)
    m1 = (input1 * input1).sum(-1) + _COSINE_EPS
    m2 = (input2 * input2).sum(-1) + _COSINE_EPS
    cos = dot / sqrt(m1 * m2)
    zero = cos * 0.0
    pos = where(target == 1, 1.0 - cos, zero)
    neg = where(target == -1, clamp(cos - float(margin), min=0.0), zero)
    return _reduce(pos + neg, reduction, name)
