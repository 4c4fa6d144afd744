"""The graphed step: :func:`make_graphed_step` turns an eager training step into one that runs as a
single :class:`~mytensor.cuda.CUDAGraph` (warm-up, static inputs, capture, argument checks at every
call), and ``verify=True`` compares the captured step with an eager one. What a capture checks is
described in :mod:`mytensor.cuda.graphs`."""

from __future__ import annotations

import copy
import inspect
import time
from typing import Any

import numpy as np

from mytensor import _C
from mytensor.autograd import grad_mode
from mytensor.cuda.graph_hooks import GraphCaptureError, same_value
from mytensor.cuda.graphs import CUDAGraph

__all__ = ["GraphedStep", "make_graphed_step"]


def _tensor_type():
    from mytensor._tensor import Tensor

    return Tensor


def _flatten(obj, path: str, out: list) -> None:
    """Leaves of nested tuples/lists/dicts, each as (path, value)."""
    if isinstance(obj, (tuple, list)):
        for i, v in enumerate(obj):
            _flatten(v, f"{path}[{i}]", out)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{path}[{k!r}]", out)
    else:
        out.append((path, obj))


def _rebuild(obj, fn):
    """obj with every tensor leaf t replaced by fn(t)."""
    if isinstance(obj, tuple):
        return (
            type(obj)(*(_rebuild(v, fn) for v in obj))
            if hasattr(obj, "_fields")
            else tuple(_rebuild(v, fn) for v in obj)
        )
    if isinstance(obj, list):
        return [_rebuild(v, fn) for v in obj]
    if isinstance(obj, dict):
        return {k: _rebuild(v, fn) for k, v in obj.items()}
    return fn(obj) if isinstance(obj, _tensor_type()) else obj


class GraphedStep:
    """The callable :func:`make_graphed_step` returns (see there).

    Attributes:
        capture_time: seconds spent capturing and instantiating the graph (None before).
        calls: how many times the step has been called.
        graph: the :class:`CUDAGraph` (None before the capture).
    """

    def __init__(self, fn, warmup: int, verify: bool) -> None:
        if not callable(fn):
            raise TypeError(f"[make_graphed_step] fn must be callable, got {type(fn).__name__}")
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"[make_graphed_step] warmup must be an integer >= 0, got {warmup!r}")
        self.fn = fn
        self.warmup = warmup
        self.verify = bool(verify)
        self.calls = 0
        self.capture_time: float | None = None
        self.graph: CUDAGraph | None = None
        try:
            self._names = [
                p.name
                for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            self._names = []
        self._paths: list[str] = []
        self._static: dict[int, Any] = {}  # leaf position -> static input tensor
        self._values: dict[int, object] = {}  # leaf position -> captured non-tensor value
        self._grad_enabled = True
        self._out = None

    def __repr__(self) -> str:
        state = "captured" if self.graph is not None else f"warm-up {self.calls}/{self.warmup}"
        return f"GraphedStep({getattr(self.fn, '__name__', self.fn)!r}, {state})"

    def _leaves(self, args, kwargs) -> list:
        leaves: list = []
        for i, a in enumerate(args):
            name = self._names[i] if i < len(self._names) else f"args[{i}]"
            _flatten(a, name, leaves)
        for k, v in kwargs.items():
            _flatten(v, k, leaves)
        return leaves

    def _device(self, leaves) -> int:
        Tensor = _tensor_type()
        if not _C.cuda_is_available():
            raise _C.DeviceError(
                "[make_graphed_step] CUDA graphs need a CUDA device, and "
                + (
                    "no GPU is visible"
                    if _C.cuda_is_compiled()
                    else "mytensor was built without CUDA (rebuild with nvcc on PATH: MYTENSOR_CUDA=ON "  # noqa: E501
                    "uv sync --reinstall-package mytensor)"
                )
            )
        device = None
        for path, v in leaves:
            if isinstance(v, Tensor):
                if not v.is_cuda:
                    raise _C.DeviceError(
                        f"[make_graphed_step] argument {path!r} is on {v.device}: a CUDA graph "
                        "replays CUDA work only, so every tensor argument must be on a CUDA "
                        "device (move the model and the batch with .to('cuda'))"
                    )
                device = v.device.index if device is None else device
        return 0 if device is None else device

    def __call__(self, *args, **kwargs):
        leaves = self._leaves(args, kwargs)
        if self.graph is None:
            device = self._device(leaves)
            if self.calls < self.warmup:
                self.calls += 1
                return self.fn(*args, **kwargs)
            self.calls += 1
            return self._capture(args, kwargs, leaves, device)
        self.calls += 1
        self._check_args(leaves)
        self.graph.check()
        Tensor = _tensor_type()
        for i, (_, v) in enumerate(leaves):
            static = self._static.get(i)
            if static is not None and v is not static:
                _C.copy_(static._impl, v._impl)  # device to device, outside the graph
            elif static is None and isinstance(v, Tensor):  # cannot happen after _check_args
                raise GraphCaptureError(f"[graphs] argument {self._paths[i]!r} became a tensor")
        self.graph.replay(check=False)
        return self._out

    # ---- capture ----------------------------------------------------------------------------
    def _capture(self, args, kwargs, leaves, device):
        from mytensor.creation import empty

        Tensor = _tensor_type()
        self._paths = [p for p, _ in leaves]
        self._static, self._values = {}, {}
        position = {}

        def make_static(t):
            if id(t) in position:  # the same tensor passed twice: one buffer
                return position[id(t)]
            s = empty(t.shape, dtype=t.dtype, device=t.device)
            _C.copy_(s._impl, t._impl)
            if t.requires_grad and t.is_leaf:
                s.requires_grad_()
            position[id(t)] = s
            return s

        static_args = _rebuild(list(args), make_static)
        static_kwargs = _rebuild(dict(kwargs), make_static)
        for i, (_, v) in enumerate(leaves):
            if isinstance(v, Tensor):
                self._static[i] = position[id(v)]
            else:
                self._values[i] = v
        self._grad_enabled = grad_mode.is_grad_enabled()
        graph = CUDAGraph()
        _C.cuda_synchronize(device)
        start = time.perf_counter()
        with graph.capture(device):
            out = self.fn(*static_args, **static_kwargs)
            out = self._static_outputs(out)
        _C.cuda_synchronize(device)
        self.capture_time = time.perf_counter() - start
        self.graph = graph
        self._out = out
        if self.verify:
            try:
                _verify(self, graph, static_args, static_kwargs)
            except BaseException:
                # The state is the replay's; the next call captures (and verifies) again.
                self.graph, self._out = None, None
                graph.reset()
                raise
        else:
            graph.replay(check=False)
        return self._out

    def _static_outputs(self, out):
        Tensor = _tensor_type()
        leaves: list = []
        _flatten(out, "output", leaves)
        for path, v in leaves:
            if v is not None and not isinstance(v, Tensor):
                raise GraphCaptureError(
                    f"[graphs] the step returned {path} = {v!r} ({type(v).__name__}): a Python "
                    "value is computed once, at capture; return tensors (or None) and read "
                    "them after the call"
                )
        return _rebuild(out, lambda t: t.detach())

    def _check_args(self, leaves) -> None:
        Tensor = _tensor_type()
        paths = [p for p, _ in leaves]
        if paths != self._paths:
            raise GraphCaptureError(
                f"[graphs] the step was captured with arguments {self._paths} and is now called "
                f"with {paths}; a graph replays one argument structure"
            )
        for i, (path, v) in enumerate(leaves):
            static = self._static.get(i)
            if static is None:
                if isinstance(v, Tensor):
                    raise GraphCaptureError(
                        f"[graphs] argument {path!r} was {self._values[i]!r} at capture and is "
                        "now a tensor"
                    )
                if not same_value(v, self._values[i]):
                    raise GraphCaptureError(
                        f"[graphs] argument {path!r} changed from {self._values[i]!r} at capture "
                        f"to {v!r}: non-tensor arguments are baked into the graph; pass a "
                        "tensor to vary a value, or make a graphed step per value"
                    )
                continue
            if not isinstance(v, Tensor):
                raise GraphCaptureError(
                    f"[graphs] argument {path!r} was a tensor at capture and is now "
                    f"{type(v).__name__} {v!r}"
                )
            for what, old, new in (
                ("shape", tuple(static.shape), tuple(v.shape)),
                ("dtype", static.dtype, v.dtype),
                ("device", static.device, v.device),
            ):
                if old != new:
                    hint = (
                        " (drop the last partial batch, e.g. drop_last=True, or make a "
                        "graphed step per shape)"
                        if what == "shape"
                        else ""
                    )
                    raise GraphCaptureError(
                        f"[graphs] argument {path!r} changed {what} since capture: captured "
                        f"{old}, got {new}; a graph replays fixed shapes, dtypes and devices" + hint
                    )
        if grad_mode.is_grad_enabled() != self._grad_enabled:
            raise GraphCaptureError(
                f"[graphs] grad mode was {'on' if self._grad_enabled else 'off'} at capture and "
                f"is now {'on' if grad_mode.is_grad_enabled() else 'off'} (mt.no_grad()?)"
            )


def make_graphed_step(fn, *, warmup: int = 3, verify: bool = False) -> GraphedStep:
    """Turns an eager training step into one that runs as a single CUDA graph.

    The first ``warmup`` calls run ``fn`` eagerly (optimizer state and the allocator warm up);
    the next call copies each tensor argument into a static input buffer of the same shape,
    dtype and device, captures ``fn`` on those buffers, and replays the graph once; every later
    call checks the arguments, copies the tensors into the static buffers, and replays.

    Args:
        fn: the step, e.g. ``def step(x, y): opt.zero_grad(); loss = F.cross_entropy(model(x),
            y); loss.backward(); opt.step(); return loss``. Tensor arguments must be on one CUDA
            device; other arguments must equal their captured values at every call. It may
            return tensors, tuples/lists/dicts of tensors, or None.
        warmup: eager calls before the capture (at least 1 when ``fn`` takes an optimizer step:
            optimizer state must exist before the capture).
        verify: on the capture call, also run ``fn`` eagerly from the same state, restore it,
            replay, and raise GraphCaptureError naming the first output or state tensor
            (parameter, buffer, gradient, optimizer state) on which the two differ.

    Returns:
        A callable with ``fn``'s arguments. Its outputs are the graph's static tensors: the next
        call overwrites them, so ``.clone()`` what you keep. ``capture_time`` holds the seconds
        spent capturing.

    Raises:
        DeviceError: without CUDA, or for CPU tensor arguments (graphs replay CUDA work only).
        GraphCaptureError: see :mod:`mytensor.cuda.graphs` for what is checked.
    """
    return GraphedStep(fn, warmup, verify)


# ---- verify -----------------------------------------------------------------------------------


def _tracked(graph: CUDAGraph) -> list:
    """(name, getter) of every tensor the step may change: parameters, buffers and gradients of
    the modules it called, parameters, gradients and state of the optimizers it stepped."""
    Tensor = _tensor_type()
    out, seen = [], set()

    def add(name, getter):
        t = getter()
        if isinstance(t, Tensor) and id(t) not in seen:
            seen.add(id(t))
            out.append((name, getter))

    for m in graph.modules:
        root = type(m).__name__
        for name, p in m.named_parameters():
            add(f"{root}.{name}", lambda p=p: p)
            add(f"{root}.{name}.grad", lambda p=p: p.grad)
        for name, b in m.named_buffers():
            add(f"{root}.{name}", lambda b=b: b)
    for opt in graph.optimizers:
        cls = type(opt).__name__
        params = [p for g in opt.param_groups for p in g["params"]]
        for i, p in enumerate(params):
            add(f"{cls} params[{i}]", lambda p=p: p)
            add(f"{cls} params[{i}].grad", lambda p=p: p.grad)
            for k, v in opt.state.get(p, {}).items():
                if isinstance(v, Tensor):
                    add(f"{cls} state[{i}][{k!r}]", lambda p=p, k=k, opt=opt: opt.state[p][k])
    return out


def _host_state(graph: CUDAGraph):
    """What the step changes on the host: generator, optimizer steps and lrs, schedulers."""
    opts = [
        (o, [dict(g) for g in o.param_groups], {id(p): dict(s) for p, s in o.state.items()})
        for o in graph.optimizers
    ]
    scheds = [(s, copy.deepcopy(s.state_dict())) for s in graph.schedulers]
    return _C.get_rng_state(), opts, scheds


def _restore_host_state(state) -> None:
    rng, opts, scheds = state
    _C.set_rng_state(*rng)
    for opt, groups, states in opts:
        for g, saved in zip(opt.param_groups, groups):
            g.update({k: v for k, v in saved.items() if k != "params"})
        for p, s in opt.state.items():
            if id(p) in states and "step" in states[id(p)]:
                s["step"] = states[id(p)]["step"]
    for sched, saved in scheds:
        sched.load_state_dict(copy.deepcopy(saved))


def _host_numbers(graph: CUDAGraph) -> list:
    """(name, value) of the host numbers a step advances: lrs and optimizer step counts."""
    out = []
    for opt in graph.optimizers:
        cls = type(opt).__name__
        for gi, g in enumerate(opt.param_groups):
            out.append((f"{cls} param_groups[{gi}]['lr']", g["lr"]))
        params = [p for g in opt.param_groups for p in g["params"]]
        for i, p in enumerate(params):
            if "step" in opt.state.get(p, {}):
                out.append((f"{cls} state[{i}]['step']", opt.state[p]["step"]))
    return out


def _numpy(t):
    return t.detach().cpu().numpy()


def _mismatch(a, b) -> str | None:
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.dtype.kind == "f":
        if np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True):
            return None
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        return f"max abs difference {np.nanmax(diff):.3g}"
    return None if np.array_equal(a, b) else "values differ"


def _verify(step: GraphedStep, graph: CUDAGraph, static_args, static_kwargs) -> None:
    """One eager run and one replay from the same state; raises on the first difference."""
    from mytensor.autograd.grad_mode import no_grad

    Tensor = _tensor_type()
    tracked = _tracked(graph)
    with no_grad():
        before = [(name, get, get().clone()) for name, get in tracked]
    grads = {id(p): (p, p.grad) for m in graph.modules for p in m.parameters()}
    for opt in graph.optimizers:
        for g in opt.param_groups:
            for p in g["params"]:
                grads.setdefault(id(p), (p, p.grad))
    host = _host_state(graph)

    eager_out = step.fn(*static_args, **static_kwargs)
    eager_leaves: list = []
    _flatten(eager_out, "output", eager_leaves)
    eager = [(path, _numpy(v) if isinstance(v, Tensor) else v) for path, v in eager_leaves]
    eager_state = [(name, _numpy(get()) if get() is not None else None) for name, get, _ in before]
    eager_host = _host_numbers(graph)

    # Back to the state before the eager run (the graph's own .grad tensors included), replay.
    for p, g in grads.values():
        p.grad = g
    with no_grad():
        for _, get, saved in before:
            t = get()
            if t is not None:
                _C.copy_(t._impl, saved._impl)
    _restore_host_state(host)
    graph.replay(check=False)

    replay_leaves: list = []
    _flatten(step._out, "output", replay_leaves)
    for (path, e), (_, r) in zip(eager, replay_leaves):
        problem = _mismatch(e, _numpy(r)) if isinstance(r, Tensor) else None
        if problem:
            raise GraphCaptureError(
                f"[graphs] verify: the replayed step differs from the eager one in {path} "
                f"({problem}); the step depends on something the graph baked in at capture (a "
                "Python value that changes between calls, host state, a tensor replaced between "
                "calls)"
            )
    for (name, get, _), (_, e) in zip(before, eager_state):
        t = get()
        if e is None or t is None:
            continue
        problem = _mismatch(e, _numpy(t))
        if problem:
            raise GraphCaptureError(
                f"[graphs] verify: after one step, {name} differs between the replayed and the "
                f"eager step ({problem}); the step depends on something the graph baked in at "
                "capture (a Python value that changes between calls, host state)"
            )
    for (name, e), (_, r) in zip(eager_host, _host_numbers(graph)):
        if not same_value(e, r):
            raise GraphCaptureError(
                f"[graphs] verify: after one step, {name} is {r!r} after the replay but {e!r} "
                "after the eager step"
            )
