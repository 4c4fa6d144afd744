"""``Function`` and ``Context``: each differentiable op is a Function with forward and backward."""

from __future__ import annotations

from mytensor.autograd import grad_mode


class Context:
    """What a Function's forward hands to its backward.

    ``needs_input_grad[i]`` says whether input i needs a gradient; ``save_for_backward`` keeps
    tensors (checked against in-place modification when read back); any other attribute may be set
    freely (shapes, scalars).
    """

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple | None = ()
        self._versions: tuple = ()
        self._freed = False
        self._fn_name = ""

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors
        self._versions = tuple(None if t is None else t._impl.version for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                f"[{self._fn_name}] Trying to backward through the graph a second time (or to "
                "read saved tensors after they were freed). Pass retain_graph=True to the first "
                "backward() if you need to backward through the graph again."
            )
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if t is not None and t._impl.version != v:
                raise RuntimeError(
                    f"[{self._fn_name}] one of the tensors needed for gradient computation has "
                    f"been modified by an in-place operation: saved tensor {i} of shape "
                    f"{tuple(t.shape)} is at version {t._impl.version}; expected version {v}. "
                    "Use an out-of-place op or clone() the tensor before modifying it."
                )
        return self._saved

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


class Function:
    """Base class of differentiable ops.

    Subclasses define ``forward(ctx, *args, **kwargs)``, computing outputs from the inputs'
    native data (never recording a graph), and ``backward(ctx, *grad_outputs)``, returning one
    gradient (or None) per positional input, written with mytensor ops. ``apply`` runs forward and
    records a Node when grad mode is on and some tensor input requires a gradient.
    """

    @staticmethod
    def forward(ctx: Context, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        from mytensor._tensor import Tensor

        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = any(needs) and grad_mode.is_grad_enabled()
        ctx = Context(needs)
        outputs = cls.forward(ctx, *args, **kwargs)
        if not record:
            return outputs
        ctx._fn_name = cls.__name__
        edges = []
        input_meta = []
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
        single = isinstance(outputs, Tensor)
        outs = (outputs,) if single else tuple(outputs)
        node = Node(
            cls,
            ctx,
            tuple(edges),
            tuple(input_meta),
            tuple((o.shape, o.dtype, o.device) for o in outs),
        )
        for i, o in enumerate(outs):
            o.requires_grad = o.dtype.is_floating_point
            o.grad_fn = node
            o._output_nr = i
        # An output saved for backward would point back at its own node: keep a detached alias.
        if ctx._saved:
            ctx._saved = tuple(
                t._detached_alias() if t is not None and any(t is o for o in outs) else t
                for t in ctx._saved
            )
        return outputs
