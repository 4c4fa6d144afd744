"""``Optimizer``: parameter groups, per-parameter state, zero_grad and state dicts."""

from __future__ import annotations

import numbers
from collections import defaultdict

from mytensor._tensor import Tensor
from mytensor.autograd.engine import zero_grads
from mytensor.autograd.grad_mode import no_grad


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class of the optimizers.

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) each holding "params"
            and optional per-group hyper-parameters.
        defaults: the hyper-parameters a group takes when it does not set them.

    Subclasses implement :meth:`_step_group`, updating every parameter of a group through one fused
    native call.
    """

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of "
                f"Tensors or dicts, but got {type(params).__name__}"
            )
        param_groups = list(params)
        if not param_groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group: dict) -> None:
        """Adds a group of parameters, with hyper-parameters defaulting to the optimizer's."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, "
                "but the ordering of tensors in sets will change between runs; "
                "use a list instead"
            )
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but params[{i}] is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (params[{i}] of shape {p.shape})"
                )
            if not p.dtype.is_floating_point:
                raise TypeError(
                    f"optimizer can only optimize floating point Tensors, but "
                    f"params[{i}] is {p.dtype}"
                )
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required "
                    f"optimization parameter {name}"
                )
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all optimized tensors: to None (default), or to zeros."""
        zero_grads((p for g in self.param_groups for p in g["params"]), set_to_none)

    def step(self, closure=None):
        """Takes one step for every parameter that has a gradient (one fused native call per
        group, :meth:`_step_group`); returns ``closure()``'s loss when a closure is given."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group: dict) -> None:
        raise NotImplementedError

    def _closure_loss(self, closure):
        if closure is None:
            return None
        from mytensor.autograd.grad_mode import enable_grad

        with enable_grad():
            return closure()

    # ---- CUDA graphs (mytensor.optim._graph_capture) -------------------------------------------
    # What a captured step reads from graph slots at every replay: native-call keyword -> (group
    # key, value of a group, valid?); schedules may change these between replays.
    _graph_slot_values: dict = {
        "lr_slot": ("lr", lambda g: g["lr"], lambda v: v >= 0),
    }

    def _graph_baked(self, group: dict) -> dict:
        """Hyper-parameters the captured kernels bake in (guarded at every replay)."""
        return {}

    def _capture_group(self, capture, group: dict, params: list, state_keys: tuple) -> dict:
        """Inside a capture, for the params of `group` about to be stepped: registers the guards
        and slots of the step (see mytensor.optim._graph_capture) and returns the slot keywords
        of the native call (lr_slot, ...)."""
        from mytensor.optim._graph_capture import capture_group

        return capture_group(self, capture, group, params, state_keys)

    # ---- state dicts ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [...]}``, where parameters are
        numbered in group order (PyTorch's layout); state tensors are shared, not copied."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores hyper-parameters and state saved by :meth:`state_dict` (the parameters must
        be the same in number and shape, in the same group order)."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError(
                "[load_state_dict] expected a dict with 'state' and 'param_groups' "
                "as returned by Optimizer.state_dict()"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, this "
                f"optimizer has {len(self.param_groups)}"
            )
        for i, (g, sg) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group (group {i}) that "
                    f"has {len(sg['params'])} parameters, but this optimizer's has "
                    f"{len(g['params'])}"
                )
        id_map = {}
        for g, sg in zip(self.param_groups, saved_groups):
            for p, pid in zip(g["params"], sg["params"]):
                id_map[pid] = p
        saved_state = state_dict.get("state", {})
        new_state: defaultdict = defaultdict(dict)
        for key, value in saved_state.items():
            k = int(key) if isinstance(key, str) and key.isdigit() else key
            if k not in id_map:
                raise ValueError(
                    f"loaded state dict has state for parameter {key!r}, which "
                    "none of the parameter groups holds"
                )
            p = id_map[k]
            new_state[p] = {name: self._cast_state(p, name, v) for name, v in value.items()}
        self.state = new_state
        for g, sg in zip(self.param_groups, saved_groups):
            for key, value in sg.items():
                if key != "params":
                    g[key] = tuple(value) if isinstance(value, list) and key == "betas" else value

    @staticmethod
    def _cast_state(p: Tensor, name: str, value):
        """Moves a state tensor to its parameter's device and dtype (steps stay ints)."""
        if name == "step":
            if isinstance(value, Tensor) or hasattr(value, "item"):
                value = value.item()
            if not isinstance(value, numbers.Real):
                raise TypeError(f"state 'step' must be a number, got {type(value).__name__}")
            return int(value)  # type: ignore[call-overload]  # any Real: int, float, np.int64
        if isinstance(value, Tensor):
            if value.shape != p.shape:
                raise ValueError(
                    f"state {name!r} has shape {value.shape} but its parameter has shape {p.shape}"
                )
            return value.to(p.device, p.dtype).contiguous()
        return value
