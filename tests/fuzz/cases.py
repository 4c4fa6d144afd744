"""Hypothesis strategies for fuzz cases: shapes, views, dtypes, edge values, argument kinds, and
one generator per public op (OPS). Every case is plain data (see tests/fuzz/execute.py).

The op-table rows (tests/ops/op_table.py) are reused as they are: a "row" case calls a row's
mytensor and torch functions on inputs of the row's shapes, but with fuzzed dtypes, values and
views. The generators below add what the rows fix: argument kinds (int/float/bool scalars at the
edges of each dtype, dims incl. negative and out of range, keepdim), broadcasting pairs, in-place
ops, creation ops, modules and optimizers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

DTYPES = ("bool", "uint8", "int32", "int64", "float32", "float64")
FLOATS = ("float32", "float64")
INTS = ("uint8", "int32", "int64")
NAN, INF = math.nan, math.inf

EDGE = {
    "float32": [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        NAN,
        INF,
        -INF,
        3.4028234663852886e38,
        -3.4028234663852886e38,
        1.1754943508222875e-38,
        1e-45,
        16777217.0,
    ],
    "float64": [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        NAN,
        INF,
        -INF,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        2.2250738585072014e-308,
        5e-324,
        1e-310,
        9007199254740993.0,
    ],
    "int64": [0, 1, -1, 2, 2**63 - 1, -(2**63), 2**53 + 1, -(2**53 + 1), 2**31, -(2**31) - 1, 255],
    "int32": [0, 1, -1, 2, 2**31 - 1, -(2**31), 255, 256],
    "uint8": [0, 1, 2, 255, 254, 128],
    "bool": [False, True],
}
# Python scalar arguments: ints, floats and bools at the edges of every dtype.
INT_SCALARS = [
    0,
    1,
    -1,
    2,
    3,
    -7,
    255,
    256,
    2**31 - 1,
    2**31,
    2**53 + 1,
    2**62 + 1,
    2**63 - 1,
    -(2**63),
    2**63,
    2**64,
]
FLOAT_SCALARS = [0.0, -0.0, 0.5, 1.5, -2.7, 2.0, 1e-310, 1e38, 3.5e38, 1e308, NAN, INF, -INF]
BOOL_SCALARS = [True, False]


# ---- building blocks ----------------------------------------------------------------------------
def shapes(min_dims=0, max_dims=4, sizes=(0, 1, 1, 2, 2, 3, 3, 5)):
    return st.lists(st.sampled_from(sizes), min_size=min_dims, max_size=max_dims).map(tuple)


scalars = st.one_of(
    st.sampled_from(INT_SCALARS),
    st.sampled_from(FLOAT_SCALARS),
    st.sampled_from(BOOL_SCALARS),
    st.integers(-5, 5),
    st.floats(-4, 4, allow_nan=False).map(lambda f: round(f, 2)),
)
small_scalars = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.5, 2.0, True, False]))


def _cast(x: np.ndarray, dtype: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        return _cast_quiet(x, dtype)


def _cast_quiet(x: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "bool":
        return x > 0
    if dtype == "uint8":
        return np.abs(np.nan_to_num(x)).astype(np.int64).clip(0, 255).astype(np.uint8)
    if dtype in ("int32", "int64"):
        return np.nan_to_num(x).round().astype(dtype)
    return x.astype(dtype)


def values(rng: np.random.Generator, shape, dtype: str, mode: str) -> np.ndarray:
    """An array of `shape` and `dtype`: uniform, small integers, or seeded with edge values."""
    if mode == "small_int" or dtype not in FLOATS:
        x = _cast(rng.integers(-3, 4, shape).astype(np.float64), dtype)
    else:
        x = rng.uniform(-3, 3, shape).astype(dtype)
    if mode == "edges" and x.size:
        edge = np.array(EDGE[dtype], dtype=object)
        mask = rng.uniform(0, 1, shape) < 0.4
        picks = edge[rng.integers(0, len(edge), shape)]
        x = np.where(mask, picks, x.astype(object)).astype(dtype)
    return np.asarray(x, dtype=dtype)


@st.composite
def arrays(draw, shape, dtype):
    mode = draw(st.sampled_from(["uniform", "uniform", "small_int", "edges"]))
    seed = draw(st.integers(0, 2**32 - 1))
    return values(np.random.default_rng(seed), shape, dtype, mode)


def _fill_value(dtype: str):
    return {"bool": True, "uint8": 77, "int32": -77, "int64": -77}.get(dtype, NAN)


@st.composite
def views(draw, target: np.ndarray):
    """(base array, view list): the view of the base equals `target` (for "expand", the target's
    first slice along the expanded dim, repeated)."""
    kind = draw(
        st.sampled_from(["none", "none", "none", "T", "permute", "step", "offset", "expand"])
    )
    nd = target.ndim
    if kind == "T" and nd >= 2:
        return np.ascontiguousarray(target.swapaxes(-1, -2)), [["T"]]
    if kind == "permute" and nd >= 2:
        perm = draw(st.permutations(range(nd)))
        return np.ascontiguousarray(np.transpose(target, np.argsort(perm))), [
            ["permute", list(perm)]
        ]
    if kind in ("step", "offset") and nd >= 1:
        dim = draw(st.integers(0, nd - 1))
        step = draw(st.sampled_from([2, 3])) if kind == "step" else 1
        start = draw(st.sampled_from([0, 1])) if kind == "step" else 1
        n = target.shape[dim]
        shape = list(target.shape)
        shape[dim] = start + n * step + draw(st.sampled_from([0, 1]))
        base = np.full(shape, _fill_value(target.dtype.name), dtype=target.dtype)
        index = (slice(None),) * dim + (slice(start, start + n * step, step),)
        base[index] = target
        stop = start + n * step
        return base, [["slice", dim, start, stop, None if step == 1 else step]]
    if kind == "expand" and target.size:
        if nd == 0:
            return target, []
        dims = [d for d in range(nd) if target.shape[d] > 1]
        if not dims:
            return target, []
        d = draw(st.sampled_from(dims))
        base = np.ascontiguousarray(target[(slice(None),) * d + (slice(0, 1),)])
        return base, [["expand", list(target.shape)]]
    return target, []


@st.composite
def tensors(draw, shape=None, dtypes=DTYPES, grad=False, view=True, data=None):
    """An input spec: {"data": base array, "view": [...], "grad": bool}."""
    if data is None:
        shape = draw(shapes()) if shape is None else tuple(shape)
        dtype = draw(st.sampled_from(dtypes))
        data = draw(arrays(shape, dtype))
    base, vs = draw(views(data)) if view else (data, [])
    wants = grad and data.dtype.name in FLOATS and draw(st.booleans())
    return {"data": base, "view": vs, "grad": bool(wants)}


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast (mostly), with size-0, size-1 and missing dims."""
    a = draw(shapes())
    if draw(st.integers(0, 9)) == 0:
        return a, draw(shapes())  # anything: often not broadcastable
    b = []
    for s in a[::-1]:
        choice = draw(st.sampled_from(["same", "same", "one", "drop"]))
        if choice == "drop":
            break
        b.append(1 if choice == "one" else s)
    extra = draw(st.lists(st.sampled_from([1, 2, 3]), max_size=1))
    b = tuple(extra + b[::-1])
    return (a, b) if draw(st.booleans()) else (b, a)


def dim_arg(ndim: int, none=True, tuples=False):
    n = max(ndim, 1)
    ints = st.integers(-n - 1, n)
    opts = [ints, ints]
    if none:
        opts.append(st.none())
    if tuples:
        opts.append(st.lists(st.integers(-n, n - 1), max_size=3).map(tuple))
    return st.one_of(*opts)


def _case(op, expr, inputs, **args):
    return {"op": op, "expr": expr, "inputs": list(inputs), "args": args}


def _dt(lib_dtype: str) -> str:
    return f"L.{lib_dtype}"


# ---- elementwise --------------------------------------------------------------------------------
UNARY = ["neg", "exp", "log", "sqrt", "rsqrt", "abs", "relu", "sigmoid", "tanh", "square"]


UNARY_NAMES = UNARY + ["gelu", "gelu_tanh", "relu_", "-", "abs()"]


@st.composite
def unary_case(draw, name=None):
    name = name or draw(st.sampled_from(UNARY_NAMES))
    x = draw(tensors(grad=True))
    if name == "gelu":
        return _case("gelu", "F.gelu(x0)", [x])
    if name == "gelu_tanh":
        return _case("gelu", "F.gelu(x0, approximate='tanh')", [x])
    if name == "relu_":
        x["grad"] = False
        return _case("relu", "F.relu(x0, inplace=True)", [x])
    if name == "-":
        return _case("neg", "-x0", [x])
    if name == "abs()":
        return _case("abs", "abs(x0)", [x])
    form = draw(st.sampled_from(["L.{n}(x0)", "x0.{n}()"]))
    return _case(name, form.format(n=name), [x])


# Activations composed from other ops (issue #14), on float inputs with their keyword arguments.
ACTIVATION = {
    "silu": ["", ", inplace=False"],
    "leaky_relu": ["", ", negative_slope=0.2", ", 0.0"],
    "elu": ["", ", alpha=0.5"],
    "selu": [""],
    "softplus": ["", ", beta=2.0", ", beta=0.5, threshold=3.0"],
    "mish": [""],
    "hardswish": [""],
    "hardsigmoid": [""],
}


ACTIVATION_NAMES = sorted(ACTIVATION)


@st.composite
def activation_case(draw, name=None):
    name = name or draw(st.sampled_from(ACTIVATION_NAMES))
    x = draw(tensors(dtypes=FLOATS, grad=True))
    kw = draw(st.sampled_from(ACTIVATION[name]))
    return _case(name, f"F.{name}(x0{kw})", [x])


BINARY = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "pow": "**",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "maximum": None,
    "minimum": None,
}


BINARY_NAMES = sorted(BINARY)


@st.composite
def binary_case(draw, name=None):
    name = name or draw(st.sampled_from(BINARY_NAMES))
    sa, sb = draw(broadcast_pair())
    a = draw(tensors(sa, grad=True))
    kind = draw(st.sampled_from(["tensor", "tensor", "scalar", "rscalar", "0d"]))
    op = BINARY[name]
    if kind in ("scalar", "rscalar") and op is not None:
        s = draw(scalars)
        expr = f"x0 {op} s" if kind == "scalar" else f"s {op} x0"
        return _case(name, expr, [a], s=s)
    b = draw(tensors(() if kind == "0d" else sb, grad=True))
    form = draw(
        st.sampled_from(["L.{n}(x0, x1)", "x0.{n}(x1)"] + (["x0 {o} x1"] * 2 if op else []))
    )
    case = _case(name, form.format(n=name, o=op), [a, b])
    if name in ("add", "sub") and draw(st.integers(0, 3)) == 0:
        case["expr"] = f"L.{name}(x0, x1, alpha=alpha)"
        case["args"]["alpha"] = draw(small_scalars)
    return case


@st.composite
def where_case(draw, name=None):
    sa, sb = draw(broadcast_pair())
    cond = draw(tensors(sa, dtypes=("bool",)))
    a = draw(tensors(sb, grad=True))
    if draw(st.booleans()):
        return _case("where", "L.where(x0, x1, s)", [cond, a], s=draw(scalars))
    b = draw(tensors(draw(st.sampled_from([sa, sb, ()])), grad=True))
    return _case("where", "L.where(x0, x1, x2)", [cond, a, b])


@st.composite
def clamp_case(draw, name=None):
    x = draw(tensors(grad=True))
    lo = draw(st.one_of(st.none(), scalars))
    hi = draw(st.one_of(st.none(), scalars))
    form = draw(
        st.sampled_from(["L.clamp(x0, lo, hi)", "x0.clamp(min=lo, max=hi)", "x0.clip(lo, hi)"])
    )
    return _case("clamp", form, [x], lo=lo, hi=hi)


@st.composite
def masked_fill_case(draw, name=None):
    sa, sb = draw(broadcast_pair())
    x = draw(tensors(sa, grad=True))
    mask = draw(tensors(sb, dtypes=("bool",)))
    return _case("masked_fill", "x0.masked_fill(x1, v)", [x, mask], v=draw(scalars))


INPLACE = ["add_", "sub_", "mul_", "div_"]


INPLACE_NAMES = INPLACE + [
    "clamp_",
    "clip_",
    "fill_",
    "zero_",
    "copy_",
    "setitem",
    "overlap",
    "pow_",
    "relu_",
    "masked_fill_",
]


@st.composite
def inplace_case(draw, name=None):
    name = name or draw(st.sampled_from(INPLACE_NAMES))
    sa, sb = draw(broadcast_pair())
    x = draw(tensors(sa))
    if name in INPLACE:
        if draw(st.booleans()):
            return _case(name, f"x0.{name}(s)", [x], s=draw(scalars))
        y = draw(tensors(sb))
        if name in ("add_", "sub_") and draw(st.booleans()):
            return _case(name, f"x0.{name}(x1, alpha=alpha)", [x, y], alpha=draw(small_scalars))
        return _case(name, f"x0.{name}(x1)", [x, y])
    if name == "pow_":
        return _case(name, "x0.pow_(s)", [x], s=draw(small_scalars))
    if name == "relu_":
        return _case(name, "x0.relu_()", [x])
    if name == "masked_fill_":
        mask = draw(tensors(sb, dtypes=("bool",)))
        return _case(name, "x0.masked_fill_(x1, v)", [x, mask], v=draw(scalars))
    if name in ("clamp_", "clip_"):
        return _case(
            name,
            f"x0.{name}(lo, hi)",
            [x],
            lo=draw(st.one_of(st.none(), scalars)),
            hi=draw(st.one_of(st.none(), scalars)),
        )
    if name == "fill_":
        return _case(name, "x0.fill_(v)", [x], v=draw(scalars))
    if name == "zero_":
        return _case(name, "x0.zero_()", [x])
    if name == "copy_":
        return _case(name, "x0.copy_(x1)", [x, draw(tensors(sb))])
    if name == "setitem":
        index = draw(basic_index(len(sa)))
        if draw(st.booleans()):
            return _case("setitem", "x0[idx] = v\nout = x0", [x], idx=index, v=draw(scalars))
        return _case("setitem", "x0[idx] = x1\nout = x0", [x, draw(tensors(sb))], idx=index)
    # Overlap between the written tensor and its own views.
    square = draw(st.sampled_from([2, 3]))
    x = draw(tensors((square, square), dtypes=("float32", "int64"), view=False))
    expr = draw(
        st.sampled_from(
            [
                "x0.add_(x0.t())",
                "x0.copy_(x0.t())",
                "x0[...] = x0.t()\nout = x0",
                "x0[1:].add_(x0[:-1])\nout = x0",
                "x0[:, 1:].copy_(x0[:, :-1])\nout = x0",
                "x0.mul_(x0)",
                "x0[0].add_(x0[0])\nout = x0",
                "out = x0[:1].expand(3, x0.shape[1])\nout.add_(1)",
            ]
        )
    )
    return _case("overlap", expr, [x])


# ---- reductions ---------------------------------------------------------------------------------
REDUCE_TUPLE = ["sum", "mean", "amax", "amin", "logsumexp"]
REDUCE_INT = ["max", "min", "argmax", "argmin"]


REDUCE_NAMES = REDUCE_TUPLE + REDUCE_INT + ["var", "std", "softmax", "log_softmax", "all", "any"]


@st.composite
def reduce_case(draw, name=None):
    name = name or draw(st.sampled_from(REDUCE_NAMES))
    x = draw(tensors(grad=True))
    nd = x["data"].ndim if not x["view"] or x["view"][0][0] != "expand" else len(x["view"][0][1])
    keepdim = draw(st.booleans())
    if name in ("softmax", "log_softmax"):
        dim = draw(dim_arg(nd, none=False))
        form = draw(st.sampled_from(["L.{n}(x0, d)", "x0.{n}(d)", "F.{n}(x0, dim=d)"]))
        return _case(name, form.format(n=name), [x], d=dim)
    dim = draw(dim_arg(nd, none=name != "logsumexp", tuples=name in REDUCE_TUPLE + ["var", "std"]))
    if name in ("var", "std"):
        corr = draw(
            st.sampled_from(
                ["", ", correction=0", ", correction=2", ", unbiased=False", ", unbiased=True"]
            )
        )
        if dim is None:
            return _case(name, f"x0.{name}({corr[2:]})", [x])
        return _case(name, f"L.{name}(x0, d{corr}, keepdim=k)", [x], d=dim, k=keepdim)
    if dim is None:
        form = draw(st.sampled_from(["x0.{n}()", "L.{n}(x0)"]))
        return _case(name, form.format(n=name), [x])
    form = draw(st.sampled_from(["x0.{n}(d, keepdim=k)", "L.{n}(x0, dim=d, keepdim=k)"]))
    return _case(name, form.format(n=name), [x], d=dim, k=keepdim)


# ---- shape --------------------------------------------------------------------------------------
@st.composite
def basic_index(draw, ndim: int):
    """An index of ints (incl. negative and out of range), slices, None and Ellipsis."""
    parts = []
    for _ in range(draw(st.integers(0, min(ndim, 3) + 1))):
        parts.append(
            draw(
                st.one_of(
                    st.integers(-4, 4),
                    st.builds(
                        slice,
                        st.one_of(st.none(), st.integers(-4, 4)),
                        st.one_of(st.none(), st.integers(-4, 6)),
                        st.one_of(st.none(), st.integers(1, 3)),
                    ),
                    st.sampled_from([None, Ellipsis, slice(None)]),
                )
            )
        )
    return parts[0] if len(parts) == 1 and draw(st.booleans()) else tuple(parts)


@st.composite
def getitem_case(draw, name=None):
    x = draw(tensors(grad=True))
    shape = (
        x["data"].shape if not x["view"] or x["view"][0][0] != "expand" else tuple(x["view"][0][1])
    )
    kind = draw(st.sampled_from(["basic", "basic", "list", "mask", "tensor"]))
    if kind == "basic":
        return _case("getitem", "x0[idx]", [x], idx=draw(basic_index(len(shape))))
    if kind == "list":
        idx = draw(st.lists(st.integers(-4, 4), max_size=4))
        return _case("getitem", "x0[idx]", [x], idx=idx)
    if kind == "mask":
        return _case("getitem", "x0[x1]", [x, draw(tensors(shape, dtypes=("bool",)))])
    idx = draw(tensors(draw(shapes(max_dims=2)), dtypes=("int64", "int32")))
    return _case("getitem", "x0[x1]", [x, idx])


# The shape functions of issue #14 (their own generator, below).
ISSUE14_NAMES = (
    "split",
    "chunk",
    "unbind",
    "narrow",
    "movedim",
    "unflatten",
    "repeat",
    "tile",
    "roll",
    "tril",
    "triu",
    "outer",
    "meshgrid",
)

SHAPE_NAMES = [
    "reshape",
    "view",
    "permute",
    "transpose",
    "t",
    "expand",
    "squeeze",
    "unsqueeze",
    "flatten",
    "flip",
    "contiguous",
    "clone",
    "broadcast_to",
    "T",
    "mT",
    "pad",
    "expand_as",
    "reshape_as",
    "view_as",
    *ISSUE14_NAMES,
]


@st.composite
def shape_case(draw, name=None):
    name = name or draw(st.sampled_from(SHAPE_NAMES))
    x = draw(tensors(grad=True))
    shape = (
        x["data"].shape if not x["view"] or x["view"][0][0] != "expand" else tuple(x["view"][0][1])
    )
    nd = len(shape)
    numel = int(np.prod(shape)) if shape else 1
    if name in ("reshape", "view"):
        target = draw(
            st.one_of(
                shapes(max_dims=3),
                st.just((numel,)),
                st.just((-1,)),
                st.just((numel, -1) if numel else (0, -1)),
                st.just(()),
            )
        )
        return _case(name, f"x0.{name}(s)", [x], s=tuple(target))
    if name == "permute":
        perm = draw(
            st.one_of(
                st.permutations(range(nd)), st.lists(st.integers(-nd - 1, nd), max_size=nd + 1)
            )
        )
        return _case(name, "x0.permute(*p)", [x], p=tuple(perm))
    if name == "transpose":
        return _case(
            name,
            "x0.transpose(a, b)",
            [x],
            a=draw(dim_arg(nd, none=False)),
            b=draw(dim_arg(nd, none=False)),
        )
    if name in ("t", "T", "mT", "contiguous", "clone"):
        expr = {
            "t": "x0.t()",
            "T": "x0.T",
            "mT": "x0.mT",
            "contiguous": "x0.contiguous()",
            "clone": "x0.clone()",
        }[name]
        return _case(name, expr, [x])
    if name in ("expand", "broadcast_to"):
        target = list(draw(shapes(min_dims=nd, max_dims=nd + 2)))
        for i in range(1, nd + 1):  # mostly compatible: keep x's dims or -1 in the tail
            if draw(st.integers(0, 4)):
                target[-i] = shape[-i] if shape[-i] != 1 or draw(st.booleans()) else target[-i]
        if name == "expand" and nd and draw(st.booleans()):
            target[-1] = -1
        expr = "x0.expand(*s)" if name == "expand" else "L.broadcast_to(x0, s)"
        return _case(name, expr, [x], s=tuple(target))
    if name in ("expand_as", "reshape_as", "view_as"):
        other = draw(tensors(draw(st.one_of(st.just(shape), shapes())), dtypes=FLOATS))
        return _case(name, f"x0.{name}(x1)", [x, other])
    if name == "squeeze":
        dim = draw(dim_arg(nd))
        return _case(name, "x0.squeeze()" if dim is None else "x0.squeeze(d)", [x], d=dim)
    if name == "unsqueeze":
        return _case(name, "x0.unsqueeze(d)", [x], d=draw(st.integers(-nd - 2, nd + 1)))
    if name == "flatten":
        return _case(
            name,
            "x0.flatten(a, b)",
            [x],
            a=draw(dim_arg(nd, none=False)),
            b=draw(dim_arg(nd, none=False)),
        )
    if name == "flip":
        dims = draw(
            st.one_of(
                dim_arg(nd, none=False), st.lists(st.integers(-nd - 1, nd), max_size=3).map(tuple)
            )
        )
        return _case(name, "x0.flip(d)", [x], d=dims)
    if name in ISSUE14_NAMES:
        return draw(_issue14_case(name, x, shape))
    # pad: constant padding of the last dims, negative pads crop.
    pad = draw(st.lists(st.integers(-2, 3), min_size=0, max_size=6).map(tuple))
    if len(pad) % 2 and draw(st.integers(0, 3)):
        pad = pad[:-1]
    value = draw(st.one_of(st.just(0), small_scalars, st.sampled_from([NAN, 1e38, -INF])))
    return _case(name, "F.pad(x0, p, value=v)", [x], p=pad, v=value)


@st.composite
def _issue14_case(draw, name, x, shape):
    """The shape functions of issue #14: mostly valid arguments, some out of range."""
    nd = len(shape)
    dim = draw(dim_arg(nd, none=False))
    size = shape[dim] if -nd <= dim < nd else 3
    small = st.integers(-1, 4)
    if name == "split":
        if draw(st.booleans()):
            return _case(name, "x0.split(s, d)", [x], s=draw(small), d=dim)
        sizes = draw(st.lists(st.integers(0, 3), max_size=4))
        if draw(st.integers(0, 3)) and size >= sum(sizes):
            sizes = sizes + [size - sum(sizes)]
        return _case(name, "L.split(x0, s, d)", [x], s=sizes, d=dim)
    if name == "chunk":
        return _case(name, "x0.chunk(c, d)", [x], c=draw(st.integers(0, 5)), d=dim)
    if name == "unbind":
        return _case(name, "L.unbind(x0, d)", [x], d=dim)
    if name == "narrow":
        start = draw(st.integers(-size - 1, size + 1))
        return _case(name, "x0.narrow(d, s, n)", [x], d=dim, s=start, n=draw(small))
    if name == "movedim":
        if draw(st.booleans()):
            return _case(name, "L.movedim(x0, a, b)", [x], a=dim, b=draw(dim_arg(nd, none=False)))
        src = draw(st.permutations(range(nd)))[: draw(st.integers(0, nd))]
        dst = draw(st.permutations(range(nd)))[: len(src)]
        return _case(name, "x0.movedim(a, b)", [x], a=tuple(src), b=tuple(dst))
    if name == "unflatten":
        sizes = draw(
            st.one_of(
                st.just((size,)),
                st.just((1, -1)),
                st.just((-1, 1, size)),
                st.lists(st.integers(-1, 3), max_size=3).map(tuple),
            )
        )
        return _case(name, "x0.unflatten(d, s)", [x], d=dim, s=sizes)
    if name in ("repeat", "tile"):
        reps = draw(st.lists(st.integers(0, 3), min_size=0, max_size=nd + 2).map(tuple))
        if name == "repeat" and len(reps) < nd and draw(st.integers(0, 3)):
            reps = (1,) * (nd - len(reps)) + reps
        expr = "x0.repeat(r)" if name == "repeat" else "L.tile(x0, r)"
        return _case(name, expr, [x], r=reps)
    if name == "roll":
        if draw(st.booleans()):
            return _case(name, "x0.roll(s)", [x], s=draw(st.integers(-7, 7)))
        n = draw(st.integers(1, 3))
        shifts = tuple(draw(st.integers(-7, 7)) for _ in range(n))
        dims = tuple(draw(dim_arg(nd, none=False)) for _ in range(n))
        return _case(name, "L.roll(x0, s, d)", [x], s=shifts, d=dims)
    if name in ("tril", "triu"):
        return _case(name, f"x0.{name}(k)", [x], k=draw(st.integers(-4, 4)))
    # outer and meshgrid take 1-d (meshgrid also 0-d) tensors; a bad rank now and then.
    one_d = st.one_of(shapes(max_dims=1), shapes(max_dims=1), shapes(max_dims=2))
    dtypes = draw(st.sampled_from([DTYPES, FLOATS]))
    if name == "outer":
        a = draw(tensors(draw(one_d), dtypes=dtypes, grad=True))
        b = draw(tensors(draw(one_d), dtypes=dtypes, grad=True))
        return _case(name, "L.outer(x0, x1)", [a, b])
    dtype = draw(st.sampled_from(FLOATS))
    n = draw(st.integers(1, 3))
    inputs = [draw(tensors(draw(one_d), dtypes=(dtype,), grad=True)) for _ in range(n)]
    xs = ", ".join(f"x{i}" for i in range(n))
    indexing = draw(st.sampled_from(["ij", "xy"]))
    return _case(name, f"L.meshgrid({xs}, indexing=i)", inputs, i=indexing)


CAT_NAMES = ["cat", "stack"]


@st.composite
def cat_case(draw, name=None):
    name = name or draw(st.sampled_from(CAT_NAMES))
    shape = draw(shapes(max_dims=3))
    n = draw(st.integers(1, 3))
    nd = len(shape)
    dim = draw(st.integers(-nd - 2, nd + 1))
    inputs = []
    for _ in range(n):
        s = list(shape)
        if name == "cat" and nd and draw(st.booleans()):
            s[dim % nd if -nd <= dim < nd else 0] = draw(st.sampled_from([0, 1, 2]))
        if draw(st.integers(0, 9)) == 0:
            s = list(draw(shapes(max_dims=3)))
        inputs.append(
            draw(
                tensors(
                    tuple(s),
                    dtypes=draw(st.sampled_from([DTYPES, ("float32",), ("int64",)])),
                    grad=True,
                )
            )
        )
    xs = ", ".join(f"x{i}" for i in range(n))
    return _case(name, f"L.{name}([{xs}], d)", inputs, d=dim)


# ---- matmul, index, conversions -----------------------------------------------------------------
@st.composite
def matmul_case(draw, name=None):
    m, k, n = (draw(st.sampled_from([0, 1, 2, 3, 5])) for _ in range(3))
    batch = draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2))
    sa = draw(st.sampled_from([(k,), (m, k), tuple(batch) + (m, k)]))
    sb = draw(st.sampled_from([(k,), (k, n), tuple(batch[-1:]) + (k, n)]))
    if draw(st.integers(0, 7)) == 0:
        sb = draw(shapes(max_dims=3))
    dts = draw(st.sampled_from([FLOATS, FLOATS, DTYPES]))
    a, b = draw(tensors(sa, dtypes=dts, grad=True)), draw(tensors(sb, dtypes=dts, grad=True))
    if draw(st.integers(0, 3)) == 0 and len(sa) >= 1:
        w = draw(tensors((n, sa[-1]), dtypes=dts, grad=True))
        if draw(st.booleans()):
            return _case(
                "linear", "F.linear(x0, x1, x2)", [a, w, draw(tensors((n,), dtypes=dts, grad=True))]
            )
        return _case("linear", "F.linear(x0, x1)", [a, w])
    form = draw(st.sampled_from(["L.matmul(x0, x1)", "x0 @ x1", "x0.matmul(x1)"]))
    return _case("matmul", form, [a, b])


INDEX_NAMES = ["index_select", "gather"]


@st.composite
def index_case(draw, name=None):
    name = name or draw(st.sampled_from(INDEX_NAMES))
    x = draw(tensors(draw(shapes(max_dims=3)), grad=True, view=False))
    shape = x["data"].shape
    nd = len(shape)
    dim = draw(st.integers(-nd - 1, nd))
    size = shape[dim] if -nd <= dim < nd else 1
    lo, hi = (-size - 1, size) if draw(st.integers(0, 4)) == 0 else (0, max(size - 1, 0))
    itype = draw(st.sampled_from(["int64", "int64", "int32", "float32"]))
    if name == "index_select":
        k = draw(st.sampled_from([0, 1, 3]))
        idx_shape = draw(st.sampled_from([(k,), (k,), ()]))
    else:
        idx_shape = list(shape)
        if nd and -nd <= dim < nd:
            idx_shape[dim] = draw(st.sampled_from([0, 1, 3]))
        idx_shape = tuple(idx_shape)
    seed = draw(st.integers(0, 2**31))
    idx = np.random.default_rng(seed).integers(lo, hi + 1, idx_shape).astype(itype)
    return _case(name, f"L.{name}(x0, d, x1)", [x, {"data": idx, "view": [], "grad": False}], d=dim)


CONVERT_NAMES = [
    "to",
    "float",
    "double",
    "long",
    "int",
    "bool",
    "type_as",
    "item",
    "tolist",
    "numpy",
    "len",
    "size",
    "numel",
    "dim",
    "is_contiguous",
    "bool()",
    "float()",
    "int()",
    "is_floating_point",
    "shape",
    "ndim",
    "element_size",
]


@st.composite
def convert_case(draw, name=None):
    x = draw(tensors())
    name = name or draw(st.sampled_from(CONVERT_NAMES))
    if name == "to":
        return _case("to", f"x0.to({_dt(draw(st.sampled_from(DTYPES)))})", [x])
    if name in ("float", "double", "long", "int", "bool", "clone"):
        return _case(name, f"x0.{name}()", [x])
    if name == "type_as":
        return _case(name, "x0.type_as(x1)", [x, draw(tensors((1,)))])
    if name in ("bool()", "float()", "int()"):
        return _case(name, f"{name[:-2]}(x0)", [x])
    if name == "numpy":
        return _case(name, "L.from_numpy(x0.numpy().copy())", [x])
    if name == "len":
        return _case(name, "len(x0)", [x])
    if name in ("shape", "ndim"):
        return _case(name, f"tuple(x0.shape) if '{name}' == 'shape' else x0.ndim", [x])
    return _case(
        name,
        f"x0.{name}()"
        + (" if isinstance(x0.size(), int) else tuple(x0.size())" if name == "size" else ""),
        [x],
    )


# ---- creation -----------------------------------------------------------------------------------
CREATION_NAMES = [
    "zeros",
    "ones",
    "full",
    "arange",
    "eye",
    "tensor",
    "empty",
    "zeros_like",
    "full_like",
    "ones_like",
    "randint",
    "rand",
    "randn",
    "randperm",
    "empty_like",
    "rand_like",
    "randn_like",
    "as_tensor",
]


@st.composite
def creation_case(draw, name=None):
    name = name or draw(st.sampled_from(CREATION_NAMES))
    dtype = draw(st.one_of(st.none(), st.sampled_from(DTYPES)))
    dt = "" if dtype is None else f", dtype={_dt(dtype)}"
    size = draw(
        st.one_of(
            shapes(max_dims=3),
            st.sampled_from([(2**31,), (-1,), (2**62, 4), (2**63 - 1,), (2**32, 2**32)]),
        )
    )
    if name in ("zeros", "ones", "empty", "rand", "randn"):
        if name in ("rand", "randn") and dtype not in (None,) + FLOATS:
            dt = ""
        expr = f"L.{name}(s{dt}, device=dev)"
        if name in ("empty", "rand", "randn"):  # values are arbitrary: compare shape and dtype
            expr = f"(lambda e: (tuple(e.shape), e.dtype))({expr})"
        return _case(name, expr, [], s=size)
    if name == "full":
        return _case(name, f"L.full(s, v{dt}, device=dev)", [], s=size, v=draw(scalars))
    if name == "arange":
        a = draw(scalars)
        b = draw(st.one_of(st.none(), scalars))
        step = draw(st.one_of(st.none(), st.sampled_from([1, 2, -1, 0.5, -0.25, 3, 0])))
        if b is None:
            return _case(name, f"L.arange(a{dt}, device=dev)", [], a=a)
        if step is None:
            return _case(name, f"L.arange(a, b{dt}, device=dev)", [], a=a, b=b)
        return _case(name, f"L.arange(a, b, st{dt}, device=dev)", [], a=a, b=b, st=step)
    if name == "eye":
        n = draw(st.sampled_from([0, 1, 3, -1, 2**32]))
        m = draw(st.sampled_from([None, 0, 2, 4, -2]))
        return _case(
            name,
            f"L.eye(n{'' if m is None else ', m'}{dt}, device=dev)",
            [],
            n=n,
            **({} if m is None else {"m": m}),
        )
    if name in ("tensor", "as_tensor"):
        data = draw(
            st.one_of(
                scalars,
                st.lists(scalars, max_size=4),
                st.lists(st.lists(small_scalars, min_size=2, max_size=2), max_size=3),
            )
        )
        return _case(name, f"L.{name}(v{dt}, device=dev)", [], v=data)
    if name == "randint":
        lo = draw(st.sampled_from([0, -5, 3, 2**62]))
        hi = draw(st.sampled_from([1, 5, 10, 0, 2**63 - 1]))
        return _case(
            name,
            f"(lambda e: (tuple(e.shape), e.dtype, bool((e >= lo).all()), bool((e < hi).all())))"
            f"(L.randint(lo, hi, s{dt}, device=dev))",
            [],
            lo=lo,
            hi=hi,
            s=size,
        )
    if name == "randperm":
        n = draw(st.sampled_from([0, 1, 5, 17, -1]))
        return _case(
            name,
            "(lambda e: (tuple(e.shape), e.dtype, int(e.sum())))"
            f"(L.randperm(n{dt if dtype in INTS[1:] else ''}, device=dev))",
            [],
            n=n,
        )
    x = draw(tensors())
    if name == "full_like":
        return _case(name, f"L.full_like(x0, v{dt})", [x], v=draw(scalars))
    expr = f"L.{name}(x0{dt if name in ('zeros_like', 'ones_like', 'empty_like') else ''})"
    if name in ("empty_like", "rand_like", "randn_like"):
        with np.errstate(over="ignore"):  # only the shape and dtype of x matter here
            x["data"] = x["data"].astype(draw(st.sampled_from(FLOATS)))
        expr = f"(lambda e: (tuple(e.shape), e.dtype))({expr})"
    return _case(name, expr, [x])


# ---- nn.functional ------------------------------------------------------------------------------
@st.composite
def conv_case(draw, name=None):
    n, c, h, w = (
        draw(st.sampled_from([0, 1, 2])),
        draw(st.sampled_from([1, 2, 3, 4])),
        draw(st.integers(1, 7)),
        draw(st.integers(1, 7)),
    )
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    o = groups * draw(st.sampled_from([1, 2]))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    cin = max(c // groups, 1) if draw(st.integers(0, 5)) else draw(st.integers(1, 3))
    xs = (n, c, h, w) if draw(st.integers(0, 5)) else (c, h, w)
    dts = draw(st.sampled_from([("float32",), ("float64",), DTYPES]))
    x = draw(tensors(xs, dtypes=dts, grad=True))
    wt = draw(tensors((o, cin, kh, kw), dtypes=dts, grad=True))
    kw_args = {
        "stride": draw(st.sampled_from([1, 1, 2, (1, 2), 0, -1])),
        "padding": draw(st.sampled_from([0, 0, 1, 2, (1, 0), "same", "valid", -1])),
        "dilation": draw(st.sampled_from([1, 1, 2, 0])),
        "groups": groups,
    }
    inputs = [x, wt]
    bias = ""
    if draw(st.booleans()):
        inputs.append(draw(tensors((o,), dtypes=dts, grad=True)))
        bias = ", x2"
    case = _case(
        "conv2d",
        f"F.conv2d(x0, x1{bias}, stride=st, padding=pa, dilation=di, groups=g)",
        inputs,
        st=kw_args["stride"],
        pa=kw_args["padding"],
        di=kw_args["dilation"],
        g=groups,
    )
    return {**case, "rtol": 1e-4, "atol": 1e-4}


POOL_NAMES = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


@st.composite
def pool_case(draw, name=None):
    name = name or draw(st.sampled_from(POOL_NAMES))
    shape = draw(
        st.sampled_from(
            [(1, 2, 5, 5), (2, 1, 4, 7), (3, 6, 6), (1, 1, 1, 1), (0, 2, 4, 4), (1, 2, 3), (2, 3)]
        )
    )
    x = draw(tensors(shape, dtypes=draw(st.sampled_from([FLOATS, DTYPES])), grad=True))
    if name == "adaptive_avg_pool2d":
        size = draw(st.sampled_from([1, 2, (2, 3), (3, None), 0, (7, 9), -1]))
        return _case(name, "F.adaptive_avg_pool2d(x0, s)", [x], s=size)
    k = draw(st.sampled_from([1, 2, 3, (2, 3), 0, 6]))
    stride = draw(st.sampled_from([None, 1, 2, (1, 2), 0]))
    pad = draw(st.sampled_from([0, 0, 1, (1, 0), 2, -1]))
    ceil = draw(st.booleans())
    if name == "max_pool2d":
        dil = draw(st.sampled_from([1, 1, 2]))
        ri = draw(st.booleans())
        return _case(
            name,
            "F.max_pool2d(x0, k, s, p, dilation=di, ceil_mode=c, return_indices=ri)",
            [x],
            k=k,
            s=stride,
            p=pad,
            di=dil,
            c=ceil,
            ri=ri,
        )
    cip = draw(st.booleans())
    return _case(
        name,
        "F.avg_pool2d(x0, k, s, p, ceil_mode=c, count_include_pad=cip)",
        [x],
        k=k,
        s=stride,
        p=pad,
        c=ceil,
        cip=cip,
    )


# Losses composed from other ops (issue #14): same-shape float pairs, as their functional and
# as their module. Target gradients only where PyTorch's are defined at edge values (not kl_div,
# whose target gradient PyTorch makes NaN at 0).
COMPOSED_LOSS = {
    "mse_loss": ("MSELoss", [""]),
    "l1_loss": ("L1Loss", [""]),
    "smooth_l1_loss": ("SmoothL1Loss", ["", ", beta=0.5", ", beta=0.0"]),
    "huber_loss": ("HuberLoss", ["", ", delta=2.0"]),
    "binary_cross_entropy_with_logits": ("BCEWithLogitsLoss", [""]),
    "kl_div": ("KLDivLoss", ["", ", log_target=True"]),
}


COMPOSED_LOSS_NAMES = sorted(COMPOSED_LOSS)


@st.composite
def composed_loss_case(draw, name=None):
    name = name or draw(st.sampled_from(COMPOSED_LOSS_NAMES))
    module, kws = COMPOSED_LOSS[name]
    shape = draw(shapes(max_dims=3))
    dts = (draw(st.sampled_from(FLOATS)),)
    x = draw(tensors(shape, dtypes=dts, grad=True))
    t = draw(tensors(shape, dtypes=dts, grad=name in ("mse_loss", "l1_loss", "smooth_l1_loss")))
    reds = ["mean", "sum", "none"] + (["batchmean"] if name == "kl_div" else [])
    kw = draw(st.sampled_from(kws)) + ", reduction=r"
    if draw(st.booleans()):
        return _case(name, f"F.{name}(x0, x1{kw})", [x, t], r=draw(st.sampled_from(reds)))
    return _case(module, f"nn.{module}({kw[2:]})(x0, x1)", [x, t], r=draw(st.sampled_from(reds)))


LOSS_NAMES = ["cross_entropy", "nll_loss"]


@st.composite
def loss_case(draw, name=None):
    name = name or draw(st.sampled_from(LOSS_NAMES))
    n, c = draw(st.sampled_from([0, 1, 3])), draw(st.sampled_from([1, 2, 4]))
    extra = draw(st.sampled_from([(), (), (2,), (2, 3)]))
    batched = draw(st.integers(0, 4)) > 0
    xs = ((n, c) if batched else (c,)) + (extra if batched else ())
    ts = ((n,) + extra) if batched else ()
    x = draw(tensors(xs, dtypes=draw(st.sampled_from([FLOATS, FLOATS, DTYPES])), grad=True))
    ignore = draw(st.sampled_from([-100, -100, 0, 1]))
    bad = draw(st.integers(0, 5)) == 0
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    tdt = draw(st.sampled_from(["int64", "int64", "int32", "float32"]))
    tgt = rng.integers(-1 if bad else 0, c + 1 if bad else c, ts).astype(tdt)
    if draw(st.integers(0, 5)) == 0:
        tgt = np.where(rng.uniform(0, 1, ts) < 0.3, ignore, tgt).astype(tdt)
    red = draw(st.sampled_from(["mean", "sum", "none", "bogus"]))
    inputs = [x, {"data": tgt, "view": [], "grad": False}]
    wexpr = ""
    if draw(st.integers(0, 3)) == 0:
        inputs.append(draw(tensors((draw(st.sampled_from([c, c, c + 1])),), dtypes=FLOATS)))
        wexpr = ", weight=x2"
    ls = ""
    args = {"ig": ignore, "r": red}
    if name == "cross_entropy" and draw(st.booleans()):
        ls = ", label_smoothing=ls"
        args["ls"] = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, -0.1, 1.5]))
    return _case(name, f"F.{name}(x0, x1{wexpr}, ignore_index=ig, reduction=r{ls})", inputs, **args)


@st.composite
def batch_norm_case(draw, name=None):
    shape = draw(
        st.sampled_from([(4, 3), (2, 3, 5), (2, 2, 3, 3), (1, 3), (0, 3), (3,), (1, 2, 1, 1)])
    )
    c = shape[1] if len(shape) > 1 else shape[0]
    x = draw(tensors(shape, dtypes=FLOATS, grad=True))
    dt = x["data"].dtype.name
    training = draw(st.booleans())
    inputs = [x]
    rm = draw(tensors((c,), dtypes=(dt,), view=False))
    rv = draw(tensors((c,), dtypes=(dt,), view=False))
    rv["data"] = np.abs(rv["data"]) + 0.5
    inputs += [rm, rv]
    params = draw(st.sampled_from(["", "w", "wb"]))
    expr = "F.batch_norm(x0, x1, x2"
    for _ in params:
        inputs.append(draw(tensors((c,), dtypes=(dt,), grad=True)))
    expr += "".join(f", x{3 + i}" for i in range(len(params)))
    if len(params) == 1:
        expr += ", None"
    expr += ", training=tr, momentum=mo, eps=ep)"
    return _case(
        "batch_norm",
        expr,
        inputs,
        tr=training,
        mo=draw(st.sampled_from([0.1, 0.0, 1.0])),
        ep=draw(st.sampled_from([1e-5, 1e-3, 0.0])),
    )


@st.composite
def dropout_case(draw, name=None):
    x = draw(tensors(dtypes=FLOATS, grad=True))
    p = draw(st.sampled_from([0.0, 1.0, 0.5, -0.1, 1.5]))
    training = draw(st.booleans())
    if p not in (0.0, 1.0) and training and 0 <= p <= 1:
        training = False  # random masks differ between libraries
    return _case("dropout", "F.dropout(x0, p, training=tr)", [x], p=p, tr=training)


# ---- nn modules ---------------------------------------------------------------------------------
MODULE_NAMES = [
    "Linear",
    "Conv2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "ReLU",
    "GELU",
    "Sigmoid",
    "Tanh",
    "Flatten",
    "Identity",
    "Dropout",
    "CrossEntropyLoss",
    "Sequential",
    "SiLU",
    "LeakyReLU",
    "ELU",
    "SELU",
    "Softplus",
    "Mish",
    "Hardswish",
    "Hardsigmoid",
]


@st.composite
def module_case(draw, name=None):
    name = name or draw(st.sampled_from(MODULE_NAMES))
    dts = draw(st.sampled_from([("float32",), ("float64",)]))
    if name == "Linear":
        i, o = draw(st.sampled_from([0, 1, 3])), draw(st.sampled_from([1, 2]))
        x = draw(
            tensors(
                draw(st.sampled_from([(2, i), (i,), (2, 3, i), (2, i + 1)])), dtypes=dts, grad=True
            )
        )
        ctor = f"nn.Linear({i}, {o}, bias={draw(st.booleans())})"
    elif name == "Conv2d":
        c, o = draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2]))
        x = draw(tensors((1, c, 4, 5), dtypes=dts, grad=True))
        ctor = (
            f"nn.Conv2d({c}, {o}, {draw(st.sampled_from([1, 2, 3]))}, "
            f"stride={draw(st.sampled_from([1, 2]))}, padding={draw(st.sampled_from([0, 1]))},"
            f" bias={draw(st.booleans())})"
        )
    elif name in ("BatchNorm1d", "BatchNorm2d"):
        shape = (3, 2) if name == "BatchNorm1d" else (2, 2, 3, 3)
        if draw(st.integers(0, 4)) == 0:
            shape = draw(st.sampled_from([(2, 3), (2, 2, 3), (1, 2), (2, 2, 1, 1)]))
        x = draw(tensors(shape, dtypes=dts, grad=True))
        ctor = (
            f"nn.{name}(2, affine={draw(st.booleans())}, track_running_stats={draw(st.booleans())})"
        )
        if draw(st.booleans()):
            ctor += ".eval()"
    elif name in ("MaxPool2d", "AvgPool2d"):
        x = draw(tensors((1, 2, 5, 5), dtypes=dts, grad=True))
        k, stride = draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([None, 1, 2]))
        ctor = f"nn.{name}({k}, stride={stride})"
    elif name == "AdaptiveAvgPool2d":
        x = draw(tensors((1, 2, 5, 5), dtypes=dts, grad=True))
        ctor = f"nn.AdaptiveAvgPool2d({draw(st.sampled_from([1, (2, 3), 5]))})"
    elif name == "Flatten":
        x = draw(tensors(draw(shapes(max_dims=4)), dtypes=dts, grad=True))
        ctor = f"nn.Flatten({draw(st.integers(-2, 2))}, {draw(st.integers(-2, 2))})"
    elif name == "CrossEntropyLoss":
        x = draw(tensors((3, 4), dtypes=dts, grad=True))
        tgt = np.random.default_rng(draw(st.integers(0, 99))).integers(0, 4, (3,))
        ctor = (
            f"nn.CrossEntropyLoss(reduction={draw(st.sampled_from(['mean', 'sum', 'none']))!r},"
            f" label_smoothing={draw(st.sampled_from([0.0, 0.2]))})"
        )
        return _case(
            name,
            f"m = init_params({ctor})\nout = m(x0, x1)",
            [x, {"data": tgt, "view": [], "grad": False}],
        )
    elif name == "Sequential":
        x = draw(tensors((2, 3), dtypes=dts, grad=True))
        ctor = "nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Tanh())"
    elif name == "Dropout":
        x = draw(tensors(dtypes=dts, grad=True))
        ctor = f"nn.Dropout({draw(st.sampled_from([0.0, 0.5, 1.0]))}).eval()"
    else:
        x = draw(tensors(dtypes=dts, grad=True))
        ctor = f"nn.{name}()"
    convert = ".double()" if dts == ("float64",) else ""
    return _case(name, f"m = init_params({ctor}{convert})\nout = m(x0)", [x])


# ---- optimizers ---------------------------------------------------------------------------------
OPTIM_NAMES = ["SGD", "Adam", "AdamW"]


@st.composite
def optim_case(draw, name=None):
    name = name or draw(st.sampled_from(OPTIM_NAMES))
    p = draw(tensors(draw(shapes(max_dims=2)), dtypes=FLOATS, view=False))
    g = {
        "data": values(
            np.random.default_rng(draw(st.integers(0, 99))),
            p["data"].shape,
            p["data"].dtype.name,
            draw(st.sampled_from(["uniform", "edges"])),
        ),
        "view": [],
        "grad": False,
    }
    if name == "SGD":
        kw = (
            f"lr={draw(st.sampled_from([0.1, 0.0, -1.0]))}, "
            f"momentum={draw(st.sampled_from([0.0, 0.9, -0.5]))}, "
            f"weight_decay={draw(st.sampled_from([0.0, 0.1]))}, "
            f"nesterov={draw(st.booleans())}"
        )
    else:
        kw = (
            f"lr={draw(st.sampled_from([1e-3, 0.1, 0.0, -1.0]))}, "
            f"betas={draw(st.sampled_from([(0.9, 0.999), (0.0, 0.0), (1.0, 0.5)]))}, "
            f"eps={draw(st.sampled_from([1e-8, 0.0]))}, "
            f"weight_decay={draw(st.sampled_from([0.0, 0.1]))}"
        )
    steps = draw(st.sampled_from([1, 3]))
    expr = (
        f"p = x0.clone().requires_grad_()\nopt = L.optim.{name}([p], {kw})\n"
        f"for _ in range({steps}):\n    p.grad = x1.clone()\n    opt.step()\nout = p"
    )
    return _case(name, expr, [p, g])


# ---- op-table rows ------------------------------------------------------------------------------
def _table_rows():
    """(row id, its small cases) of the op-table rows the fuzzer reuses: all but the data rows
    (their reference is a NumPy model of the fused augmentation, not torch)."""
    from tests.ops import table_data
    from tests.ops.op_table import ROWS

    skip = {id(r) for r in table_data.ROWS}
    usable = []
    for row in ROWS:
        cases = [c for c in row.cases if all(int(np.prod(s)) <= 4096 for s in c)]
        if cases and id(row) not in skip:
            usable.append((row.id, cases))
    return usable


@st.composite
def row_case(draw, name=None):
    from tests.ops.op_table import ROW_BY_ID

    i, cases = draw(st.sampled_from(_table_rows()))
    row = ROW_BY_ID[i]
    shapes_ = draw(st.sampled_from(cases))
    if row.device_arg:
        return {"op": f"row:{row.name}", "row": i, "inputs": [], "expr": None, "args": {}}
    dtype = (
        draw(st.sampled_from(row.dtypes))
        if draw(st.integers(0, 3))
        else draw(st.sampled_from(DTYPES))
    )
    base = row.inputs(
        shapes_, dtype if dtype in FLOATS else "float64", seed=draw(st.integers(0, 999))
    )
    inputs = []
    for k, arr in enumerate(base):
        arr = np.asarray(arr)
        if arr.dtype.kind == "f" and dtype not in FLOATS:
            arr = _cast(arr, dtype)
        if arr.dtype.kind == "f" and draw(st.integers(0, 4)) == 0 and arr.size:
            arr = values(np.random.default_rng(k), arr.shape, arr.dtype.name, "edges")
        inputs.append(draw(tensors(data=arr, grad=k in row.grad)))
    return {
        "op": f"row:{row.name}",
        "row": i,
        "inputs": inputs,
        "expr": None,
        "args": {},
        "rtol": row.rtol,
        "atol": row.atol,
    }


# ---- the registry -------------------------------------------------------------------------------
@dataclass
class Op:
    """A generator of cases over one family of public entry points; `names` are its sub-ops
    (each gets its own share of a budget), `covers` the public names it exercises."""

    group: str
    fn: object
    covers: tuple = ()
    weight: int = 1

    @property
    def names(self) -> tuple:
        """The sub-op names its generator draws from (UNARY_NAMES, ...), or (None,)."""
        const = globals().get(self.fn.__name__.replace("_case", "").upper() + "_NAMES")
        return tuple(const) if const else (None,)

    def strategy(self, name=None):
        return self.fn(name) if name is not None else self.fn()


OPS = [
    Op("unary", unary_case, tuple(UNARY) + ("gelu",)),
    Op("binary", binary_case, tuple(BINARY), 2),
    Op("where", where_case, ("where",), 3),
    Op("clamp", clamp_case, ("clamp", "clip"), 4),
    Op("masked_fill", masked_fill_case, ("masked_fill",), 3),
    Op(
        "inplace",
        inplace_case,
        (
            "add_",
            "sub_",
            "mul_",
            "div_",
            "clamp_",
            "clip_",
            "fill_",
            "zero_",
            "copy_",
            "__setitem__",
            "pow_",
            "relu_",
            "masked_fill_",
        ),
        2,
    ),
    Op(
        "reduce",
        reduce_case,
        (
            "sum",
            "mean",
            "amax",
            "amin",
            "logsumexp",
            "max",
            "min",
            "argmax",
            "argmin",
            "var",
            "std",
            "softmax",
            "log_softmax",
            "all",
            "any",
        ),
    ),
    Op("getitem", getitem_case, ("__getitem__",), 6),
    Op(
        "shape",
        shape_case,
        (
            "reshape",
            "view",
            "permute",
            "transpose",
            "t",
            "expand",
            "squeeze",
            "unsqueeze",
            "flatten",
            "flip",
            "contiguous",
            "clone",
            "broadcast_to",
            "T",
            "mT",
            "pad",
            "expand_as",
            "reshape_as",
            "view_as",
            "split",
            "chunk",
            "unbind",
            "narrow",
            "movedim",
            "unflatten",
            "repeat",
            "tile",
            "roll",
            "tril",
            "triu",
            "outer",
            "meshgrid",
        ),
    ),
    Op("cat", cat_case, ("cat", "stack"), 2),
    Op("matmul", matmul_case, ("matmul", "linear", "__matmul__"), 5),
    Op("index", index_case, ("index_select", "gather"), 2),
    Op(
        "convert",
        convert_case,
        (
            "to",
            "float",
            "double",
            "long",
            "int",
            "bool",
            "type_as",
            "item",
            "tolist",
            "numpy",
            "from_numpy",
            "size",
            "numel",
            "dim",
            "is_contiguous",
            "is_floating_point",
            "element_size",
            "__len__",
            "__bool__",
            "__float__",
            "__int__",
        ),
    ),
    Op(
        "creation",
        creation_case,
        (
            "zeros",
            "ones",
            "full",
            "arange",
            "eye",
            "tensor",
            "as_tensor",
            "empty",
            "zeros_like",
            "ones_like",
            "full_like",
            "empty_like",
            "randint",
            "rand",
            "randn",
            "randperm",
            "rand_like",
            "randn_like",
        ),
        2,
    ),
    Op("conv2d", conv_case, ("conv2d",), 6),
    Op("pool", pool_case, ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"), 2),
    Op("loss", loss_case, ("cross_entropy", "nll_loss"), 2),
    Op(
        "composed_loss",
        composed_loss_case,
        tuple(COMPOSED_LOSS) + tuple(m for m, _ in COMPOSED_LOSS.values()),
        2,
    ),
    Op("batch_norm", batch_norm_case, ("batch_norm",), 3),
    Op("dropout", dropout_case, ("dropout",), 2),
    Op(
        "module",
        module_case,
        (
            "Linear",
            "Conv2d",
            "BatchNorm1d",
            "BatchNorm2d",
            "MaxPool2d",
            "AvgPool2d",
            "AdaptiveAvgPool2d",
            "ReLU",
            "GELU",
            "Sigmoid",
            "Tanh",
            "Flatten",
            "Identity",
            "Dropout",
            "CrossEntropyLoss",
            "Sequential",
            "SiLU",
            "LeakyReLU",
            "ELU",
            "SELU",
            "Softplus",
            "Mish",
            "Hardswish",
            "Hardsigmoid",
        ),
    ),
    Op("activation", activation_case, tuple(ACTIVATION)),
    Op("optim", optim_case, ("SGD", "Adam", "AdamW")),
    Op("row", row_case, (), 25),
]


def plan(n: int) -> list[tuple]:
    """(op, sub-name, count) for a budget of n cases: each sub-op gets its weight's share."""
    pairs = [(op, name) for op in OPS for name in op.names]
    total = sum(op.weight for op, _ in pairs)
    return [(op, name, max(1, math.ceil(n * op.weight / total))) for op, name in pairs]
