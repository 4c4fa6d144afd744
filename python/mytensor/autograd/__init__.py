"""Reverse-mode automatic differentiation: Function, Context, the engine and grad mode."""

from mytensor.autograd.function import Context, Function
from mytensor.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["Context", "Function", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]
