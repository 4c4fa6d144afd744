"""The op table: one row per op, shared by the parity, gradcheck and coverage tests; and the
error rows, one per bad call, run by tests/ops/test_errors.py.

Each family keeps its rows in ``table_<family>.py`` (matching src/core/ops/<family>.cpp): ROWS,
and ERRORS beside them; this module gathers both. A row says how to call the op in mytensor and
in PyTorch, on which input shapes, over which value range, and which inputs are differentiated.
An error row says which call must fail, with which exception and message.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import mytensor as mt
import numpy as np

# Functionals composed in Python from differentiable ops, with no _C op of their own (issue #14):
# their rows are named after the functional, and each must have one.
COMPOSED = {
    "silu",
    "leaky_relu",
    "elu",
    "selu",
    "softplus",
    "mish",
    "hardswish",
    "hardsigmoid",
    "prelu",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "margin_ranking_loss",
    "cosine_embedding_loss",
}

FAMILIES = [
    "elementwise",
    "shape",
    "reduce",
    "loss",
    "matmul",
    "conv",
    "pool",
    "norm",
    "index",
    "random",
    "creation",
    "optim",
    "data",
]


@dataclass
class Row:
    name: str  # the _C op this row covers
    mt: Callable  # f(*mytensor tensors)
    torch: Callable  # f(*torch tensors)
    cases: list  # input shapes per case: [((2, 3), (3,)), ...]
    grad: tuple = (0,)  # inputs differentiated; () for non-differentiable ops
    dtypes: tuple = ("float32", "float64")
    low: float = -2.0  # input value range (uniform)
    high: float = 2.0
    make: Callable | None = None  # custom inputs: make(shapes, rng, dtype) -> list of arrays
    atol: float = 1e-5
    rtol: float = 1e-4
    # float64 tolerances; None scales atol/rtol down (tests/ops/test_parity.py FLOAT64_SCALE).
    atol64: float | None = None
    rtol64: float | None = None
    gradcheck: bool = True  # finite differences in float64 on the first case
    layouts: bool = True  # also try transposed and sliced views of the first case
    covers: tuple = field(default_factory=tuple)  # more _C ops this row exercises
    device_arg: bool = False  # mt is called with device=... (creation ops have no inputs)
    # Tells apart rows of one op in the test ids ("{family}-{name}-{label}-case{k}"); needed only
    # when the name repeats in its family, and never derived from the row's position, so adding
    # a row renames no other test.
    label: str = ""
    family: str = ""  # set by all_rows()

    @property
    def id(self) -> str:
        return "-".join(p for p in (self.family, self.name, self.label) if p)

    def inputs(self, shapes, dtype: str, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        if self.make is not None:
            return self.make(shapes, rng, dtype)
        return [rng.uniform(self.low, self.high, s).astype(dtype) for s in shapes]


@dataclass
class ErrorRow:
    """A call that must fail: ``call(device)`` builds its inputs on ``device`` and must raise
    ``exc`` with a message in which ``match`` (a regular expression) is found."""

    name: str  # unique in its family: "{op}-{what is wrong}"
    call: Callable  # f(device) -> anything
    exc: type[BaseException]
    match: str
    # Why the row runs on the CPU only ("" = on every device): e.g. a CUDA kernel checks index
    # values itself and reports a bad one at the next synchronize, with another message.
    cpu_only: str = ""
    family: str = ""  # set by all_errors()

    @property
    def id(self) -> str:
        return f"{self.family}-{self.name}"


def _tables():
    for fam in FAMILIES:
        try:
            mod = importlib.import_module(f"tests.ops.table_{fam}")
        except ModuleNotFoundError as e:
            if e.name != f"tests.ops.table_{fam}":
                raise
            continue
        yield fam, mod


def all_rows() -> list[Row]:
    rows = []
    for fam, mod in _tables():
        for row in mod.ROWS:
            row.family = fam
            rows.append(row)
    return rows


def all_errors() -> list[ErrorRow]:
    rows = []
    for fam, mod in _tables():
        for row in getattr(mod, "ERRORS", []):
            row.family = fam
            rows.append(row)
    return rows


def kwargs_label(kw: dict) -> str:
    """A row label from the keyword arguments that set a row apart: stride=2, padding=1 ->
    "stride2-padding1"; (2, 1) -> "2x1"."""

    def text(v):
        return "x".join(map(str, v)) if isinstance(v, tuple) else str(v)

    parts = [k + text(v) for k, v in kw.items()]
    return "-".join(parts) or "default"


# Inputs of error rows, built on the device under test.
def ones_on(device, *shape, dtype=None):
    return mt.ones(*shape, dtype=dtype, device=device)


def zeros_on(device, *shape, dtype=None):
    return mt.zeros(*shape, dtype=dtype, device=device)


def tensor_on(device, values, dtype=None):
    return mt.tensor(np.asarray(values, dtype=dtype), device=device)


ROWS = all_rows()
ROW_BY_ID = {row.id: row for row in ROWS}  # the fuzzer's reproducers name rows by id
ERRORS = all_errors()
