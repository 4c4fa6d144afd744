"""Adam and AdamW, each step one fused native call per parameter group."""

from __future__ import annotations

from mytensor import _C
from mytensor._tensor import Tensor
from mytensor.cuda.graph_hooks import current_capture
from mytensor.optim.optimizer import Optimizer


def _check_hyper(lr, betas, eps, weight_decay) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair)")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015).

    For each parameter, with g its gradient (plus ``weight_decay * p`` when set) at step t::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2           (v_max = max(v_max, v) with amsgrad)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    in the order of operations of PyTorch's single-tensor Adam, so steps agree to float rounding.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square.
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        amsgrad: use the maximum of past squared-gradient averages (Reddi et al., 2018).
        maximize: maximize the objective instead of minimizing it.
    """

    _decoupled = False
    _graph_slot_values = {
        "lr_slot": ("lr", lambda g: g["lr"], lambda v: v >= 0),
        "beta1_slot": ("betas[0]", lambda g: g["betas"][0], lambda v: 0 <= v < 1),
    }

    def _graph_baked(self, group: dict) -> dict:
        return {
            "['betas'][1]": group["betas"][1],
            "['eps']": group["eps"],
            "['weight_decay']": group["weight_decay"],
            "['amsgrad']": group["amsgrad"],
            "['maximize']": group["maximize"],
        }

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach=None,
        capturable: bool = False,
        differentiable: bool = False,
        fused=None,
    ) -> None:
        _check_hyper(lr, betas, eps, weight_decay)
        if differentiable:
            raise ValueError(f"[{type(self).__name__}] differentiable=True is not supported")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        g = self.param_groups[-1]
        _check_hyper(g["lr"], g["betas"], g["eps"], g["weight_decay"])

    def _step_group(self, group: dict) -> None:
        amsgrad = group["amsgrad"]
        graph = current_capture()
        # One native call per (device, dtype, step): normally the whole group at once.
        buckets: dict = {}
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if graph is not None:
                # The state must exist already (_capture_group checks); the step count advances
                # in a replay hook, after each replay.
                step = state.get("step", 0) + 1
            elif not state:
                from mytensor.creation import zeros_like

                state["step"] = 0
                state["exp_avg"] = zeros_like(p)
                state["exp_avg_sq"] = zeros_like(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = zeros_like(p)
            elif amsgrad and "max_exp_avg_sq" not in state:
                from mytensor.creation import zeros_like

                state["max_exp_avg_sq"] = zeros_like(p)
            if graph is None:
                state["step"] += 1
                step = state["step"]
            grad = p.grad if p.grad.dtype is p.dtype else p.grad.to(p.dtype)
            key = (p._impl.device.type, p._impl.device.index, p._impl.dtype, step)
            lists = buckets.setdefault(key, ([], [], [], [], [], []))
            lists[0].append(p._impl)
            lists[1].append(grad._impl)
            if graph is None or isinstance(state.get("exp_avg"), Tensor):
                lists[2].append(state["exp_avg"]._impl)
                lists[3].append(state["exp_avg_sq"]._impl)
                if amsgrad:
                    lists[4].append(state["max_exp_avg_sq"]._impl)
            lists[5].append(p)
        beta1, beta2 = group["betas"]
        for (_, _, _, step), (ps, gs, ms, vs, vmaxs, params) in buckets.items():
            slots = {}
            if graph is not None:
                keys = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
                slots = self._capture_group(graph, group, params, keys)
                slots["step_slot"] = graph.add_slot(
                    lambda p0=params[0]: float(self.state[p0]["step"] + 1)  # type: ignore[misc]
                )
                graph.add_hook(lambda params=params: self._advance_steps(params))  # type: ignore[misc]
            _C.adam_step(
                ps,
                gs,
                ms,
                vs,
                vmaxs,
                float(group["lr"]),
                float(beta1),
                float(beta2),
                float(group["eps"]),
                float(group["weight_decay"]),
                int(step),
                self._decoupled,
                bool(amsgrad),
                bool(group["maximize"]),
                **slots,
            )

    def _advance_steps(self, params) -> None:
        """After a replay of a captured step: the step counts the replay took."""
        for p in params:
            self.state[p]["step"] += 1


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019): Adam
    whose weight decay shrinks the parameter directly, ``p = p * (1 - lr * weight_decay)``,
    before the Adam update, instead of being added to the gradient.

    Args: as :class:`Adam`, with ``weight_decay`` defaulting to 1e-2.
    """

    _decoupled = True

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach=None,
        capturable: bool = False,
        differentiable: bool = False,
        fused=None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
        )
