"""nn.init: torch.nn.init's formulas (bounds and spreads), seeded by mt.manual_seed."""

from __future__ import annotations

import math

import mytensor as mt
import numpy as np
import pytest
import torch
from mytensor.nn import init


@pytest.mark.parametrize("name", ["linear", "conv2d", "sigmoid", "tanh", "relu", "selu"])
def test_calculate_gain(name):
    assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2)
    )


def _stats(fn, shape, **kwargs):
    t = mt.empty(*shape)
    fn(t, **kwargs)
    return t.numpy().astype(np.float64)


@pytest.mark.parametrize(
    "fn,kwargs,kind,scale",
    [
        (init.uniform_, dict(a=-2.0, b=3.0), "uniform", None),
        (init.normal_, dict(mean=1.0, std=0.5), "normal", 0.5),
        (init.xavier_uniform_, dict(gain=2.0), "uniform", 2.0 * math.sqrt(6 / (64 * 9 + 32 * 9))),
        (init.xavier_normal_, dict(), "normal", math.sqrt(2 / (64 * 9 + 32 * 9))),
        (init.kaiming_uniform_, dict(nonlinearity="relu"), "uniform", math.sqrt(6 / (32 * 9))),
        (
            init.kaiming_uniform_,
            dict(mode="fan_out", a=math.sqrt(5)),
            "uniform",
            math.sqrt(3) * math.sqrt(2 / 6) / math.sqrt(64 * 9),
        ),
        (init.kaiming_normal_, dict(nonlinearity="relu"), "normal", math.sqrt(2 / (32 * 9))),
    ],
)
def test_distributions(fn, kwargs, kind, scale):
    a = _stats(fn, (64, 32, 3, 3), **kwargs)
    if fn is init.uniform_:
        assert a.min() >= -2.0 and a.max() < 3.0 and abs(a.mean() - 0.5) < 0.05
        return
    if kind == "uniform":
        assert np.abs(a).max() <= scale and np.abs(a).max() > 0.99 * scale
        assert a.std() == pytest.approx(scale / math.sqrt(3), rel=0.03)
    else:
        mean = kwargs.get("mean", 0.0)
        assert a.mean() == pytest.approx(mean, abs=0.02 * scale + 1e-3)
        assert a.std() == pytest.approx(scale, rel=0.03)


def test_constants_and_seeding():
    t = mt.empty(3, 4)
    assert init.ones_(t) is t and t.numpy().tolist() == [[1.0] * 4] * 3
    init.zeros_(t)
    assert float(np.abs(t.numpy()).sum()) == 0
    init.constant_(t, 2.5)
    assert set(t.numpy().ravel().tolist()) == {2.5}
    mt.manual_seed(3)
    a = _stats(init.kaiming_uniform_, (8, 4))
    mt.manual_seed(3)
    assert np.array_equal(a, _stats(init.kaiming_uniform_, (8, 4)))


def test_parameters_stay_leaves():
    lin = mt.nn.Linear(4, 3)
    init.xavier_uniform_(lin.weight)
    assert lin.weight.is_leaf and lin.weight.requires_grad and lin.weight.grad_fn is None


def test_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mt.empty(5))
    with pytest.raises(ValueError, match="mode 'fan_avg' not supported"):
        init.kaiming_uniform_(mt.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(TypeError, match="expected a floating point tensor"):
        init.uniform_(mt.zeros(3, dtype=mt.int64))
    with pytest.raises(ValueError, match="std must be non-negative"):
        init.normal_(mt.empty(3), std=-1.0)
