"""``Module``: the base class of layers and models (parameters, buffers, children, state dicts)."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Any

import numpy as np

from mytensor._tensor import Tensor
from mytensor.autograd.engine import zero_grads
from mytensor.autograd.grad_mode import no_grad
from mytensor.cuda.graph_hooks import current_capture
from mytensor.nn.parameter import Parameter

# PyTorch's repr name, under a private module name.
_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])  # type: ignore[name-match]


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _as_tensor_value(value, key: str) -> Tensor:
    """A state-dict value as a mytensor Tensor: mytensor tensors pass through; NumPy arrays,
    PyTorch CPU tensors and numbers are converted (so a PyTorch state dict loads as it is)."""
    from mytensor.creation import from_numpy

    if isinstance(value, Tensor):
        return value.detach()
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        value = value.detach().cpu().numpy()  # a torch.Tensor
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - any conversion failure means "not an array"
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise TypeError(
            f"[load_state_dict] value of {key!r} is a {type(value).__name__}, "
            "expected a Tensor or a NumPy array"
        )
    return from_numpy(np.array(array, order="C"))  # (ascontiguousarray makes 0-d arrays 1-d)


class Module:
    """Base class of every layer and model.

    Assigning a :class:`Parameter`, a Module or (through :meth:`register_buffer`) a Tensor as an
    attribute registers it, so that :meth:`parameters`, :meth:`state_dict`, :meth:`to`, ... find
    it. Subclasses call ``super().__init__()`` first and define :meth:`forward`.
    """

    # Set through object.__setattr__ in __init__ (Module's own __setattr__ registers values).
    training: bool
    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: OrderedDict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        """The computation of the module; call the module itself (``m(x)``), not ``forward``."""
        raise NotImplementedError(
            f"[{type(self).__name__}] Module subclasses must define forward()"
        )

    def __call__(self, *args, **kwargs):
        capture = current_capture()
        if capture is not None:  # a CUDA graph guards this module's train/eval flag
            capture.note_module(self)
        return self.forward(*args, **kwargs)

    # ---- registration ---------------------------------------------------------------------------
    def _check_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__})"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Registers ``param`` (a Parameter, or None) under ``name``."""
        self._check_init("parameters")
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter "
                f"'{name}' (mytensor.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Adds a tensor that is part of the state (saved, moved by ``to``) but not trained."""
        self._check_init("buffers")
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(mytensor.Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Registers ``module`` (or None) as the child ``name``, as ``setattr`` does."""
        self._check_init("child modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module", allow_existing_module=True)
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, kind: str, allow_existing_module: bool = False) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain '.', got {name!r}")
        if hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists")

    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_init("parameters")
            self._remove_from(name, keep="_parameters")
            self._parameters[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(mytensor.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._check_init("child modules")
            self._remove_from(name, keep="_modules")
            self._modules[name] = value
        elif self.__dict__.get("_modules") is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module "
                    f"'{name}' (mytensor.nn.Module or None expected)"
                )
            self._modules[name] = None
        elif self.__dict__.get("_buffers") is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(mytensor.Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _remove_from(self, name: str, keep: str) -> None:
        self.__dict__.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                self.__dict__[store].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, {}):
                del self.__dict__[store][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    # ---- traversal ------------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate=True):
        """Yields (name, module) for this module and every descendant, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        """Iterates over self and every submodule, depth first."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Iterates over ``(name, module)`` pairs of the direct submodules."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Iterates over the direct submodules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ):
        """Yields (dotted name, Parameter), each shared parameter once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        """Iterates over the parameters (of the submodules too when ``recurse``), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Iterates over ``(dotted name, buffer)`` pairs."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        """Iterates over the buffers (of the submodules too when ``recurse``)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` (``'features.0'``); raises AttributeError."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(
                    f"{type(module).__name__} has no submodule '{part}' (looking up '{target}')"
                )
            module = child
        return module

    def apply(self, fn) -> Module:
        """Calls fn on every child (recursively), then on self, as PyTorch does."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and devices ----------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Sets training mode (``mode=True``) or inference mode on self and every submodule."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """``train(False)``: layers such as Dropout and BatchNorm switch to inference."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Sets ``requires_grad`` of every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets every parameter's ``.grad``: to None (default), or to zeros in place."""
        zero_grads(self.parameters(), set_to_none)

    def _apply(self, fn) -> Module:
        """Replaces every parameter's data (keeping the Parameter objects, so optimizers that
        hold them stay valid), its grad, and every buffer by fn(tensor)."""
        with no_grad():
            for module in self.modules():
                for p in module._parameters.values():
                    if p is None:
                        continue
                    p.data = fn(p.data)
                    if p.grad is not None:
                        p.grad = fn(p.grad)
                for name, b in module._buffers.items():
                    if b is not None:
                        module._buffers[name] = fn(b)
        return self

    def to(self, *args, **kwargs) -> Module:
        """``to(device)``, ``to(dtype)`` (floating tensors only) or both; in place, returns self."""
        from mytensor._device import as_device
        from mytensor._dtype import dtype as dtype_cls

        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"[Module.to] unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, dtype_cls):
                dtype = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            else:
                device = a
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"[Module.to] only floating point dtypes are accepted, got {dtype}")
        device = None if device is None else as_device(device)

        def convert(t: Tensor) -> Tensor:
            if dtype is not None and t.dtype.is_floating_point:
                t = t.to(dtype)
            return t.to(device) if device is not None else t

        return self._apply(convert)

    def cpu(self) -> Module:
        """Moves every parameter and buffer to the CPU, in place; returns self."""
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        """Moves every parameter and buffer to a CUDA device, in place; returns self."""
        return self.to("cuda" if device is None else device)

    def float(self) -> Module:
        """Casts the floating parameters and buffers to float32, in place; returns self."""
        from mytensor._dtype import float32

        return self.to(float32)

    def double(self) -> Module:
        """Casts the floating parameters and buffers to float64, in place; returns self."""
        from mytensor._dtype import float64

        return self.to(float64)

    # ---- state dicts ----------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict of every parameter and persistent buffer by dotted name (PyTorch's
        keys), holding detached tensors that share storage with the module's."""
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copies parameters and buffers from `state_dict` (values: mytensor tensors, NumPy
        arrays, or PyTorch tensors) into this module, converting dtypes as PyTorch does.

        Args:
            state_dict: a mapping from dotted names to values.
            strict: require the keys to match exactly (a shape mismatch always raises).

        Returns:
            ``(missing_keys, unexpected_keys)``.

        Raises:
            RuntimeError: listing every missing, unexpected (when strict) or mis-shaped entry.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        updates = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _as_tensor_value(state_dict[key], key)
            if value.shape != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{_fmt_shape(value.shape)} from checkpoint, the shape in current "
                    f"model is {_fmt_shape(target.shape)}."
                )
                continue
            updates.append((target, value))
        if strict:
            if unexpected:
                errors.insert(
                    0,
                    "Unexpected key(s) in state_dict: "
                    + ", ".join(f'"{k}"' for k in unexpected)
                    + ".",
                )
            if missing:
                errors.insert(
                    0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + "."
                )
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for target, value in updates:
                target.copy_(value.to(target.device))
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The layer's settings, shown inside its ``repr`` (empty by default)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"
