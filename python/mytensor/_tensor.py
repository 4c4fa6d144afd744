"""``Tensor``: a handle to native storage plus the autograd state (requires_grad, grad, grad_fn)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from mytensor import _C
from mytensor import _dtype as _dt
from mytensor._device import as_device
from mytensor._device import device as _device
from mytensor.autograd import grad_mode
from mytensor.autograd.engine import run_backward
from mytensor.cuda import graph_hooks as _graph_hooks

# Tensor has methods named bool, int and float (as torch.Tensor): annotations in its body name
# the builtins through these aliases.
_bool = builtins.bool
_int = builtins.int
_float = builtins.float


class Tensor:
    """An n-dimensional array on a device, with reverse-mode autograd.

    Create tensors with :func:`mytensor._tensor`, :func:`mytensor.zeros`, ... rather than this
    class. ``requires_grad=True`` makes the ops that use a tensor record the graph that
    :meth:`backward` walks; ``grad`` then holds the gradient of a leaf.
    """

    __slots__ = ("_impl", "requires_grad", "grad", "grad_fn", "_output_nr", "__weakref__")
    _impl: _C.TensorImpl
    requires_grad: _bool
    grad: Tensor | None
    grad_fn: Any  # the Node that made this tensor; None for a leaf
    _output_nr: _int
    __array_priority__ = 1000  # NumPy defers to our reflected operators

    def __init__(self, *args, **kwargs) -> None:
        raise TypeError(
            "mytensor.Tensor is not constructed directly; use mt.tensor(data), mt.zeros(shape), "
            "mt.from_numpy(array), ..."
        )

    @classmethod
    def _make(cls, impl, requires_grad: _bool = False) -> Tensor:
        t = object.__new__(cls)
        t._impl = impl
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = None
        t._output_nr = 0
        return t

    def _detached_alias(self) -> Tensor:
        return Tensor._make(self._impl)

    # ---- metadata ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[_int, ...]:
        """The size of each dim, as a tuple of ints."""
        return tuple(self._impl.shape)

    def size(self, dim: _int | None = None):
        """The shape, or the size of dim ``dim``."""
        shape = self.shape
        if dim is None:
            return shape
        return shape[_C_wrap(dim, len(shape), "size")]

    @property
    def dtype(self) -> _dt.dtype:
        """The element type, a :class:`mytensor.dtype`."""
        return _dt.from_c(self._impl.dtype)

    @property
    def device(self) -> _device:
        """The :class:`mytensor.device` that holds the values."""
        return _device.from_c(self._impl.device)

    @property
    def is_cuda(self) -> _bool:
        """True for a tensor on a CUDA device."""
        return self._impl.device.type == _C.DeviceType.cuda

    @property
    def ndim(self) -> _int:
        """The number of dims."""
        return self._impl.ndim

    def dim(self) -> _int:
        """The number of dims (as :attr:`ndim`)."""
        return self._impl.ndim

    def numel(self) -> _int:
        """The number of elements."""
        return self._impl.numel()

    def stride(self, dim: _int | None = None):
        """The stride of each dim in elements, or that of dim ``dim``."""
        strides = tuple(self._impl.strides)
        return strides if dim is None else strides[_C_wrap(dim, len(strides), "stride")]

    def is_contiguous(self) -> _bool:
        """True when the elements lie in memory in row-major order without gaps."""
        return self._impl.is_contiguous()

    def element_size(self) -> _int:
        """Bytes per element."""
        return self.dtype.itemsize

    def is_floating_point(self) -> _bool:
        """True for float16, bfloat16, float32 and float64 tensors."""
        return self.dtype.is_floating_point

    @property
    def is_leaf(self) -> _bool:
        """True for a tensor that no recorded op produced (``grad_fn`` is None)."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """The tensor with all its dims reversed (a view)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        # A 0-d tensor is its own mT (PyTorch: identity, deprecated); transpose(-2, -1) refuses it.
        """The transpose of the last two dims (a view)."""
        return self.transpose(0, 0) if self.ndim == 0 else self.transpose(-2, -1)

    @property
    def data(self) -> Tensor:
        """This tensor's values without autograd history (shares storage)."""
        return self._detached_alias()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._impl = value._impl

    # ---- autograd ----------------------------------------------------------------------------
    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: _bool = False,
    ) -> None:
        """Accumulates d(self)/d(leaf) * gradient into every leaf's ``.grad``.

        Args:
            gradient: the gradient of the final objective w.r.t. this tensor; may be omitted
                only for a tensor of one element (it is then 1).
            retain_graph: keep the saved tensors so that backward can run again (defaults to
                create_graph).
            create_graph: record the backward pass itself, for higher-order gradients.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "[backward] this tensor does not require grad and has no grad_fn: nothing "
                "recorded a graph (set requires_grad=True on the inputs, outside mt.no_grad())"
            )
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(
                    f"[backward] grad can be implicitly created only for scalar outputs; this "
                    f"tensor has shape {self.shape}: pass gradient= of the same shape"
                )
            impl = self._impl
            gradient = Tensor._make(_C.full(impl.shape, 1.0, impl.dtype, impl.device))
        elif not isinstance(gradient, Tensor):
            raise TypeError(f"[backward] gradient must be a Tensor, got {type(gradient).__name__}")
        elif gradient.shape != self.shape:
            raise RuntimeError(
                f"[backward] gradient has shape {gradient.shape} but the tensor has shape "
                f"{self.shape}"
            )
        if retain_graph is None:
            retain_graph = create_graph
        run_backward(
            [self],
            [gradient._detached_alias()],
            retain_graph=retain_graph,
            create_graph=create_graph,
        )

    def detach(self) -> Tensor:
        """A tensor sharing this one's storage, cut from the graph."""
        return self._detached_alias()

    def detach_(self) -> Tensor:
        """Cuts self from the graph in place (it becomes a leaf that needs no grad)."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: _bool = True) -> Tensor:
        """Sets ``requires_grad`` of a leaf tensor (floating point only); returns self."""
        if not self.is_leaf:
            raise RuntimeError(
                "[requires_grad_] can only change requires_grad of a leaf tensor; use "
                "detach().requires_grad_() on a computed one"
            )
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(
                f"[requires_grad_] only floating point tensors can require gradients, got "
                f"{self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Makes ``.grad`` of this non-leaf tensor be populated by backward."""
        import weakref

        if self.grad_fn is None:
            return
        if self.grad_fn.retained is None:
            self.grad_fn.retained = {}
        self.grad_fn.retained[self._output_nr] = weakref.ref(self)

    # ---- conversion --------------------------------------------------------------------------
    def _refuse_host_read(self, what: str) -> None:
        """Inside a CUDA graph capture a host read of a CUDA tensor would run once, at capture,
        and never at a replay: raise naming the method (the runtime would raise too, vaguer)."""
        if self.is_cuda and _graph_hooks.is_capturing():
            raise _C.GraphCaptureError(
                f"[graphs] {what} reads a CUDA tensor on the host inside a captured step: a "
                "replay would not run the host code; return the tensor from the step and read "
                "it outside"
            )

    def item(self):
        """The value of a one-element tensor as a Python number."""
        self._refuse_host_read(".item()")
        return self._impl.item()

    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        self._refuse_host_read(".tolist()")
        return self.numpy().tolist()

    def numpy(self) -> np.ndarray:
        """A NumPy array of the values: zero-copy for a CPU tensor that needs no grad."""
        if self.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(
                "[numpy] can't call numpy() on a tensor that requires grad; use "
                "tensor.detach().numpy()"
            )
        if self.dtype.numpy is None:
            raise _C.DTypeError(
                f"[numpy] {self.dtype.name} has no NumPy dtype, so .numpy() can't return its "
                "values; share it with a library that has one through DLPack "
                "(torch.from_dlpack(t))"
            )
        impl = self._impl
        if self.is_cuda:
            self._refuse_host_read(".numpy()")
            impl = _C.to_device(impl, _device("cpu")._c)
        return impl.numpy()

    def __array__(self, dtype=None, copy=None):
        arr = self.detach().numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __dlpack__(self, stream=None, **kwargs):
        if self.is_cuda:
            self._refuse_host_read("__dlpack__")
            _C.cuda_synchronize(self._impl.device.index)
        return self._impl.dlpack()

    def __dlpack_device__(self) -> tuple[_int, _int]:
        # DLPack's device codes: kDLCPU = 1, kDLCUDA = 2.
        return (2, self._impl.device.index) if self.is_cuda else (1, 0)

    def to(self, *args, **kwargs) -> Tensor:
        """``to(device)``, ``to(dtype)`` or ``to(device, dtype)``; self if nothing changes."""
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"[to] unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, _dt.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            else:
                device = a
        return _shape.to(self, device=None if device is None else as_device(device), dtype=dtype)

    def cpu(self) -> Tensor:
        """A copy in CPU memory (self if it is there already)."""
        return self.to("cpu")

    def cuda(self, device: _int | str | None = None) -> Tensor:
        """A copy on a CUDA device (the current one when ``device`` is None)."""
        return self.to(as_device("cuda" if device is None else device))

    def float(self) -> Tensor:
        """``self.to(mytensor.float32)``."""
        return self.to(_dt.float32)

    def double(self) -> Tensor:
        """``self.to(mytensor.float64)``."""
        return self.to(_dt.float64)

    def long(self) -> Tensor:
        """``self.to(mytensor.int64)``."""
        return self.to(_dt.int64)

    def int(self) -> Tensor:
        """``self.to(mytensor.int32)``."""
        return self.to(_dt.int32)

    def bool(self) -> Tensor:
        """``self.to(mytensor.bool)``."""
        return self.to(_dt.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        """``self.to(other.dtype)``."""
        return self.to(other.dtype)

    # ---- printing and Python protocols -------------------------------------------------------
    def __repr__(self) -> str:
        self._refuse_host_read("printing (repr)")
        values = None
        if self.dtype.numpy is None:  # bfloat16 has no NumPy dtype: print through float32
            try:
                values = self.detach().to(_dt.float32).numpy()
            except (TypeError, RuntimeError):  # no cast from this dtype either
                body = f"<{self.numel()} {self.dtype.name} values of shape {self.shape}>"
        else:
            values = self.detach().numpy()
        if values is not None:
            body = np.array2string(values, separator=", ", prefix="tensor(")
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (_dt.float32, _dt.int64, _dt.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __len__(self) -> _int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> _bool:
        if self.numel() != 1:
            raise RuntimeError(
                f"[bool] the truth value of a tensor with {self.numel()} elements is ambiguous"
            )
        self._refuse_host_read("bool() (an `if` on a tensor)")
        return bool(self.item())

    def __float__(self) -> _float:
        self._refuse_host_read("float()")
        return float(self.item())

    def __int__(self) -> _int:
        self._refuse_host_read("int()")
        return int(self.item())

    def __index__(self) -> _int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    # ---- operators ---------------------------------------------------------------------------
    def __add__(self, other) -> Tensor:
        return _ew.add(self, other)

    def __radd__(self, other) -> Tensor:
        return _ew.add(other, self)

    def __sub__(self, other) -> Tensor:
        return _ew.sub(self, other)

    def __rsub__(self, other) -> Tensor:
        return _ew.sub(other, self)

    def __mul__(self, other) -> Tensor:
        return _ew.mul(self, other)

    def __rmul__(self, other) -> Tensor:
        return _ew.mul(other, self)

    def __truediv__(self, other) -> Tensor:
        return _ew.div(self, other)

    def __rtruediv__(self, other) -> Tensor:
        return _ew.div(other, self)

    def __pow__(self, other) -> Tensor:
        return _ew.pow(self, other)

    def __rpow__(self, other) -> Tensor:
        return _ew.pow(other, self)

    def __matmul__(self, other) -> Tensor:
        return _matmul.matmul(self, other)

    def __rmatmul__(self, other) -> Tensor:
        return _matmul.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ew.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ew.abs(self)

    def __eq__(self, other) -> Tensor:  # type: ignore[override]
        return _ew.eq(self, other)

    def __ne__(self, other) -> Tensor:  # type: ignore[override]
        return _ew.ne(self, other)

    def __lt__(self, other) -> Tensor:
        return _ew.lt(self, other)

    def __le__(self, other) -> Tensor:
        return _ew.le(self, other)

    def __gt__(self, other) -> Tensor:
        return _ew.gt(self, other)

    def __ge__(self, other) -> Tensor:
        return _ew.ge(self, other)

    def __getitem__(self, index) -> Tensor:
        return _shape.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        _shape.setitem(self, index, value)

    # ---- math methods: thin calls of the functional ops (PyTorch names and arguments) ---------
    def neg(self) -> Tensor:
        """-self, elementwise."""
        return _ew.neg(self)

    def exp(self) -> Tensor:
        """e ** self, elementwise."""
        return _ew.exp(self)

    def log(self) -> Tensor:
        """Natural logarithm, elementwise."""
        return _ew.log(self)

    def sqrt(self) -> Tensor:
        """Square root, elementwise."""
        return _ew.sqrt(self)

    def rsqrt(self) -> Tensor:
        """1 / sqrt(self), elementwise."""
        return _ew.rsqrt(self)

    def abs(self) -> Tensor:
        """Absolute value, elementwise (its gradient at 0 is 0)."""
        return _ew.abs(self)

    def relu(self) -> Tensor:
        """max(self, 0), elementwise; see :func:`mytensor.relu`."""
        return _ew.relu(self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-self)), elementwise."""
        return _ew.sigmoid(self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent, elementwise."""
        return _ew.tanh(self)

    def square(self) -> Tensor:
        """self * self (a bool tensor gives int64, as in PyTorch)."""
        return _ew.square(self)

    def pow(self, exponent) -> Tensor:
        """self ** exponent, with broadcasting; see :func:`mytensor.pow`."""
        return _ew.pow(self, exponent)

    def clamp(self, min=None, max=None) -> Tensor:  # noqa: A002
        """Elementwise min(max(self, min), max); see :func:`mytensor.clamp`."""
        return _ew.clamp(self, min, max)

    clip = clamp

    def add(self, other, alpha=1) -> Tensor:
        """self + alpha * other, with broadcasting and type promotion."""
        return _ew.add(self, other, alpha)

    def sub(self, other, alpha=1) -> Tensor:
        """self - alpha * other, with broadcasting and type promotion."""
        return _ew.sub(self, other, alpha)

    def mul(self, other) -> Tensor:
        """self * other, with broadcasting and type promotion."""
        return _ew.mul(self, other)

    def div(self, other) -> Tensor:
        """True division self / other (integer inputs give a float result)."""
        return _ew.div(self, other)

    def maximum(self, other) -> Tensor:
        """Elementwise maximum of self and other (ties split the gradient evenly)."""
        return _ew.maximum(self, other)

    def minimum(self, other) -> Tensor:
        """Elementwise minimum of self and other (ties split the gradient evenly)."""
        return _ew.minimum(self, other)

    def eq(self, other) -> Tensor:
        """self == other, elementwise, as a bool tensor."""
        return _ew.eq(self, other)

    def ne(self, other) -> Tensor:
        """self != other, elementwise, as a bool tensor."""
        return _ew.ne(self, other)

    def lt(self, other) -> Tensor:
        """self < other, elementwise, as a bool tensor."""
        return _ew.lt(self, other)

    def le(self, other) -> Tensor:
        """self <= other, elementwise, as a bool tensor."""
        return _ew.le(self, other)

    def gt(self, other) -> Tensor:
        """self > other, elementwise, as a bool tensor."""
        return _ew.gt(self, other)

    def ge(self, other) -> Tensor:
        """self >= other, elementwise, as a bool tensor."""
        return _ew.ge(self, other)

    def masked_fill(self, mask, value) -> Tensor:
        """self with ``value`` where ``mask`` is True; the result keeps self's dtype."""
        return _ew.masked_fill(self, mask, value)

    # ---- shape methods -----------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        """The values in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``; one -1 is inferred);
        a view where the strides allow it, else a copy."""
        return _shape.reshape(self, *shape)

    def view(self, *shape) -> Tensor:
        """A view in a new shape; raises where the strides do not allow one (use reshape)."""
        return _shape.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        """``self.view(other.shape)``."""
        return _shape.view_as(self, other)

    def reshape_as(self, other: Tensor) -> Tensor:
        """``self.reshape(other.shape)``."""
        return _shape.reshape_as(self, other)

    def permute(self, *dims) -> Tensor:
        """A view with the dims reordered: ``permute(2, 0, 1)`` or ``permute((2, 0, 1))``."""
        return _shape.permute(self, *dims)

    def transpose(self, dim0: _int, dim1: _int) -> Tensor:
        """A view with dims ``dim0`` and ``dim1`` swapped."""
        return _shape.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        """The transpose of a tensor of at most 2 dims (itself for 0 or 1 dims)."""
        return _shape.t(self)

    def expand(self, *sizes) -> Tensor:
        """A broadcast view to ``sizes`` (-1 keeps a dim); no memory is copied."""
        return _shape.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        """``self.expand(other.shape)``."""
        return _shape.expand_as(self, other)

    def squeeze(self, dim=None) -> Tensor:
        """A view without the size-1 dims (only those in ``dim``, an int or a tuple, if given)."""
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim: _int) -> Tensor:
        """A view with a new size-1 dim at position ``dim``."""
        return _shape.unsqueeze(self, dim)

    def flatten(self, start_dim: _int = 0, end_dim: _int = -1) -> Tensor:
        """The dims from ``start_dim`` to ``end_dim`` merged into one."""
        return _shape.flatten(self, start_dim, end_dim)

    def flip(self, dims) -> Tensor:
        """A copy with the order of the elements along ``dims`` reversed."""
        return _shape.flip(self, dims)

    def split(self, split_size, dim: _int = 0) -> tuple[Tensor, ...]:
        """Views along ``dim``: pieces of ``split_size`` (an int) or of the listed sizes; see
        :func:`mytensor.split`."""
        return _shape.split(self, split_size, dim)

    def chunk(self, chunks: _int, dim: _int = 0) -> tuple[Tensor, ...]:
        """At most ``chunks`` views of equal size along ``dim``; see :func:`mytensor.chunk`."""
        return _shape.chunk(self, chunks, dim)

    def unbind(self, dim: _int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim`` (each without that dim), as a tuple of views."""
        return _shape.unbind(self, dim)

    def narrow(self, dim: _int, start: _int, length: _int) -> Tensor:
        """A view of ``length`` elements of dim ``dim`` from ``start`` on."""
        return _shape.narrow(self, dim, start, length)

    def movedim(self, source, destination) -> Tensor:
        """A view with the dims ``source`` moved to positions ``destination``."""
        return _shape.movedim(self, source, destination)

    def unflatten(self, dim: _int, sizes) -> Tensor:
        """A view with dim ``dim`` split into the dims ``sizes`` (one may be -1)."""
        return _shape.unflatten(self, dim, sizes)

    def repeat(self, *sizes) -> Tensor:
        """A copy repeated ``sizes[i]`` times along dim i (``repeat(2, 3)`` or a tuple)."""
        return _shape.repeat(self, *sizes)

    def tile(self, *dims) -> Tensor:
        """A copy repeated ``dims[i]`` times along dim i; a short ``dims`` is padded with 1s in
        front (``tile(2, 3)`` or a tuple)."""
        return _shape.tile(self, _shape._shape_arg(dims))

    def roll(self, shifts, dims=None) -> Tensor:
        """A copy shifted by ``shifts`` along ``dims``, wrapping around (flattened when
        ``dims`` is None)."""
        return _shape.roll(self, shifts, dims)

    def tril(self, diagonal: _int = 0) -> Tensor:
        """The lower triangle of the last two dims (zeros above diagonal ``diagonal``)."""
        return _shape.tril(self, diagonal)

    def triu(self, diagonal: _int = 0) -> Tensor:
        """The upper triangle of the last two dims (zeros below diagonal ``diagonal``)."""
        return _shape.triu(self, diagonal)

    def outer(self, vec2: Tensor) -> Tensor:
        """The outer product with the 1-d ``vec2`` (self is 1-d too)."""
        return _shape.outer(self, vec2)

    def contiguous(self) -> Tensor:
        """self if it is contiguous, else a contiguous copy."""
        return _shape.contiguous(self)

    def clone(self) -> Tensor:
        """A copy in new memory, recorded by autograd (its gradient flows back to self)."""
        return _shape.clone(self)

    # ---- reductions --------------------------------------------------------------------------
    def sum(self, dim=None, keepdim: _bool = False, dtype=None) -> Tensor:
        """Sum over ``dim`` (an int or a tuple; all dims when None); see :func:`mytensor.sum`."""
        return _reduce.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim: _bool = False, dtype=None) -> Tensor:
        """Mean over ``dim`` (all dims when None)."""
        return _reduce.mean(self, dim, keepdim, dtype)

    def max(self, dim=None, keepdim: _bool = False, *, other=None):
        """Max of every element; along ``dim``, a namedtuple (values, indices); see
        :func:`mytensor.max`."""
        return _reduce.max(self, dim, keepdim, other=other)

    def min(self, dim=None, keepdim: _bool = False, *, other=None):
        """Min of every element; along ``dim``, a namedtuple (values, indices); see
        :func:`mytensor.min`."""
        return _reduce.min(self, dim, keepdim, other=other)

    def amax(self, dim=(), keepdim: _bool = False) -> Tensor:
        """Max over ``dim`` (all dims when empty); ties share the gradient evenly."""
        return _reduce.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim: _bool = False) -> Tensor:
        """Min over ``dim`` (all dims when empty); ties share the gradient evenly."""
        return _reduce.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim: _bool = False) -> Tensor:
        """Index of the max along ``dim`` (the first on ties), or into the flattened tensor."""
        return _reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: _bool = False) -> Tensor:
        """Index of the min along ``dim`` (the first on ties), or into the flattened tensor."""
        return _reduce.argmin(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim: _bool = False, *, correction=None) -> Tensor:
        """Variance over ``dim``, divided by N - correction (default 1)."""
        return _reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim: _bool = False, *, correction=None) -> Tensor:
        """Standard deviation: sqrt of :meth:`var`, with the same arguments."""
        return _reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim=None, keepdim: _bool = False) -> Tensor:
        """log(sum(exp(self))) over ``dim``, computed stably."""
        return _reduce.logsumexp(self, dim, keepdim)

    def softmax(self, dim=None, dtype=None) -> Tensor:
        """exp(self) / sum(exp(self)) along ``dim``, fused and stable."""
        return _reduce.softmax(self, dim, dtype)

    def log_softmax(self, dim=None, dtype=None) -> Tensor:
        """self - logsumexp(self) along ``dim``, fused."""
        return _reduce.log_softmax(self, dim, dtype)

    def all(self, dim=None, keepdim: _bool = False) -> Tensor:
        """True where every element along ``dim`` (all dims when None) is non-zero."""
        return _reduce.all(self, dim, keepdim)

    def any(self, dim=None, keepdim: _bool = False) -> Tensor:
        """True where some element along ``dim`` (all dims when None) is non-zero."""
        return _reduce.any(self, dim, keepdim)

    # ---- matmul and indexing -----------------------------------------------------------------
    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product with NumPy's rules; see :func:`mytensor.matmul`."""
        return _matmul.matmul(self, other)

    def index_select(self, dim: _int, index: Tensor) -> Tensor:
        """The entries at positions ``index`` (1-D, int64/int32) along ``dim``."""
        return _index.index_select(self, dim, index)

    def gather(self, dim: _int, index: Tensor, *, sparse_grad: _bool = False) -> Tensor:
        """Values along ``dim`` at ``index``; see :func:`mytensor.gather`."""
        return _index.gather(self, dim, index, sparse_grad=sparse_grad)

    # ---- in-place ops ------------------------------------------------------------------------
    # PyTorch's rules: a leaf that requires grad may be written in place only under no_grad; a
    # write that autograd must record gives self the grad_fn of the op's result; the native side
    # refuses writes whose memory overlaps (core/overlap.h). Writes into a view of a tensor that
    # requires grad are refused: the base's graph would not see them (PyTorch's CopySlices).
    def _inplace_records(self, op: str, *others) -> _bool:
        """Raises where PyTorch refuses an in-place write under autograd; True when autograd must
        record it (self or another operand requires grad, in grad mode)."""
        if not grad_mode.is_grad_enabled():
            return False
        if self.requires_grad and self.is_leaf:
            raise RuntimeError(
                f"[{op}] a leaf Variable that requires grad is being used in an in-place "
                "operation; wrap it in `with mt.no_grad():` (as optimizers do)"
            )
        grad_operand = any(isinstance(o, Tensor) and o.requires_grad for o in others)
        if not (self.requires_grad or grad_operand):
            return False
        node = self.grad_fn
        view = None
        while node is not None and getattr(getattr(node, "fn", None), "__name__", "") in _VIEW_FNS:
            view = view or node.fn.__name__
            edge = node.edges[0]
            node = None if edge is None else edge[0]
        if view is not None:
            if node is not None and not hasattr(node, "fn"):  # an AccumulateGrad: a leaf's view
                raise RuntimeError(
                    f"[{op}] a view of a leaf Variable that requires grad is being used in an "
                    "in-place operation; wrap it in `with mt.no_grad():`"
                )
            raise RuntimeError(
                f"[{op}] in-place write into a view ({view}) of a tensor that requires grad: "
                "mytensor's autograd does not carry it to the base tensor; use the out-of-place "
                "form, or clone() the view first"
            )
        return True

    def _check_inplace(self, op: str, *others) -> None:
        """For in-place writes that autograd cannot record (setitem, dropout_)."""
        if self._inplace_records(op, *others):
            raise RuntimeError(
                f"[{op}] in-place operations are not recorded by mytensor's autograd; use the "
                "out-of-place form (e.g. x = x + y) on tensors that require grad"
            )

    def _inplace_operand(self, other, alpha, op: str):
        """`other * alpha` as a tensor for an in-place op (PyTorch's scalar dtype rules)."""
        result = None
        if not (type(alpha) is int and alpha == 1):
            result = _ew.check_alpha(self, _ew._as_tensor(other, self, op, True), alpha, op)
        if alpha != 1:
            if isinstance(other, Tensor):
                # scaled in the op's result dtype (a uint8 other * -2 would wrap)
                return _ew.mul(other if other.dtype is result else other.to(result), alpha)
            both_bool = isinstance(other, (bool, np.bool_)) and isinstance(alpha, (bool, np.bool_))
            other = bool(other and alpha) if both_bool else other * alpha
        return _ew._as_tensor(other, self, op, True)

    def _inplace(self, op: str, fn, *args, snapshot: _bool = True, cast_check: _bool = True):
        """Writes ``fn(self, *args)``, computed by out-of-place ops, into self, in place.

        Under autograd self takes the result's grad_fn; with ``snapshot`` fn reads a clone of self
        (recorded through Clone), so that the write cannot change what fn saved for backward.
        ``cast_check``: refuse a result of a higher dtype category than self (float into int),
        as PyTorch does.
        """
        tensors = [a for a in args if isinstance(a, Tensor)]
        _C._check_inplace_overlap(self._impl, [t._impl for t in tensors], op)
        record = self._inplace_records(op, *tensors)
        result = fn(self.clone() if record and snapshot else self, *args)
        if result.shape != self.shape:
            raise _C.ShapeError(
                f"[{op}] the result of shape {result.shape} does not fit the in-place tensor of "
                f"shape {self.shape}"
            )
        if result.dtype is not self.dtype:
            if cast_check:
                _C.check_inplace_cast(result._impl.dtype, self._impl, op)
            result = result.to(self.dtype)
        _C.copy_(self._impl, result._impl)
        if record:
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
            self.requires_grad = result.requires_grad
        return self

    def add_(self, other, alpha=1) -> Tensor:
        """In-place ``self += alpha * other``; returns self."""
        if self._inplace_records("add_", other):
            return self._inplace("add_", lambda s, o: _ew.add(s, o, alpha), other, snapshot=False)
        if alpha != 1 and isinstance(other, Tensor):
            _C._check_inplace_overlap(self._impl, [other._impl], "add_")  # before the scaling
        _C.add_(self._impl, self._inplace_operand(other, alpha, "add_")._impl)
        return self

    def sub_(self, other, alpha=1) -> Tensor:
        """In-place ``self -= alpha * other``; returns self."""
        if self._inplace_records("sub_", other):
            return self._inplace("sub_", lambda s, o: _ew.sub(s, o, alpha), other, snapshot=False)
        if alpha != 1 and isinstance(other, Tensor):
            _C._check_inplace_overlap(self._impl, [other._impl], "sub_")  # before the scaling
        _C.sub_(self._impl, self._inplace_operand(other, alpha, "sub_")._impl)
        return self

    def mul_(self, other) -> Tensor:
        """In-place ``self *= other``; returns self."""
        if self._inplace_records("mul_", other):
            return self._inplace("mul_", _ew.mul, other)
        _C.mul_(self._impl, self._inplace_operand(other, 1, "mul_")._impl)
        return self

    def div_(self, other) -> Tensor:
        # True division, never a multiply by 1/other (which overflows for tiny divisors and
        # raises ZeroDivisionError for 0); integer tensors raise, as in PyTorch.
        """In-place true division ``self /= other`` (an integer self raises); returns self."""
        if self._inplace_records("div_", other):
            return self._inplace("div_", _ew.div, other)
        _C.div_(self._impl, self._inplace_operand(other, 1, "div_")._impl)
        return self

    def pow_(self, exponent) -> Tensor:
        """In-place ``self **= exponent``; returns self."""
        return self._inplace("pow_", _ew.pow, exponent)

    def copy_(self, src) -> Tensor:
        """Copies ``src`` (broadcast, cast to self's dtype and device) into self; returns self."""
        if self._inplace_records("copy_", src):
            return self._inplace("copy_", _copy_source, src, snapshot=False)
        src = _ew._as_tensor(src, self)
        _C.copy_(self._impl, src._impl)
        return self

    def fill_(self, value) -> Tensor:
        """Writes ``value`` (a number or a 0-d tensor) to every element; returns self."""
        from mytensor.ops._util import scalar_value

        # Writing one value to every location is well defined even for an expanded tensor:
        # PyTorch's fill_ allows it, so no overlap check here.
        if isinstance(value, Tensor) and value.ndim != 0:
            raise RuntimeError(
                f"[fill_] only supports a 0-dimensional value tensor, got shape {value.shape}"
            )
        if self._inplace_records("fill_", value):
            return self._inplace("fill_", _filled, value, snapshot=False)
        _C.fill_(self._impl, scalar_value(value, "fill_"))
        return self

    def zero_(self) -> Tensor:
        """Fills self with zeros; returns self."""
        return self.fill_(0.0)

    def clamp_(self, min=None, max=None) -> Tensor:
        """In-place :meth:`clamp`; returns self."""
        return self._inplace("clamp_", _ew.clamp, min, max)

    clip_ = clamp_

    def relu_(self) -> Tensor:
        # Relu saves its output, never its input: no snapshot needed.
        """In-place :meth:`relu`; returns self."""
        return self._inplace("relu_", _ew.relu, snapshot=False)

    def masked_fill_(self, mask, value) -> Tensor:
        # PyTorch casts the fill value to self's dtype (int.masked_fill_(m, 2.7) writes 2).
        """In-place :meth:`masked_fill`; returns self."""
        return self._inplace(
            "masked_fill_", _ew.masked_fill, mask, value, snapshot=False, cast_check=False
        )

    def __iadd__(self, other) -> Tensor:
        return self.add_(other)

    def __isub__(self, other) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other) -> Tensor:
        return self.div_(other)

    def __ipow__(self, other) -> Tensor:
        return self.pow_(other)


# Functions (mytensor.ops.shape) whose output is a view of their first input.
_VIEW_FNS = frozenset(
    {"Reshape", "Permute", "Transpose", "Expand", "Squeeze", "Unsqueeze", "BasicIndex"}
)


def _copy_source(dst: Tensor, src) -> Tensor:
    """copy_'s source as a recorded op: src converted to dst's device and dtype, broadcast."""
    src = _ew._as_tensor(src, dst)
    return src.to(device=dst.device, dtype=dst.dtype).expand(*dst.shape)


def _filled(dst: Tensor, value) -> Tensor:
    """fill_ as a recorded op: every element becomes value, and dst's gradient is zero."""
    everywhere = Tensor._make(_C.full(list(dst.shape), 1.0, _dt.bool_._c, dst._impl.device))
    return _ew.where(everywhere, value, dst)


def _C_wrap(dim: int, ndim: int, op: str) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"[{op}] dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % n


# The op modules use Tensor, so they are imported once it exists; the methods above reach them
# as module attributes at call time.
from mytensor.ops import elementwise as _ew  # noqa: E402
from mytensor.ops import index as _index  # noqa: E402
from mytensor.ops import matmul as _matmul  # noqa: E402
from mytensor.ops import reduce as _reduce  # noqa: E402
from mytensor.ops import shape as _shape  # noqa: E402
