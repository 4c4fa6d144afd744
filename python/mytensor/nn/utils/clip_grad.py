"""Gradient clipping: clip_grad_norm_ and clip_grad_value_, as torch.nn.utils."""

from __future__ import annotations

import math

from mytensor._tensor import Tensor
from mytensor.autograd.grad_mode import no_grad


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scales the gradients in place so that their joint norm is at most `max_norm`.

    The norm is taken over all gradients together, as if concatenated into one vector. Nothing
    is read back to the host (unless error_if_nonfinite), so the step stays asynchronous.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed norm.
        norm_type: p of the p-norm; ``float('inf')`` for the max norm.
        error_if_nonfinite: raise if the total norm is nan or inf.

    Returns:
        The total norm before clipping (a 0-d tensor).
    """
    from mytensor.creation import tensor

    max_norm, norm_type = float(max_norm), float(norm_type)
    if max_norm < 0 or math.isnan(max_norm):
        raise ValueError(f"[clip_grad_norm_] max_norm must be non-negative, got {max_norm}")
    if not norm_type > 0:
        raise ValueError(f"[clip_grad_norm_] norm_type must be positive, got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return tensor(0.0)
    with no_grad():
        if math.isinf(norm_type):
            norms = [g.abs().amax().to(grads[0].dtype) for g in grads]
            total = norms[0]
            for n in norms[1:]:
                total = total.maximum(n.to(total.device))
        else:
            parts = [
                ((g.abs() ** norm_type).sum() if norm_type != 2.0 else (g * g).sum()).to(
                    grads[0].device
                )
                for g in grads
            ]
            total = parts[0]
            for part in parts[1:]:
                total = total + part
            total = total ** (1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(float(total.item())):
            raise RuntimeError(
                f"[clip_grad_norm_] the total norm of order {norm_type} of the "
                "gradients is non-finite, so it cannot be clipped; pass "
                "error_if_nonfinite=False to skip this check"
            )
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device, g.dtype))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamps every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
