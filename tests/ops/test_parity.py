"""Every op-table row, forward and backward, against PyTorch on every device and dtype; plus
finite-difference gradient checks in float64."""

from __future__ import annotations

import mytensor as mt
import pytest

from tests.helpers import assert_matches_torch
from tests.ops.op_table import ROWS


def _cases():
    for i, row in enumerate(ROWS):
        for k, shapes in enumerate(row.cases):
            yield pytest.param(row, shapes, None, id=f"{row.name}-{i}-case{k}")
        first = row.cases[0]
        if row.layouts and any(len(s) >= 2 and min(s[-2:]) > 1 for s in first):
            yield pytest.param(row, first, "transposed", id=f"{row.name}-{i}-transposed")
        if row.layouts and any(len(s) >= 1 and s[-1] > 1 for s in first):
            yield pytest.param(row, first, "sliced", id=f"{row.name}-{i}-sliced")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row,shapes,layout", list(_cases()))
def test_matches_torch(row, shapes, layout, dtype, device):
    if dtype not in row.dtypes:
        pytest.skip(f"{row.name} row is not defined for {dtype}")
    arrays = row.inputs(shapes, dtype)
    layouts = [layout or "contiguous"] * len(arrays)
    tol = 1.0 if dtype == "float32" else 1e-6
    assert_matches_torch(
        row.mt,
        row.torch,
        arrays,
        device,
        grad_inputs=row.grad,
        layouts=layouts,
        atol=row.atol * max(tol, 1e-3),
        rtol=row.rtol * max(tol, 1e-3),
        name=row.name,
        mt_kwargs={"device": device} if row.device_arg else None,
    )


def _grad_rows():
    for i, row in enumerate(ROWS):
        if row.grad and row.gradcheck and "float64" in row.dtypes:
            yield pytest.param(row, id=f"{row.name}-{i}")


@pytest.mark.parametrize("row", list(_grad_rows()))
def test_gradcheck(row, device):
    shapes = row.cases[0]
    arrays = row.inputs(shapes, "float64", seed=3)
    if sum(a.size for a in arrays) > 400:  # finite differences cost two calls per element
        pytest.skip("first case too large for finite differences")
    inputs = [
        mt.tensor(a, device=device, requires_grad=i in row.grad) for i, a in enumerate(arrays)
    ]
    mt.testing.gradcheck(row.mt, inputs, name=row.name)
