"""SGD with momentum, dampening, Nesterov momentum and weight decay: one fused native call per
parameter group."""

from __future__ import annotations

from mytensor import _C
from mytensor.cuda.graph_hooks import current_capture
from mytensor.optim.optimizer import Optimizer


def _check_hyper(lr, momentum, dampening, weight_decay, nesterov) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= momentum:
        raise ValueError(f"Invalid momentum value: {momentum}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            f"Nesterov momentum requires a momentum and zero dampening, got "
            f"momentum={momentum}, dampening={dampening}"
        )


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (Sutskever et al., 2013 for the
    Nesterov form), as PyTorch defines it. With g the gradient (plus ``weight_decay * p``)::

        b = g                                     on the first step
        b = momentum * b + (1 - dampening) * g    afterwards
        g = g + momentum * b  (nesterov)   or   g = b
        p = p - lr * g

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: use Nesterov momentum.
        maximize: maximize the objective instead of minimizing it.
    """

    _graph_slot_values = {
        "lr_slot": ("lr", lambda g: g["lr"], lambda v: v >= 0),
        "momentum_slot": ("momentum", lambda g: g["momentum"], lambda v: v >= 0),
    }

    def _graph_baked(self, group: dict) -> dict:
        # Momentum itself is read from a slot; whether there is any is baked in.
        return {
            "['momentum'] != 0": group["momentum"] != 0,
            "['dampening']": group["dampening"],
            "['weight_decay']": group["weight_decay"],
            "['nesterov']": group["nesterov"],
            "['maximize']": group["maximize"],
        }

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach=None,
        differentiable: bool = False,
        fused=None,
    ) -> None:
        _check_hyper(lr, momentum, dampening, weight_decay, nesterov)
        if differentiable:
            raise ValueError("[SGD] differentiable=True is not supported")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        g = self.param_groups[-1]
        _check_hyper(g["lr"], g["momentum"], g["dampening"], g["weight_decay"], g["nesterov"])

    def _step_group(self, group: dict) -> None:
        from mytensor.creation import zeros_like

        use_momentum = group["momentum"] != 0
        graph = current_capture()
        buckets: dict = {}
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = p.grad if p.grad.dtype is p.dtype else p.grad.to(p.dtype)
            first = False
            if use_momentum and graph is None:
                state = self.state[p]
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = zeros_like(p)
                    first = True
            key = (p._impl.device.type, p._impl.device.index, p._impl.dtype, first)
            ps, gs, bs, params = buckets.setdefault(key, ([], [], [], []))
            ps.append(p._impl)
            gs.append(grad._impl)
            params.append(p)
            if use_momentum and self.state[p].get("momentum_buffer") is not None:
                bs.append(self.state[p]["momentum_buffer"]._impl)
        for (_, _, _, first), (ps, gs, bs, params) in buckets.items():
            slots = {}
            if graph is not None:
                # Momentum buffers must exist (the first step initialises them differently).
                keys = ("momentum_buffer",) if use_momentum else ()
                slots = self._capture_group(graph, group, params, keys)
            _C.sgd_step(
                ps,
                gs,
                bs,
                float(group["lr"]),
                float(group["momentum"]),
                float(group["dampening"]),
                float(group["weight_decay"]),
                bool(group["nesterov"]),
                first,
                bool(group["maximize"]),
                **slots,
            )
