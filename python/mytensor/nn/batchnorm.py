"""Batch normalisation: BatchNorm1d and BatchNorm2d (Ioffe & Szegedy, 2015)."""

from __future__ import annotations

import numbers

from mytensor import _C
from mytensor._dtype import int64
from mytensor.autograd.grad_mode import no_grad
from mytensor.creation import ones, tensor, zeros
from mytensor.nn import functional as F
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


class _BatchNorm(Module):
    _dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if (
            not isinstance(num_features, numbers.Integral)
            or isinstance(num_features, bool)
            or num_features <= 0
        ):
            raise ValueError(
                f"[{name}] num_features must be a positive integer, got {num_features!r}"
            )
        if not isinstance(eps, numbers.Real) or not eps > 0:
            raise ValueError(f"[{name}] eps must be positive, got {eps!r}")
        if momentum is not None and (
            not isinstance(momentum, numbers.Real) or not 0.0 <= momentum <= 1.0
        ):
            raise ValueError(f"[{name}] momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features: int = int(num_features)
        self.eps: float = float(eps)
        self.momentum: float | None = momentum
        self.affine: bool = affine
        self.use_bias: bool = bool(affine and bias)
        self.track_running_stats: bool = track_running_stats
        self.weight: Parameter | None
        self.bias: Parameter | None
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if self.use_bias:
            self.bias = Parameter(zeros(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1.0)
            if self.bias is not None:
                self.bias.zero_()

    def _check_input(self, x) -> None:
        name = type(self).__name__
        if x.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise _C.ShapeError(
                f"[{name}] expected {want} input, got {x.ndim}D input of shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise _C.ShapeError(
                f"[{name}] expected {self.num_features} channels in dim 1, got "
                f"input of shape {tuple(x.shape)}"
            )

    def forward(self, x):
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        # Batch statistics in training, and in eval when no running stats are kept.
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.use_bias}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over a (N, C) or (N, C, L) input, per channel C.

    In training, normalises with the batch's mean and biased variance and updates
    ``running_mean``/``running_var`` (unbiased) with ``momentum``; in eval, uses the running stats.

    Args:
        num_features: C.
        eps: added to the variance (default 1e-5).
        momentum: weight of the new batch in the running stats (default 0.1); None for a
            cumulative average.
        affine: learn a per-channel scale (``weight``) and shift (``bias``).
        bias: with affine, learn the shift too (default True; keyword-only, as in PyTorch).
        track_running_stats: keep running stats (else batch stats are used in eval too).
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over an (N, C, H, W) input, per channel C (see BatchNorm1d)."""

    _dims = (4,)
