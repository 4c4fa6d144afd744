"""Rows for elementwise ops (src/core/ops/elementwise.cpp)."""

import mytensor as mt
import numpy as np
import torch

from tests.ops.op_table import ErrorRow, Row, ones_on, tensor_on

UNARY_SHAPES = [((3, 4),), ((),), ((1, 5),), ((0, 3),), ((2, 3, 5),), ((70000,),)]
BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((4,), (2, 3, 4)),
    ((), (2, 3)),
    ((2, 1, 5), (3, 1)),
    ((0, 3), (1, 3)),
    ((70000,), (70000,)),
]


def positive(shapes, rng, dtype):
    return [rng.uniform(0.2, 3.0, s).astype(dtype) for s in shapes]


def away_from_zero(shapes, rng, dtype):
    # Keeps inputs away from kinks so that finite differences are meaningful.
    out = []
    for s in shapes:
        x = rng.uniform(0.1, 2.0, s) * rng.choice([-1.0, 1.0], size=s)
        out.append(np.asarray(x).astype(dtype))
    return out


def distinct_pairs(shapes, rng, dtype):
    a = rng.uniform(-2, 2, shapes[0]).astype(dtype)
    b = (rng.uniform(-2, 2, shapes[1]) + 0.05).astype(dtype)
    return [a, b]


ROWS = [
    Row("neg", lambda x: -x, lambda x: -x, UNARY_SHAPES),
    Row("exp", mt.exp, torch.exp, UNARY_SHAPES, label="plain"),
    Row("log", mt.log, torch.log, UNARY_SHAPES, make=positive),
    Row("sqrt", mt.sqrt, torch.sqrt, UNARY_SHAPES, make=positive),
    Row("rsqrt", mt.rsqrt, torch.rsqrt, UNARY_SHAPES, make=positive),
    Row("abs", mt.abs, torch.abs, UNARY_SHAPES, make=away_from_zero),
    Row("relu", mt.relu, torch.relu, UNARY_SHAPES, make=away_from_zero, covers=("relu_backward",)),
    Row(
        "sigmoid",
        mt.sigmoid,
        torch.sigmoid,
        UNARY_SHAPES,
        low=-8,
        high=8,
        covers=("sigmoid_backward",),
    ),
    Row("tanh", mt.tanh, torch.tanh, UNARY_SHAPES, covers=("tanh_backward",)),
    Row("gelu", mt.gelu, torch.nn.functional.gelu, UNARY_SHAPES, covers=("gelu_backward",)),
    Row("pow_scalar", lambda x: x**3, lambda x: x**3, UNARY_SHAPES, label="3"),
    Row(
        "pow_scalar",
        lambda x: x**0.5,
        lambda x: x**0.5,
        UNARY_SHAPES[:2],
        make=positive,
        label="0.5",
    ),
    Row(
        "clamp",
        lambda x: mt.clamp(x, -0.5, 0.7),
        lambda x: torch.clamp(x, -0.5, 0.7),
        UNARY_SHAPES,
        make=away_from_zero,
        label="0.5_0.7",
    ),
    Row(
        "clamp",
        lambda x: x.clamp(min=0.3),
        lambda x: x.clamp(min=0.3),
        UNARY_SHAPES[:2],
        label="min_0.3",
    ),
    Row("add", lambda a, b: a + b, lambda a, b: a + b, BINARY_SHAPES, grad=(0, 1), label="tensor"),
    Row(
        "add", lambda a: a + 2.5, lambda a: a + 2.5, UNARY_SHAPES[:3], covers=("full",), label="2.5"
    ),
    Row("sub", lambda a, b: a - b, lambda a, b: a - b, BINARY_SHAPES, grad=(0, 1), label="tensor"),
    Row("sub", lambda a: 1.0 - a, lambda a: 1.0 - a, UNARY_SHAPES[:3], label="1.0"),
    Row("mul", lambda a, b: a * b, lambda a, b: a * b, BINARY_SHAPES, grad=(0, 1), label="tensor"),
    Row(
        "div",
        lambda a, b: a / b,
        lambda a, b: a / b,
        BINARY_SHAPES,
        grad=(0, 1),
        make=lambda s, r, d: [r.uniform(-2, 2, s[0]).astype(d), positive(s[1:], r, d)[0]],
        label="tensor",
    ),
    Row("div", lambda a: 2.0 / a, lambda a: 2.0 / a, UNARY_SHAPES[:3], make=positive, label="2.0"),
    Row(
        "pow",
        lambda a, b: a**b,
        lambda a, b: a**b,
        BINARY_SHAPES[:5],
        grad=(0, 1),
        make=lambda s, r, d: [positive(s[:1], r, d)[0], r.uniform(-2, 2, s[1]).astype(d)],
    ),
    Row("maximum", mt.maximum, torch.maximum, BINARY_SHAPES, grad=(0, 1), make=distinct_pairs),
    Row("minimum", mt.minimum, torch.minimum, BINARY_SHAPES, grad=(0, 1), make=distinct_pairs),
    Row(
        "where",
        lambda a, b: mt.where(a > 0, a, b),
        lambda a, b: torch.where(a > 0, a, b),
        BINARY_SHAPES[:6],
        grad=(0, 1),
        make=distinct_pairs,
    ),
    Row(
        "eq",
        lambda a, b: a == b,
        lambda a, b: a == b,
        BINARY_SHAPES,
        grad=(),
        make=lambda s, r, d: [r.integers(0, 3, x).astype(d) for x in s],
    ),
    Row(
        "ne",
        lambda a, b: a != b,
        lambda a, b: a != b,
        BINARY_SHAPES,
        grad=(),
        make=lambda s, r, d: [r.integers(0, 3, x).astype(d) for x in s],
    ),
    Row("lt", lambda a, b: a < b, lambda a, b: a < b, BINARY_SHAPES, grad=()),
    Row("le", lambda a, b: a <= b, lambda a, b: a <= b, BINARY_SHAPES, grad=()),
    Row("gt", lambda a, b: a > b, lambda a, b: a > b, BINARY_SHAPES, grad=()),
    Row("ge", lambda a, b: a >= b, lambda a, b: a >= b, BINARY_SHAPES, grad=()),
    # Integer and mixed dtypes: promotion must match PyTorch's.
    Row(
        "add",
        lambda a, b: a.long() + b,
        lambda a, b: a.long() + b,
        BINARY_SHAPES[:3],
        grad=(),
        covers=("to_dtype",),
        label="long",
    ),
    Row(
        "mul",
        lambda a: a.long() * 2,
        lambda a: a.long() * 2,
        UNARY_SHAPES[:3],
        grad=(),
        label="long_2",
    ),
    Row(
        "div",
        lambda a: a.long() / 3,
        lambda a: a.long() / 3,
        UNARY_SHAPES[:3],
        grad=(),
        label="long_3",
    ),
    Row(
        "mul",
        lambda a: a.long() * 1.5,
        lambda a: a.long() * 1.5,
        UNARY_SHAPES[:3],
        grad=(),
        label="long_1.5",
    ),
    Row(
        "add",
        lambda a, b: a + b.double(),
        lambda a, b: a + b.double(),
        BINARY_SHAPES[:3],
        grad=(0, 1),
        dtypes=("float32",),
        gradcheck=False,
        label="double",
    ),
    Row(
        "exp",
        lambda a: mt.exp(a.long()),
        lambda a: torch.exp(a.long()),
        UNARY_SHAPES[:2],
        grad=(),
        # the input is cast to int64 and the result is float32 whatever the row's dtype: run it
        # once, at float32's tolerance (CUDA's expf is 1 ulp from torch's CPU exp)
        dtypes=("float32",),
        label="long",
    ),
    Row(
        "add_",
        lambda a, b: a.detach().clone().add_(b),
        lambda a, b: a.detach().clone().add_(b),
        BINARY_SHAPES[:1] + [((3, 4), (4,))],
        grad=(),
        covers=("clone",),
    ),
    Row(
        "mul_",
        lambda a, b: a.detach().clone().mul_(b),
        lambda a, b: a.detach().clone().mul_(b),
        BINARY_SHAPES[:1] + [((3, 4), (4,))],
        grad=(),
    ),
    # issue #10: sub_ and div_ are native in-place ops (div_ divides, never multiplies by 1/b).
    Row(
        "sub_",
        lambda a, b: a.detach().clone().sub_(b),
        lambda a, b: a.detach().clone().sub_(b),
        BINARY_SHAPES[:1] + [((3, 4), (4,))],
        grad=(),
    ),
    Row(
        "div_",
        lambda a, b: a.detach().clone().div_(b),
        lambda a, b: a.detach().clone().div_(b),
        BINARY_SHAPES[:1] + [((3, 4), (4,))],
        grad=(),
        low=0.5,
    ),
]

# Activations composed from other ops in Python (issue #14): rows named after the functional
# (tests/test_op_coverage.py COMPOSED). Random inputs keep off the kinks (away_from_zero, and
# hardswish/hardsigmoid are sampled on (-5, 5) where +-3 has probability 0); the "edges" rows put
# NaN, +-inf, huge values and the kinks themselves (0, +-3, softplus's threshold) through forward
# and backward, against PyTorch's values there.
EDGES = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 100.0, -100.0, 30.0, -30.0, 20.0, 20.5]
EDGES += [-20.0, 3.0, -3.0, 1e-8, -1e-8, 0.5, -0.5, 2.9, -2.9, 88.0, -88.0, 710.0, -710.0]


def edge_values(shapes, rng, dtype):
    out = []
    for s in shapes:
        n = int(np.prod(s))
        out.append(np.resize(np.asarray(EDGES), n).reshape(s).astype(dtype))
    return out


TF = torch.nn.functional
ACT_SHAPES = [((3, 4),), ((),), ((1, 5),), ((0, 3),), ((2, 3, 5),), ((7, 129),), ((70000,),)]
_ACTIVATIONS = [
    ("silu", {}, {}),
    ("leaky_relu", {}, {"make": away_from_zero}),
    ("leaky_relu", {"negative_slope": 0.2}, {"make": away_from_zero}),
    ("elu", {}, {"make": away_from_zero}),
    ("elu", {"alpha": 0.5}, {"make": away_from_zero}),
    ("selu", {}, {"make": away_from_zero}),
    ("softplus", {}, {"low": -30.0, "high": 30.0}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}, {"make": away_from_zero}),
    ("mish", {}, {"low": -6.0, "high": 6.0}),
    ("hardswish", {}, {"low": -5.0, "high": 5.0}),
    # PyTorch's float64 hardsigmoid backward scales by a float32 1/6 (relative error 3e-8).
    ("hardsigmoid", {}, {"low": -5.0, "high": 5.0, "rtol64": 1e-7}),
]


def _act(name, kw, lib):
    fn = getattr(mt.nn.functional if lib == "mt" else TF, name)
    return lambda x: fn(x, **kw)


for _name, _kw, _opts in _ACTIVATIONS:
    _label = "-".join(f"{k}{v}" for k, v in _kw.items())
    ROWS.append(
        Row(
            _name,
            _act(_name, _kw, "mt"),
            _act(_name, _kw, "torch"),
            ACT_SHAPES,
            label=_label,
            **_opts,
        )
    )
    ROWS.append(
        Row(
            _name,
            _act(_name, _kw, "mt"),
            _act(_name, _kw, "torch"),
            [((2, 13),), ((26,),)],
            make=edge_values,
            gradcheck=False,
            **{k: v for k, v in _opts.items() if k.startswith(("atol", "rtol"))},
            label="-".join(p for p in (_label, "edges") if p),
        )
    )

# PReLU's functional, with one slope and one per channel (dim 1), both inputs differentiated.
ROWS += [
    Row(
        "prelu",
        lambda x, w: mt.nn.functional.prelu(x, w),
        TF.prelu,
        [
            ((2, 3, 4), (3,)),
            ((2, 3), (1,)),
            ((5, 3, 2, 2), (3,)),
            ((4,), (1,)),
            ((), (1,)),
            ((7, 129), (129,)),
        ],
        grad=(0, 1),
        make=lambda shapes, rng, dtype: [
            away_from_zero(shapes[:1], rng, dtype)[0],
            rng.uniform(-0.5, 0.5, shapes[1]).astype(dtype),
        ],
    ),
]


# Bad calls: a typed exception naming the op and the offending shapes or dtypes.
ERRORS = [
    ErrorRow(
        "add-not-broadcastable",
        lambda d: ones_on(d, 2, 3) + ones_on(d, 4, 3),
        mt.ShapeError,
        r"\[add\] shapes \(2, 3\) and \(4, 3\) cannot be broadcast",
    ),
    ErrorRow(
        "mul-not-broadcastable",
        lambda d: ones_on(d, 2, 3) * ones_on(d, 3, 2),
        ValueError,
        r"\[mul\] shapes \(2, 3\) and \(3, 2\)",
    ),
    ErrorRow(
        "neg-bool",
        lambda d: -tensor_on(d, [True]),
        mt.DTypeError,
        r"\[neg\] is not supported for bool",
    ),
    ErrorRow(
        "sub-bool",
        lambda d: tensor_on(d, [True]) - tensor_on(d, [False]),
        mt.DTypeError,
        r"\[sub\] is not supported for bool",
    ),
    ErrorRow(
        "where-float-condition",
        lambda d: mt.where(ones_on(d, 2), ones_on(d, 2), ones_on(d, 2)),
        mt.DTypeError,
        r"\[where\] condition must be bool, got float32",
    ),
    ErrorRow(
        "pow-negative-integer-power",
        lambda d: tensor_on(d, [1, 2]) ** -1,
        ValueError,
        r"negative integer powers",
    ),
    ErrorRow(
        "clamp-no-bound",
        lambda d: mt.clamp(ones_on(d, 2)),
        ValueError,
        r"\[clamp\] at least one of min and max",
    ),
    ErrorRow(
        "add_-result-shape",
        lambda d: tensor_on(d, [1.0]).add_(ones_on(d, 3)),
        mt.ShapeError,
        r"\[add_\] the result of shape",
    ),
    # issue #10: RuntimeError with PyTorch's wording (was DTypeError "cannot be cast").
    ErrorRow(
        "add_-float-into-int64",
        lambda d: tensor_on(d, [1, 2]).add_(1.5),
        RuntimeError,
        r"\[add_\] result type float32 can't be cast to the desired output type int64",
    ),
    # issue #14: the composed activations check their input themselves.
    ErrorRow(
        "silu-int64",
        lambda d: mt.nn.functional.silu(tensor_on(d, [1, 2])),
        mt.DTypeError,
        r"\[silu\] expected a floating-point input, got int64",
    ),
    ErrorRow(
        "softplus-bool",
        lambda d: mt.nn.functional.softplus(tensor_on(d, [True])),
        mt.DTypeError,
        r"\[softplus\] expected a floating-point input, got bool",
    ),
    ErrorRow(
        "leaky_relu-not-a-tensor",
        lambda d: mt.nn.functional.leaky_relu([1.0, 2.0]),
        TypeError,
        r"\[leaky_relu\] expected a Tensor, got list",
    ),
    ErrorRow(
        "prelu-weight-channels",
        lambda d: mt.nn.functional.prelu(ones_on(d, 2, 3, 4), ones_on(d, 4)),
        mt.ShapeError,
        r"\[prelu\] weight has 4 slopes but the input of shape \(2, 3, 4\) has 3 channels",
    ),
    ErrorRow(
        "prelu-weight-2d",
        lambda d: mt.nn.functional.prelu(ones_on(d, 2, 3), ones_on(d, 1, 3)),
        mt.ShapeError,
        r"\[prelu\] weight must be 1-d, got shape \(1, 3\)",
    ),
]
