"""The interface between CUDA graph captures and the components a captured step runs: modules,
autograd, optimizers and schedulers ask :func:`current_capture` and register with what it returns,
instead of reading the capture's private state. Imports nothing but the native module.

A component that runs inside a capture can:

* reserve a **slot** (:meth:`Capture.add_slot`): a scalar its kernels read from device memory,
  rewritten from a Python function before every replay (a learning rate, a step count);
* add a **hook** (:meth:`Capture.add_hook`): host bookkeeping redone after every replay (a step
  counter, ``scheduler.step()``);
* add a **guard** (:meth:`Capture.add_guard`, or the helpers :func:`guard_values` and
  :func:`guard_identity`): a check run before every replay that raises
  :class:`GraphCaptureError` when something the capture baked in has changed;
* **register** itself (:meth:`Capture.register`), so that ``make_graphed_step(verify=True)`` and
  ``MYTENSOR_GRAPHS_DEBUG=1`` know the optimizers and schedulers whose state the step changes.

Modules and autograd report what they do through :meth:`Capture.note_module` and
:meth:`Capture.note_dropped_grads`. Outside a capture :func:`current_capture` returns None, and
the components pay one function call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from mytensor import _C

GraphCaptureError = _C.GraphCaptureError

__all__ = [
    "Capture",
    "GraphCaptureError",
    "current_capture",
    "guard_identity",
    "guard_values",
    "is_capturing",
    "same_value",
]


class Capture(Protocol):
    """What a capture in progress offers the components that run inside it
    (:class:`mytensor.cuda.CUDAGraph` implements it)."""

    def add_slot(self, value_fn: Callable[[], float], *, key=None, is_float: bool = True) -> int:
        """Reserves a per-replay scalar written from ``value_fn()`` before every replay; returns
        the slot index that kernels take as ``*_slot`` arguments. A repeated ``key`` returns the
        first slot."""
        ...

    def add_hook(self, fn: Callable[[], None]) -> None:
        """Runs ``fn()`` on the host after every replay, in capture order."""
        ...

    def add_guard(self, fn: Callable[[], None], *, key=None) -> None:
        """Runs ``fn()`` before every replay; it raises GraphCaptureError when the replay would
        not do what the capture recorded. A repeated ``key`` keeps only the first guard."""
        ...

    def register(self, obj: Any) -> None:
        """Records an optimizer or scheduler that the captured step uses (verify compares its
        state after an eager step and a replay; the debug print names it)."""
        ...

    def note_module(self, module: Any) -> None:
        """A module was called inside the capture (its train/eval flag is guarded)."""
        ...

    def note_dropped_grads(self, params: Sequence[Any]) -> None:
        """The ``.grad`` of these tensors is dropped (set to None) inside the capture, not read."""
        ...


# The capture in progress (captures do not nest); set by CUDAGraph.capture only.
_current: Capture | None = None


def current_capture() -> Capture | None:
    """The capture in progress (a :class:`mytensor.cuda.CUDAGraph`), or None."""
    return _current


def is_capturing() -> bool:
    """True while a CUDA graph is being captured."""
    return _current is not None


def _set_current(capture: Capture | None) -> None:
    global _current
    _current = capture


def same_value(a, b) -> bool:
    """Whether a baked-in value is unchanged: equal and of the same type (NaN equals NaN; NumPy
    arrays compare element-wise; values that cannot be compared count as changed)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        eq = a == b
        if isinstance(eq, np.ndarray):
            return bool(eq.all())
        return bool(eq) or (a != a and b != b)  # NaN equals NaN here
    except Exception:  # noqa: BLE001 - an uncomparable value counts as changed
        return False


def guard_values(
    capture: Capture, read: Callable[[], dict], *, owner: str, hint: str, key=None
) -> None:
    """Bakes the values ``read()`` returns now (a dict, name -> value) into ``capture``: before
    every replay ``read()`` is called again, and the first value that changed raises
    ``GraphCaptureError("[graphs] {owner}{name} changed from {old!r} at capture to {new!r}:
    {hint}")``. A repeated ``key`` keeps only the first guard (see :meth:`Capture.add_guard`)."""
    baked = read()

    def check() -> None:
        for name, value in read().items():
            if not same_value(value, baked[name]):
                raise GraphCaptureError(
                    f"[graphs] {owner}{name} changed from {baked[name]!r} at capture to "
                    f"{value!r}: {hint}"
                )

    capture.add_guard(check, key=key)


def guard_identity(
    capture: Capture, entries: Iterable[tuple[Callable[[], Any], Any, Callable[[], str]]]
) -> None:
    """Guards that objects the capture recorded (tensor storages) are still the ones in use:
    each entry is ``(current, captured, message)``; before every replay, the first entry whose
    ``current()`` is not ``captured`` raises ``GraphCaptureError(message())``."""
    entries = list(entries)

    def check() -> None:
        for current, captured, message in entries:
            if current() is not captured:
                raise GraphCaptureError(message())

    capture.add_guard(check)
