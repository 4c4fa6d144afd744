"""Bad input raises a typed exception naming the op and the offending shapes, dtypes or devices —
never a crash. The error rows live beside each family's parity rows (ERRORS in
tests/ops/table_<family>.py); this module runs every one of them on every device."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest

from tests.ops.op_table import ERRORS


def _params():
    ids = [row.id for row in ERRORS]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    assert not dup, f"error-row ids repeat: {dup}"
    return [pytest.param(row, id=row.id) for row in ERRORS]


@pytest.mark.parametrize("row", _params())
def test_bad_call_raises(row, device):
    if device != "cpu" and row.cpu_only:
        pytest.skip(f"runs on the CPU only: {row.cpu_only}")
    with pytest.raises(row.exc, match=row.match):
        row.call(device)
        if device == "cuda":  # an error the device reports late belongs to this row
            mt.cuda.synchronize()


def test_exp_of_bool_is_promoted_to_float32(device):
    # Not an error: bool promotes to float32, as in PyTorch.
    y = mt.exp(mt.tensor([True], device=device))
    assert y.dtype == mt.float32


def test_ignored_targets_are_not_bounds_checked(device):
    # ignore_index may lie outside [0, C), as PyTorch's default -100.
    x = mt.ones(3, 4, device=device)
    t = mt.tensor(np.array([-100, 1, -100], dtype=np.int64), device=device)
    loss = mt.nn.functional.cross_entropy(x, t)
    assert np.isfinite(loss.item())


def test_errors_leave_the_generator_alone():
    mt.manual_seed(4)
    with pytest.raises(ValueError):
        mt.nn.functional.dropout(mt.ones(8), 1.5)
    with pytest.raises(ValueError):
        mt.randint(3, 1, (4,))
    assert mt.get_rng_state() == (4, 0)


def test_cuda_request_without_cuda_says_how_to_rebuild():
    if mt.cuda.is_available():
        pytest.skip("this build has CUDA")
    with pytest.raises(mt.DeviceError, match=r"rebuild|no CUDA device|out of range"):
        mt.zeros(2, device="cuda")


def test_mixing_devices_is_rejected():
    if not mt.cuda.is_available():
        pytest.skip("needs a GPU")
    with pytest.raises(
        mt.DeviceError, match=r"\[add\] expected all tensors on one device, got cpu and cuda:0"
    ):
        mt.ones(2) + mt.ones(2, device="cuda")
