"""``Function`` and ``Context``: each differentiable op is a Function with forward and backward."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mytensor import _C
from mytensor.autograd import grad_mode

if TYPE_CHECKING:
    from mytensor._tensor import Tensor


class Context:
    """What a Function's forward hands to its backward.

    ``needs_input_grad[i]`` says whether input i needs a gradient; ``save_for_backward`` keeps
    tensors (checked against in-place modification when read back); any other attribute may be set
    freely (shapes, scalars).
    """

    # Class-level defaults: a Context that saves nothing (most of them, and every one on the
    # no-grad path) costs one attribute write to make.
    _saved: tuple | None = ()
    _versions: tuple = ()
    _freed = False
    _fn_name = ""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *tensors) -> None:
        """Keeps ``tensors`` (native impls in forward, or None) for backward.

        ``Function.apply`` turns them into Tensors once forward returns (an input keeps its
        identity, so its graph stays reachable for double backward) and records their versions.
        """
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to save_for_backward, as Tensors; raises if one has been modified
        in place since, or if the graph has been freed by an earlier backward."""
        if self._freed:
            raise RuntimeError(
                f"[{self._fn_name}] Trying to backward through the graph a second time (or to "
                "read saved tensors after they were freed). Pass retain_graph=True to the first "
                "backward() if you need to backward through the graph again."
            )
        saved = self._saved or ()
        for i, (t, v) in enumerate(zip(saved, self._versions)):
            if t is not None and t._impl.version != v:
                raise RuntimeError(
                    f"[{self._fn_name}] one of the tensors needed for gradient computation has "
                    f"been modified by an in-place operation: saved tensor {i} of shape "
                    f"{tuple(t.shape)} is at version {t._impl.version}; expected version {v}. "
                    "Use an out-of-place op or clone() the tensor before modifying it."
                )
        return saved

    def _free(self) -> None:
        self._saved = None
        self._freed = True


class Node:
    """A recorded op in the graph: its Function, its Context and the edges to its inputs.

    ``edges[i]`` is ``(node, output_nr)`` for an input that needs a gradient, else None.
    ``input_meta[i]`` is ``(shape, dtype, device)`` of that input, to check returned gradients.
    """

    __slots__ = ("fn", "ctx", "edges", "input_meta", "output_meta", "retained", "__weakref__")

    def __init__(self, fn, ctx, edges, input_meta, output_meta) -> None:
        self.fn = fn
        self.ctx = ctx
        self.edges = edges
        self.input_meta = input_meta
        self.output_meta = output_meta
        self.retained = None

    def name(self) -> str:
        return self.fn.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """The graph's sink for a leaf tensor: adds the incoming gradient into ``leaf.grad``."""

    __slots__ = ("leaf", "__weakref__")

    def __init__(self, leaf) -> None:
        self.leaf = leaf

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


_TensorImpl = _C.TensorImpl
# mytensor._tensor imports this package, so the Tensor class is looked up on first use.
_Tensor: type[Tensor] | None = None


def _tensor_class() -> type[Tensor]:
    global _Tensor
    from mytensor._tensor import Tensor

    _Tensor = Tensor
    return Tensor


class Function:
    """Base class of differentiable ops.

    ``forward(ctx, *args, **kwargs)`` sees native data only: every Tensor among the positional
    args arrives as its ``TensorImpl``, and forward returns a ``TensorImpl`` or a tuple of them
    (calling ``_C`` directly, never recording a graph); ``ctx.save_for_backward`` takes impls too.
    ``backward(ctx, *grad_outputs)`` sees Tensors and returns one gradient (or None) per
    positional input, written with mytensor ops so that it is differentiable again.

    ``apply`` does the wrapping at this boundary: it unwraps the inputs, runs forward, wraps the
    outputs into Tensors, and records a Node when grad mode is on and some tensor input requires
    a gradient (old tinygrad's Function.apply did the same).
    """

    @staticmethod
    def forward(ctx: Context, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs forward on the inputs' native data and returns its outputs as Tensors, recorded
        for backward when grad mode is on and an input requires grad."""
        tensor_cls = _Tensor or _tensor_class()
        raw = []
        needs = []
        any_need = False
        for a in args:
            if isinstance(a, tensor_cls):
                raw.append(a._impl)
                need = a.requires_grad
                any_need = any_need or need
                needs.append(need)
            else:
                raw.append(a)
                needs.append(False)
        if any_need and len(raw) > 1:
            _separate_shared_impls(args, raw, tensor_cls)
        ctx = Context(tuple(needs))
        result = cls.forward(ctx, *raw, **kwargs)
        make = tensor_cls._make
        if type(result) is _TensorImpl:
            single = True
            outs: tuple = (make(result),)
        elif type(result) is tuple:
            single = False
            outs = tuple(None if r is None else make(_check_impl(cls, r)) for r in result)
        else:
            raise _bad_output(cls, result)
        if not (any_need and grad_mode.is_grad_enabled()):
            return outs[0] if single else outs
        _record(cls, ctx, args, raw, needs, outs)
        return outs[0] if single else outs


def _separate_shared_impls(args: tuple, raw: list, tensor_cls) -> None:
    """Two different Tensors can hold one impl object (x and x.detach()): the later one's is
    replaced by an alias (same storage and version counter), so that each impl forward saves
    maps back to the Tensor it came from."""
    if len(raw) == 2:  # the common binary op: one comparison
        if raw[0] is raw[1] and args[0] is not args[1] and isinstance(args[1], tensor_cls):
            raw[1] = _C.expand(raw[1], raw[1].shape)
        return
    owners: dict[int, object] = {}
    for i, a in enumerate(args):
        if isinstance(a, tensor_cls) and owners.setdefault(id(raw[i]), a) is not a:
            raw[i] = _C.expand(raw[i], raw[i].shape)


def _check_impl(fn, value):
    if type(value) is not _TensorImpl:
        raise _bad_output(fn, value)
    return value


def _bad_output(fn, value) -> TypeError:
    return TypeError(
        f"[{fn.__name__}] forward must return a TensorImpl or a tuple of them (the native data; "
        f"Function.apply wraps it), got {type(value).__name__}"
    )


def _record(fn, ctx: Context, args: tuple, raw: list, needs: list[bool], outs: tuple) -> None:
    """Makes a Node for this call of fn and hangs it on the outputs."""
    ctx._fn_name = fn.__name__
    edges: list[tuple[object, int] | None] = []
    input_meta: list[tuple | None] = []
    for a, need in zip(args, needs):
        if not need:
            edges.append(None)
            input_meta.append(None)
            continue
        if a.grad_fn is not None:
            edges.append((a.grad_fn, a._output_nr))
        else:
            edges.append((AccumulateGrad(a), 0))
        input_meta.append((a.shape, a.dtype, a.device))
    output_meta: list[tuple | None] = []
    for o in outs:
        if o is None:
            output_meta.append(None)
            continue
        dtype = o.dtype
        output_meta.append((o.shape, dtype, o.device))
        o.requires_grad = dtype.is_floating_point
    node = Node(fn, ctx, tuple(edges), tuple(input_meta), tuple(output_meta))
    for i, o in enumerate(outs):
        if o is not None:
            o.grad_fn = node
            o._output_nr = i
    if ctx._saved:
        ctx._saved = tuple(_saved_tensor(s, args, raw, outs) for s in ctx._saved)
        ctx._versions = tuple(None if t is None else t._impl.version for t in ctx._saved)


def _saved_tensor(impl, args: tuple, raw: list, outs: tuple):
    """The Tensor for an impl that forward saved: the input it was passed as (so that its graph
    stays reachable), a detached alias of an output (which would otherwise point back at its own
    node), or a new Tensor for an intermediate."""
    if impl is None:
        return None
    tensor_cls = _Tensor or _tensor_class()
    for a, r in zip(args, raw):
        if r is impl and isinstance(a, tensor_cls):
            return a
    for o in outs:
        if o is not None and o._impl is impl:
            return o._detached_alias()
    return tensor_cls._make(impl)
