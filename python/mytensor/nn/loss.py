"""Loss layers: CrossEntropyLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss,
BCEWithLogitsLoss, KLDivLoss, MarginRankingLoss, CosineEmbeddingLoss."""

from __future__ import annotations

import numbers

from mytensor.nn import functional as F
from mytensor.nn.module import Module

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropyLoss(Module):
    """Cross-entropy between logits (N, C) and class indices (N), fused with log-softmax.

    Args:
        weight: per-class weights; not supported (must be None).
        ignore_index: targets equal to it contribute nothing (default -100).
        reduction: "mean" (over non-ignored targets), "sum" or "none".
        label_smoothing: in [0, 1]; the target becomes (1 - s) * one_hot + s / C.
    """

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        if weight is not None:
            raise ValueError("[CrossEntropyLoss] class weights (weight=...) are not supported")
        if size_average is not None or reduce is not None:
            raise ValueError(
                "[CrossEntropyLoss] size_average and reduce are deprecated; use "
                "reduction='mean' | 'sum' | 'none'"
            )
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"[CrossEntropyLoss] {reduction!r} is not a valid value for "
                f"reduction (expected one of {', '.join(_REDUCTIONS)})"
            )
        if not isinstance(label_smoothing, numbers.Real) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"[CrossEntropyLoss] label_smoothing must be between 0.0 and 1.0, "
                f"got {label_smoothing!r}"
            )
        self.ignore_index = int(ignore_index)
        self.reduction = reduction
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


def _reduction(name: str, reduction: str, size_average=None, reduce=None, extra=()) -> str:
    if size_average is not None or reduce is not None:
        raise ValueError(
            f"[{name}] size_average and reduce are deprecated; use "
            "reduction='mean' | 'sum' | 'none'"
        )
    if reduction not in _REDUCTIONS + tuple(extra):
        raise ValueError(
            f"[{name}] {reduction!r} is not a valid value for reduction (expected one of "
            f"{', '.join(_REDUCTIONS + tuple(extra))})"
        )
    return reduction


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _reduction(type(self).__name__, reduction, size_average, reduce)


class MSELoss(_Loss):
    """Mean squared error, ``(input - target) ** 2`` reduced (see ``F.mse_loss``).

    Args:
        reduction: "mean", "sum" or "none".
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error, ``|input - target|`` reduced (see ``F.l1_loss``).

    Args:
        reduction: "mean", "sum" or "none".
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above (see ``F.smooth_l1_loss``).

    Args:
        reduction: "mean", "sum" or "none".
        beta: the switch point, >= 0 (default 1.0).
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        if not isinstance(beta, numbers.Real) or not float(beta) >= 0:
            raise ValueError(f"[SmoothL1Loss] beta must be >= 0, got {beta!r}")
        self.beta = float(beta)

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, ``delta``-scaled linear above (see ``F.huber_loss``).

    Args:
        reduction: "mean", "sum" or "none".
        delta: the switch point, > 0 (default 1.0).
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        if not isinstance(delta, numbers.Real) or not float(delta) > 0:
            raise ValueError(f"[HuberLoss] delta must be > 0, got {delta!r}")
        self.delta = float(delta)

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """Binary cross entropy between probabilities and targets in [0, 1] (see
    ``F.binary_cross_entropy``).

    Args:
        weight: optional per-element weight, broadcast to the input's shape.
        reduction: "mean", "sum" or "none".
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)  # a buffer, as in PyTorch: saved, moved by to()

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross entropy in one stable expression (see
    ``F.binary_cross_entropy_with_logits``).

    Args:
        weight: optional per-element weight, broadcast to the input's shape.
        reduction: "mean", "sum" or "none".
        pos_weight: optional weight of the positive term, one per class (last dim).
    """

    def __init__(
        self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        # Buffers, as in PyTorch: saved in the state dict and moved by to().
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class KLDivLoss(Module):
    """Kullback-Leibler divergence of ``target`` from log-probabilities ``input`` (see
    ``F.kl_div``).

    Args:
        reduction: "mean" (over elements, PyTorch's default), "batchmean" (the divergence per
            sample), "sum" or "none".
        log_target: whether target holds log-probabilities.
    """

    def __init__(
        self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False
    ) -> None:
        super().__init__()
        self.reduction = _reduction("KLDivLoss", reduction, size_average, reduce, ("batchmean",))
        self.log_target = bool(log_target)

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """``max(0, -y * (x1 - x2) + margin)`` (see ``F.margin_ranking_loss``).

    Args:
        margin: default 0.0.
        reduction: "mean", "sum" or "none".
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = float(margin)

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class CosineEmbeddingLoss(_Loss):
    """``1 - cos`` for target 1, ``max(0, cos - margin)`` for target -1 (see
    ``F.cosine_embedding_loss``).

    Args:
        margin: in [-1, 1], default 0.0.
        reduction: "mean", "sum" or "none".
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = float(margin)

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )
