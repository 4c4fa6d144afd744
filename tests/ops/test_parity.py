"""Every op-table row, forward and backward, against PyTorch on every device and dtype; plus
finite-difference gradient checks in float64."""

from __future__ import annotations

import mytensor as mt
import pytest

from tests.helpers import assert_matches_torch
from tests.ops.op_table import ROWS

# A row's atol/rtol are float32 tolerances. float64 scales them down by this factor (1e-5 ->
# 1e-11): both sides then compute in double precision, so only the order of summation differs.
# A row that needs more in float64 says so with its own `atol64` / `rtol64` and a comment.
FLOAT64_SCALE = 1e-6


def _unique(params):
    ids = [p.id for p in params]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    assert not dup, f"op-table test ids repeat: {dup}; give those rows a distinct label="
    return params


def _cases():
    for row in ROWS:
        for k, shapes in enumerate(row.cases):
            yield pytest.param(row, shapes, None, id=f"{row.id}-case{k}")
        first = row.cases[0]
        if row.layouts and any(len(s) >= 2 and min(s[-2:]) > 1 for s in first):
            yield pytest.param(row, first, "transposed", id=f"{row.id}-transposed")
        if row.layouts and any(len(s) >= 1 and s[-1] > 1 for s in first):
            yield pytest.param(row, first, "sliced", id=f"{row.id}-sliced")


def _tolerances(row, dtype):
    if dtype == "float32":
        return row.atol, row.rtol
    atol = row.atol64 if row.atol64 is not None else row.atol * FLOAT64_SCALE
    rtol = row.rtol64 if row.rtol64 is not None else row.rtol * FLOAT64_SCALE
    return atol, rtol


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row,shapes,layout", _unique(list(_cases())))
def test_matches_torch(row, shapes, layout, dtype, device):
    if dtype not in row.dtypes:
        pytest.skip(f"{row.name} row is not defined for {dtype}")
    arrays = row.inputs(shapes, dtype)
    layouts = [layout or "contiguous"] * len(arrays)
    atol, rtol = _tolerances(row, dtype)
    assert_matches_torch(
        row.mt,
        row.torch,
        arrays,
        device,
        grad_inputs=row.grad,
        layouts=layouts,
        atol=atol,
        rtol=rtol,
        name=row.name,
        mt_kwargs={"device": device} if row.device_arg else None,
    )


def _grad_rows():
    for row in ROWS:
        if row.grad and row.gradcheck and "float64" in row.dtypes:
            yield pytest.param(row, id=row.id)


@pytest.mark.parametrize("row", _unique(list(_grad_rows())))
def test_gradcheck(row, device):
    shapes = row.cases[0]
    arrays = row.inputs(shapes, "float64", seed=3)
    if sum(a.size for a in arrays) > 400:  # finite differences cost two calls per element
        pytest.skip("first case too large for finite differences")
    inputs = [
        mt.tensor(a, device=device, requires_grad=i in row.grad) for i, a in enumerate(arrays)
    ]
    mt.testing.gradcheck(row.mt, inputs, name=row.name)
