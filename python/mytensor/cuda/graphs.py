"""CUDA graphs: capture a whole training step once, then replay it with one launch per call.

This module holds the capture/replay object, :class:`CUDAGraph`; the graphed step,
:func:`~mytensor.cuda.make_graphed_step` and its verify, lives in :mod:`mytensor.cuda.graphed_step`;
what components register with a capture in progress is :mod:`mytensor.cuda.graph_hooks`.

:func:`~mytensor.cuda.make_graphed_step` wraps an ordinary eager step (forward, loss, backward,
``optimizer.step()``, ``scheduler.step()``, ...); :class:`CUDAGraph` is the capture/replay object
under it. A capture records the kernels the step queues on the device's stream and runs none of
them; a replay runs them all again with no Python in between. So:

* what a replay cannot repeat raises :class:`GraphCaptureError` during the capture: reading a CUDA
  tensor on the host (``.item()``, ``.numpy()``, printing), host-to-device copies, synchronizing,
  ``randperm``, reading or setting the generator's state;
* what must change from one replay to the next is read by the kernels from device "slots" that are
  rewritten before every replay: each optimizer group's learning rate, the step count of Adam's
  bias correction, the random generator's (seed, offset);
* host bookkeeping the step did once is redone after every replay by "hooks", in capture order:
  optimizer step counters (so ``state_dict()`` is right), ``scheduler.step()``, the generator;
* what the graph assumes is checked at every call, naming what changed: the shape, dtype and
  device of each tensor argument, the value of every other argument, grad mode, the train/eval
  flag of every module called, the optimizer hyper-parameters other than ``lr``, the identity of
  parameters and optimizer state tensors.

Tensors created inside the step live in the graph's private memory pool, which
``mt.cuda.memory_allocated`` counts and which is given back when the graph is garbage collected.
Set ``MYTENSOR_GRAPHS_DEBUG=1`` to print what each capture recorded.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np

from mytensor import _C
from mytensor.cuda import graph_hooks
from mytensor.cuda.graph_hooks import GraphCaptureError

__all__ = ["CUDAGraph", "GraphCaptureError"]

_DEBUG = os.environ.get("MYTENSOR_GRAPHS_DEBUG", "0") not in ("", "0")
_U64 = (1 << 64) - 1


def _device_index(device) -> int:
    if isinstance(device, int):
        return device
    from mytensor._device import as_device

    d = as_device(device)
    if d.type != "cuda":
        raise GraphCaptureError(f"[graphs] CUDA graphs capture CUDA work; got device {d}")
    return 0 if d.index is None else d.index


class CUDAGraph:
    """One captured CUDA graph with its slots, replay hooks and guards.

    While it is being captured it is :func:`mytensor.cuda.graph_hooks.current_capture`, and the
    components the captured code runs register with it
    (:class:`~mytensor.cuda.graph_hooks.Capture` lists how).

    Use :meth:`capture` as a context manager around the work to record, then :meth:`replay`::

        g = mt.cuda.CUDAGraph()
        with g.capture():
            y = model(static_x)      # recorded, not run
        g.replay()                   # runs it; y now holds the result

    The graph is destroyed (and its memory pool released) by :meth:`reset` or when it is
    garbage collected.

    Attributes:
        num_nodes: nodes of the captured graph (kernels, copies, memsets); 0 before capture.
        num_kernels: of which kernel launches.
    """

    def __init__(self) -> None:
        self._id: int | None = None
        self._device = 0
        self._slots: list[tuple[int, Callable[[], Any], bool]] = []  # (index, value fn, is_float)
        self._slot_cache: dict = {}
        self._nslots = 0
        self._random_slot = -1
        self._random_counters = 0
        self.num_nodes = 0
        self.num_kernels = 0
        self._hooks: list = []
        self._guards: list = []
        self._guard_keys: set = set()
        self._modules: dict[int, Any] = {}  # modules called during the capture, in order
        self._grads_seen: dict[int, tuple] = {}  # id(param) -> (param, grad, grad version)
        self._dropped_grads: set[int] = set()
        self._optimizers: dict[int, object] = {}
        self._schedulers: dict[int, object] = {}
        self._finalizer = None

    # ---- capture ----------------------------------------------------------------------------
    @contextmanager
    def capture(self, device=0):
        """Records the CUDA work of the ``with`` block on ``device``'s stream into this graph.

        Raises:
            GraphCaptureError: on anything a replay could not repeat (the capture is abandoned,
                no tensor value changes, and ``.grad`` tensors written inside are undefined).
        """
        if self._id is not None:
            raise GraphCaptureError(
                "[graphs] this CUDAGraph already holds a graph; call reset() or make a new one"
            )
        if graph_hooks.current_capture() is not None:
            raise GraphCaptureError(
                "[graphs] a capture is already in progress; captures cannot "
                "nest (is a graphed step called inside another one?)"
            )
        index = _device_index(device)
        _C.graphs.capture_begin(index)
        self._device = index
        graph_hooks._set_current(self)
        try:
            yield self
            self._check_grads_read()
        except BaseException as e:
            self._grads_seen.clear()
            graph_hooks._set_current(None)
            _C.graphs.capture_abort(index)
            self._forget_capture()
            if isinstance(e, _C.CudaError):
                raise GraphCaptureError(
                    f"[graphs] a CUDA call failed during the capture: {e}. Some operation in "
                    "the step is not allowed while capturing (run with MYTENSOR_GRAPHS_DEBUG=1 "
                    "and look for a host sync)"
                ) from e
            raise
        graph_hooks._set_current(None)
        self._grads_seen.clear()  # (it held the pre-capture gradients alive)
        self._dropped_grads.clear()
        try:
            self._id = _C.graphs.capture_end(index)
        except _C.CudaError as e:
            self._forget_capture()
            raise GraphCaptureError(f"[graphs] the capture could not be completed: {e}") from e
        self._finalizer = weakref.finalize(self, _destroy_quietly, self._id)
        info = _C.graphs.info(self._id)
        (
            _,
            self._nslots,
            self._random_slot,
            self._random_counters,
            self.num_nodes,
            self.num_kernels,
        ) = info
        if _DEBUG:
            print(self._describe())

    def _forget_capture(self) -> None:
        self._slots.clear()
        self._slot_cache.clear()
        self._hooks.clear()
        self._guards.clear()
        self._guard_keys.clear()

    def _describe(self) -> str:
        names = [type(m).__name__ for m in self._modules.values()]
        return (
            f"[graphs] captured graph {self._id} on cuda:{self._device}: {self._nslots} slots "
            f"({len(self._slots)} from Python, random draws: "
            f"{self._random_counters if self._random_slot >= 0 else 0} counters), "
            f"{len(self._hooks)} replay hooks, {len(self._guards)} guards; modules called: "
            f"{', '.join(names) or 'none'}; optimizers: "
            f"{', '.join(type(o).__name__ for o in self._optimizers.values()) or 'none'}; "
            f"schedulers: "
            f"{', '.join(type(s).__name__ for s in self._schedulers.values()) or 'none'}"
        )

    def _require_capturing(self, what: str) -> None:
        if graph_hooks.current_capture() is not self:
            raise GraphCaptureError(
                f"[graphs] {what} is only possible while this graph is being captured"
            )

    # ---- what components register during a capture -----------------------------------------
    def add_slot(self, value_fn, *, key=None, is_float: bool = True) -> int:
        """Reserves a per-replay scalar: ``value_fn()`` is evaluated before every replay and
        written to the slot (as a float64, or as a uint64 with ``is_float=False``). Returns the
        slot's index, which kernels take as ``*_slot`` arguments. With ``key``, a second request
        for the same key returns the first slot."""
        self._require_capturing("add_slot")
        if key is not None and key in self._slot_cache:
            return self._slot_cache[key]
        index = _C.graphs.capture_slots(self._device, 1)
        self._slots.append((index, value_fn, is_float))
        if key is not None:
            self._slot_cache[key] = index
        return index

    def add_hook(self, fn) -> None:
        """Runs ``fn()`` on the host after every replay (host bookkeeping of the step)."""
        self._require_capturing("add_hook")
        self._hooks.append(fn)

    def add_guard(self, fn, *, key=None) -> None:
        """Runs ``fn()`` before every replay; it raises GraphCaptureError when the replay would
        not do what the capture recorded. With ``key``, only the first guard of a key is kept."""
        self._require_capturing("add_guard")
        if key is not None:
            if key in self._guard_keys:
                return
            self._guard_keys.add(key)
        self._guards.append(fn)

    def register(self, obj) -> None:
        """Records an optimizer or a scheduler that the captured step uses (``verify=True``
        compares its state after an eager step and after a replay)."""
        from mytensor.optim.lr_scheduler import LRScheduler
        from mytensor.optim.optimizer import Optimizer

        self._require_capturing("register")
        if isinstance(obj, Optimizer):
            self._optimizers[id(obj)] = obj
        elif isinstance(obj, LRScheduler):
            self._schedulers[id(obj)] = obj
        else:
            raise TypeError(
                f"[graphs] register expects an Optimizer or an LRScheduler, got "
                f"{type(obj).__name__}"
            )

    def note_module(self, module) -> None:
        """Module.__call__ during the capture: guards the module's train/eval flag, and notes its
        parameters' gradients (see _check_grads_read)."""
        if id(module) in self._modules:
            return
        self._modules[id(module)] = module
        training = module.training

        def guard():
            if module.training != training:
                mode = {True: "train", False: "eval"}
                raise GraphCaptureError(
                    f"[graphs] module {self._module_name(module)} was in {mode[training]} mode "
                    f"when the step was captured and is now in {mode[module.training]} mode; a "
                    f"replay repeats the captured mode: call .{mode[training]}() before the "
                    "graphed step, or make one graphed step per mode"
                )

        self._guards.append(guard)
        for p in module.parameters():
            if id(p) not in self._grads_seen:
                g = p.grad
                self._grads_seen[id(p)] = (p, g, None if g is None else g._impl.version)

    def note_dropped_grads(self, params) -> None:
        """zero_grad(set_to_none=True) in the capture: these gradients are dropped, not read."""
        for p in params:
            if p.grad is not None:
                self._dropped_grads.add(id(p.grad))

    def _check_grads_read(self) -> None:
        # backward accumulates with `p.grad = p.grad + g`: if a .grad from before the capture was
        # read that way, the graph keeps reading its (freed, reused) memory at every replay.
        for p, g, version in self._grads_seen.values():
            if (
                g is not None
                and p.grad is not g
                and id(g) not in self._dropped_grads
                and g._impl.version == version
            ):
                raise GraphCaptureError(
                    "[graphs] backward accumulated into a .grad that existed before the capture "
                    f"(parameter of shape {tuple(p.shape)}): every replay would read its freed "
                    "memory; call optimizer.zero_grad() (set_to_none=True) inside the step, "
                    "before backward"
                )

    @property
    def modules(self) -> tuple:
        """The modules called during the capture, in call order."""
        return tuple(self._modules.values())

    @property
    def optimizers(self) -> tuple:
        """The optimizers registered during the capture."""
        return tuple(self._optimizers.values())

    @property
    def schedulers(self) -> tuple:
        """The schedulers registered during the capture."""
        return tuple(self._schedulers.values())

    def _module_name(self, module) -> str:
        for root in self._modules.values():
            for name, m in root.named_modules():
                if m is module and name:
                    return f"{type(root).__name__}.{name} ({type(module).__name__})"
        return type(module).__name__

    # ---- replay -----------------------------------------------------------------------------
    def check(self) -> None:
        """Runs the guards: raises GraphCaptureError if a replay would not match the capture."""
        if self._id is None:
            raise GraphCaptureError(
                "[graphs] this CUDAGraph holds no graph (not captured yet, or reset)"
            )
        for guard in self._guards:
            guard()

    def replay(self, *, check: bool = True) -> None:
        """Checks the guards, rewrites the slots (one host-to-device copy), launches the graph
        (asynchronously) and runs the replay hooks."""
        if check:
            self.check()
        words = np.zeros(self._nslots, dtype=np.uint64)
        floats = words.view(np.float64)
        for index, fn, is_float in self._slots:
            if is_float:
                floats[index] = fn()
            else:
                words[index] = int(fn()) & _U64
        rng = None
        if self._random_slot >= 0:
            rng = _C.get_rng_state()
            words[self._random_slot] = rng[0]
            words[self._random_slot + 1] = rng[1]
        _C.graphs.replay(self._id, words.tobytes())
        if rng is not None:
            _C.set_rng_state(rng[0], rng[1] + self._random_counters)
        for hook in self._hooks:
            hook()

    def reset(self) -> None:
        """Destroys the graph (after the device finishes its replays) and releases its pool."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._id = None
        self._forget_capture()


def _destroy_quietly(graph_id: int) -> None:
    try:
        _C.graphs.destroy(graph_id)
    except Exception:  # noqa: BLE001 - at interpreter exit the runtime may be gone
        pass
