"""The op table: one row per op, shared by the parity, gradcheck and coverage tests.

Each family keeps its rows in ``table_<family>.py`` (matching src/core/ops/<family>.cpp); this
module gathers them. A row says how to call the op in mytensor and in PyTorch, on which input
shapes, over which value range, and which inputs are differentiated.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

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


def all_rows() -> list[Row]:
    rows = []
    for fam in FAMILIES:
        try:
            mod = importlib.import_module(f"tests.ops.table_{fam}")
        except ModuleNotFoundError as e:
            if e.name != f"tests.ops.table_{fam}":
                raise
            continue
        for row in mod.ROWS:
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


ROWS = all_rows()
