"""``Parameter``: a tensor that a Module registers as one of its trainable weights."""

from __future__ import annotations

from mytensor._tensor import Tensor


class Parameter(Tensor):
    """A Tensor that, assigned as a Module attribute, is listed by ``Module.parameters()``.

    Args:
        data: the initial values (shared, not copied). An empty float32 tensor when None.
        requires_grad: whether the parameter is trained (default True).
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            from mytensor.creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"[Parameter] data must be a Tensor, got {type(data).__name__}")
        if requires_grad and not data.dtype.is_floating_point:
            raise TypeError(
                f"[Parameter] only floating point tensors can require gradients, "
                f"got {data.dtype}; pass requires_grad=False"
            )
        p = object.__new__(cls)
        p._impl = data._impl
        p.requires_grad = requires_grad
        p.grad = None
        p.grad_fn = None
        p._output_nr = 0
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # everything happens in __new__ (Tensor.__init__ refuses direct construction)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self.detach())

    def __reduce_ex__(self, protocol):
        raise TypeError("[Parameter] pickling is not supported; save the state_dict with mt.save")
