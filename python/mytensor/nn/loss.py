"""Loss layers: CrossEntropyLoss."""

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
