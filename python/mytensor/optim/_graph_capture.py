"""The optimizers' side of CUDA graph capture: what a captured ``Optimizer.step`` registers with
the capture (mytensor.cuda.graph_hooks): the checks that its state exists, guards on the baked
hyper-parameters and on the identity of the tensors it updates, and the slots it reads."""

from __future__ import annotations

import numbers
from collections.abc import Callable

from mytensor._tensor import Tensor
from mytensor.cuda import graph_hooks
from mytensor.cuda.graph_hooks import GraphCaptureError


def capture_group(opt, capture, group: dict, params: list, state_keys: tuple) -> dict:
    """For the params of ``opt``'s ``group`` about to be stepped inside ``capture``: checks that
    they are on the GPU and that their ``state_keys`` state exists, guards ``opt._graph_baked``
    and the identity of the params and their state tensors, and returns the slot keywords of the
    native call (one per entry of ``opt._graph_slot_values``)."""
    cls = type(opt).__name__
    gi = next(i for i, g in enumerate(opt.param_groups) if g is group)
    capture.register(opt)
    for p in params:
        if not p.is_cuda:
            raise GraphCaptureError(
                f"[graphs] {cls}: param_groups[{gi}] holds a parameter on {p.device} inside a "
                "captured step: a replay runs CUDA work only; move the model to the GPU"
            )
        state = opt.state.get(p, {})
        missing = [k for k in state_keys if not isinstance(state.get(k), Tensor)]
        if missing:
            raise GraphCaptureError(
                f"[graphs] {cls}: the state {missing[0]!r} of a parameter of shape "
                f"{tuple(p.shape)} (param_groups[{gi}]) would be created inside the captured "
                "step, and re-created at every replay; take at least one optimizer step "
                "eagerly before capturing (make_graphed_step's warmup >= 1)"
            )
    read = ", ".join(repr(name) for name, _, _ in opt._graph_slot_values.values())
    graph_hooks.guard_values(
        capture,
        lambda: opt._graph_baked(group),
        owner=f"{cls} param_groups[{gi}]",
        hint=f"only {read} are read at every replay; make a new graphed step to change it",
        key=("optimizer hyper-parameters", id(opt), gi),
    )
    graph_hooks.guard_identity(capture, _identities(opt, params))
    slots = {}
    for kwarg, (name, get, valid) in opt._graph_slot_values.items():

        def value(name=name, get=get, valid=valid) -> float:
            v = get(group)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not valid(v):
                raise ValueError(f"[{cls}] invalid {name} {v!r} in param_groups[{gi}]")
            return float(v)

        slots[kwarg] = capture.add_slot(value, key=(kwarg, id(opt), gi))
    return slots


def _identities(opt, params: list) -> list:
    """(current, captured, message) of every storage the captured step updates: each param's,
    then its state tensors' (the graph keeps updating the captured ones if they are replaced)."""
    cls = type(opt).__name__

    def replaced(p, what: str, cause: str, old: str) -> Callable[[], str]:
        return lambda: (
            f"[graphs] {cls}: {what} of a parameter of shape {tuple(p.shape)} was replaced "
            f"since the capture ({cause}): the graph still updates the old {old}; make a new "
            "graphed step"
        )

    def param_impl(p) -> Callable[[], object]:
        return lambda: p._impl

    def state_impl(p, k) -> Callable[[], object]:
        def current():
            v = opt.state.get(p, {}).get(k)
            return v._impl if isinstance(v, Tensor) else None

        return current

    out = []
    for p in params:
        out.append(
            (
                param_impl(p),
                p._impl,
                replaced(p, "the data", "p.data = ..., module.to(...)?", "memory"),
            )
        )
        for k, v in opt.state.get(p, {}).items():
            if isinstance(v, Tensor):
                out.append(
                    (
                        state_impl(p, k),
                        v._impl,
                        replaced(p, f"the state {k!r}", "load_state_dict?", "tensor"),
                    )
                )
    return out
