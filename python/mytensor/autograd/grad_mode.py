"""``no_grad`` / ``enable_grad``: whether ops record the graph (per thread, as in PyTorch)."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True  # each thread starts with grad mode on; read without a getattr default


_state = _State()


def is_grad_enabled() -> bool:
    """True unless inside :func:`no_grad` (or ``set_grad_enabled(False)``)."""
    return _state.enabled


def set_grad_enabled(mode: bool) -> None:
    """Turns gradient recording on (``mode=True``) or off for the current thread."""
    _state.enabled = bool(mode)


class _GradMode:
    """A context manager and decorator that sets grad mode, restoring the previous one on exit."""

    mode = True

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        set_grad_enabled(self.mode)

    def __exit__(self, *exc) -> None:
        set_grad_enabled(self._prev)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disables graph recording: ``with mt.no_grad(): ...`` or ``@mt.no_grad()``."""

    mode = False


class enable_grad(_GradMode):
    """Re-enables graph recording inside a ``no_grad`` region."""

    mode = True
