"""nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
import torch
from mytensor import nn


def _pair(scale, seed=0):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s).astype(np.float32) * scale for s in [(4, 3), (7,), (2, 2, 2)]]
    mp = [nn.Parameter(mt.zeros(*g.shape)) for g in grads]
    tp = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, q, g in zip(mp, tp, grads):
        p.grad, q.grad = mt.tensor(g), torch.tensor(g)
    return mp, tp


@pytest.mark.parametrize(
    "max_norm,norm_type,scale",
    [
        (1.0, 2.0, 1.0),
        (100.0, 2.0, 1.0),
        (0.5, 1.0, 3.0),
        (0.2, float("inf"), 1.0),
        (1.0, 3.0, 2.0),
    ],
)
def test_clip_grad_norm_matches_torch(max_norm, norm_type, scale):
    mp, tp = _pair(scale)
    mt_total = nn.utils.clip_grad_norm_(mp, max_norm, norm_type)
    th_total = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert float(mt_total.item()) == pytest.approx(float(th_total), rel=1e-5)
    for p, q in zip(mp, tp):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_value_and_edge_cases():
    mp, tp = _pair(2.0)
    nn.utils.clip_grad_value_(mp, 0.5)
    torch.nn.utils.clip_grad_value_(tp, 0.5)
    for p, q in zip(mp, tp):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert float(nn.utils.clip_grad_norm_([nn.Parameter(mt.ones(2))], 1.0).item()) == 0.0
    single = nn.Parameter(mt.ones(4))
    single.grad = mt.full((4,), 2.0)
    assert float(nn.utils.clip_grad_norm_(single, 1.0).item()) == pytest.approx(4.0)


def test_errors():
    p = nn.Parameter(mt.ones(2))
    p.grad = mt.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm must be non-negative"):
        nn.utils.clip_grad_norm_([p], -1.0)
