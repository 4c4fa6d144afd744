"""batch_norm's running statistics: the in-place momentum update over several steps against
PyTorch, the unbiased variance, eval mode reading the buffers, and version bumps."""

from __future__ import annotations

import mytensor as mt
import mytensor.nn.functional as F
import numpy as np
import pytest
import torch


@pytest.mark.parametrize("shape", [(8, 3), (4, 5, 6), (2, 4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0])
def test_running_stats_follow_torch_over_steps(device, shape, momentum):
    rng = np.random.default_rng(0)
    c = shape[1]
    rm, rv = mt.zeros(c, device=device), mt.ones(c, device=device)
    trm, trv = torch.zeros(c), torch.ones(c)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        y = F.batch_norm(mt.tensor(x, device=device), rm, rv, training=True, momentum=momentum)
        ty = torch.nn.functional.batch_norm(
            torch.tensor(x), trm, trv, training=True, momentum=momentum
        )
        np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-5, rtol=1e-4)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), atol=1e-5, rtol=1e-5)
    # Eval mode then normalizes with the buffers.
    x = rng.standard_normal(shape).astype(np.float32)
    y = F.batch_norm(mt.tensor(x, device=device), rm, rv, training=False)
    ty = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=False)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-5, rtol=1e-4)


def test_running_var_is_unbiased(device):
    x = np.array([[1.0, 10.0], [3.0, 10.0], [8.0, 13.0]])  # (N=3, C=2)
    rm, rv = (
        mt.zeros(2, dtype=mt.float64, device=device),
        mt.zeros(2, dtype=mt.float64, device=device),
    )
    F.batch_norm(mt.tensor(x, device=device), rm, rv, training=True, momentum=1.0)
    np.testing.assert_allclose(rm.numpy(), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), x.var(0, ddof=1), rtol=1e-12)


def test_running_stats_are_updated_in_place_and_bump_versions(device):
    rm, rv = mt.zeros(3, device=device), mt.ones(3, device=device)
    ids, versions = (id(rm._impl), id(rv._impl)), (rm._impl.version, rv._impl.version)
    F.batch_norm(mt.randn(5, 3, device=device), rm, rv, training=True)
    assert (id(rm._impl), id(rv._impl)) == ids
    assert rm._impl.version > versions[0] and rv._impl.version > versions[1]
    assert not np.allclose(rm.numpy(), 0)


def test_eval_mode_and_no_buffers_leave_state_alone(device):
    rm, rv = mt.zeros(3, device=device), mt.ones(3, device=device)
    F.batch_norm(mt.randn(5, 3, device=device), rm, rv, training=False)
    np.testing.assert_array_equal(rm.numpy(), 0)
    np.testing.assert_array_equal(rv.numpy(), 1)
    y = F.batch_norm(mt.randn(5, 3, device=device), None, None, training=True)
    np.testing.assert_allclose(y.numpy().mean(0), 0, atol=1e-6)


def test_eval_backward_does_not_see_later_buffer_updates(device):
    # save_mean/save_invstd are copies: updating the buffers before backward changes nothing.
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((6, 4))
    w_np = rng.standard_normal(4)
    rm, rv = (
        mt.zeros(4, dtype=mt.float64, device=device),
        mt.ones(4, dtype=mt.float64, device=device),
    )
    x = mt.tensor(x_np, device=device, requires_grad=True)
    w = mt.tensor(w_np, device=device, requires_grad=True)
    y = F.batch_norm(x, rm, rv, w, None, training=False)
    F.batch_norm(mt.randn(6, 4, dtype=mt.float64, device=device), rm, rv, training=True)
    y.sum().backward()
    xhat = x_np / np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(w.grad.numpy(), xhat.sum(0), rtol=1e-10)
    np.testing.assert_allclose(
        x.grad.numpy(), np.broadcast_to(w_np / np.sqrt(1 + 1e-5), (6, 4)), rtol=1e-10
    )
