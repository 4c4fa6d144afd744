"""The activation and loss modules of issue #14 against their torch.nn twins: outputs, input and
parameter gradients (tests/nn/parity.py), constructor defaults and checks, reprs, in-place forms.
The functionals themselves are covered by the op-table rows (tests/ops/table_elementwise.py,
tests/ops/table_loss.py)."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
import torch
from mytensor import nn

from tests.nn.parity import check_module

F = nn.functional


def _x(*shape, seed=0, scale=2.0, dtype=np.float32):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


ACTIVATIONS = [
    ("SiLU", (), {}),
    ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.3,), {}),
    ("ELU", (), {"alpha": 0.7}),
    ("SELU", (), {}),
    ("Softplus", (), {}),
    ("Softplus", (), {"beta": 2.0, "threshold": 3.0}),
    ("Mish", (), {}),
    ("Hardswish", (), {}),
    ("Hardsigmoid", (), {}),
    ("Softmax", (1,), {}),
    ("LogSoftmax", (), {"dim": -1}),
    ("Identity", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS, ids=lambda v: str(v))
def test_activation_modules_match_torch(name, args, kwargs, device):
    m, t = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    check_module(m, t, _x(2, 3, 7, 6), device)
    assert repr(m) == repr(t)


@pytest.mark.parametrize(
    "name,kwargs",
    [("SiLU", {}), ("LeakyReLU", {"negative_slope": 0.1}), ("ELU", {}), ("SELU", {})]
    + [("Mish", {}), ("Hardswish", {}), ("Hardsigmoid", {})],
)
def test_inplace_writes_into_the_input(name, kwargs):
    x = _x(4, 5)
    m = getattr(nn, name)(inplace=True, **kwargs)
    mx = mt.tensor(x)
    out = m(mx)
    assert out is mx
    expected = getattr(torch.nn, name)(**kwargs)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(mx.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert repr(m) == repr(getattr(torch.nn, name)(inplace=True, **kwargs))


def test_activation_defaults():
    assert nn.LeakyReLU().negative_slope == 0.01
    assert nn.ELU().alpha == 1.0
    assert (nn.Softplus().beta, nn.Softplus().threshold) == (1.0, 20.0)
    assert nn.Softmax().dim is None and nn.LogSoftmax(2).dim == 2
    assert not nn.SiLU().inplace


@pytest.mark.parametrize(
    "num,init,shape", [(1, 0.25, (2, 3, 4, 4)), (3, 0.1, (2, 3, 5)), (4, -0.5, (5, 4))]
)
def test_prelu_matches_torch_with_its_parameter_gradient(num, init, shape, device):
    m, t = nn.PReLU(num, init), torch.nn.PReLU(num, init)
    check_module(m, t, _x(*shape), device)  # compares weight.grad too
    assert repr(m) == repr(t)


def test_prelu_parameter():
    m = nn.PReLU()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["weight"]
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert m.weight.shape == (1,) and m.weight.dtype is mt.float32
    np.testing.assert_allclose(m.weight.detach().numpy(), [0.25])
    m3 = nn.PReLU(3, init=0.1, dtype=mt.float64)
    assert m3.weight.shape == (3,) and m3.weight.dtype is mt.float64
    with mt.no_grad():
        m3.weight.copy_(mt.tensor([1.0, 2.0, 3.0], dtype=mt.float64))
    m3.reset_parameters()
    np.testing.assert_allclose(m3.weight.detach().numpy(), [0.1, 0.1, 0.1])


def test_prelu_learns_its_slope():
    """One SGD step on the slope, as torch takes it."""
    x = _x(8, 2, 3, seed=3)
    m, t = nn.PReLU(2), torch.nn.PReLU(2)
    opt_m = mt.optim.SGD(m.parameters(), lr=0.01)
    opt_t = torch.optim.SGD(t.parameters(), lr=0.01)
    for _ in range(3):
        opt_m.zero_grad()
        opt_t.zero_grad()
        m(mt.tensor(x)).square().sum().backward()
        t(torch.tensor(x)).square().sum().backward()
        opt_m.step()
        opt_t.step()
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-5)


LOSSES = [
    ("MSELoss", {}),
    ("MSELoss", {"reduction": "sum"}),
    ("L1Loss", {"reduction": "none"}),
    ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {"delta": 0.7, "reduction": "sum"}),
    ("BCEWithLogitsLoss", {}),
    ("KLDivLoss", {"reduction": "batchmean"}),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}),
]


@pytest.mark.parametrize("name,kwargs", LOSSES, ids=str)
def test_loss_modules_match_torch(name, kwargs, device):
    x = _x(5, 4)
    target = np.random.default_rng(1).uniform(0.05, 1, (5, 4)).astype(np.float32)
    if name == "KLDivLoss":
        x = -np.abs(x)
    check_module(
        getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), x, device, target=target
    )


def test_bce_loss_matches_torch(device):
    x = np.random.default_rng(0).uniform(0.05, 0.95, (6, 3)).astype(np.float32)
    target = np.random.default_rng(1).uniform(0, 1, (6, 3)).astype(np.float32)
    w = np.array([0.5, 1.0, 2.0], np.float32)
    check_module(
        nn.BCELoss(weight=mt.tensor(w, device=device)),
        torch.nn.BCELoss(weight=torch.tensor(w)),
        x,
        device,
        target=target,
    )


def test_bce_with_logits_pos_weight_matches_torch(device):
    x, target = _x(6, 3), np.random.default_rng(1).uniform(0, 1, (6, 3)).astype(np.float32)
    pw = np.array([0.5, 1.0, 3.0], np.float32)
    check_module(
        nn.BCEWithLogitsLoss(pos_weight=mt.tensor(pw, device=device)),
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw)),
        x,
        device,
        target=target,
    )


@pytest.mark.parametrize("name", ["MarginRankingLoss", "CosineEmbeddingLoss"])
@pytest.mark.parametrize("kwargs", [{}, {"margin": 0.3, "reduction": "none"}])
def test_three_input_losses_match_torch(name, kwargs, device):
    a, b = _x(6, 4, seed=1), _x(6, 4, seed=2)
    y = np.array([1, -1, 1, 1, -1, -1], np.float32)
    if name == "MarginRankingLoss":
        a, b, y = a[:, 0].copy(), b[:, 0].copy(), y
    ma, mb = (mt.tensor(v, device=device, requires_grad=True) for v in (a, b))
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    mo = getattr(nn, name)(**kwargs)(ma, mb, mt.tensor(y, device=device))
    to = getattr(torch.nn, name)(**kwargs)(ta, tb, torch.tensor(y))
    np.testing.assert_allclose(mo.detach().cpu().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-6)
    mo.sum().backward()
    to.sum().backward()
    for m_, t_ in ((ma, ta), (mb, tb)):
        np.testing.assert_allclose(m_.grad.cpu().numpy(), t_.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_loss_defaults_and_reprs():
    for name in ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss"]:
        m = getattr(nn, name)()
        assert m.reduction == "mean"
        assert repr(m) == repr(getattr(torch.nn, name)())
    assert nn.SmoothL1Loss().beta == 1.0 and nn.HuberLoss().delta == 1.0
    assert nn.KLDivLoss().reduction == "mean" and not nn.KLDivLoss().log_target
    assert nn.MarginRankingLoss().margin == 0.0 and nn.CosineEmbeddingLoss().margin == 0.0
    assert nn.BCEWithLogitsLoss().pos_weight is None


@pytest.mark.parametrize(
    "make,fragment",
    [
        (
            lambda: nn.MSELoss(reduction="avg"),
            r"\[MSELoss\] 'avg' is not a valid value for reduction",
        ),
        (
            lambda: nn.L1Loss(size_average=True),
            r"\[L1Loss\] size_average and reduce are deprecated",
        ),
        (lambda: nn.SmoothL1Loss(beta=-1), r"\[SmoothL1Loss\] beta must be >= 0, got -1"),
        (lambda: nn.HuberLoss(delta=0), r"\[HuberLoss\] delta must be > 0, got 0"),
        (lambda: nn.KLDivLoss(reduction="batch"), r"\[KLDivLoss\] 'batch' is not a valid value"),
        (lambda: nn.PReLU(0), r"\[PReLU\] num_parameters must be a positive integer, got 0"),
        (lambda: nn.PReLU(init="a"), r"\[PReLU\] init must be a number"),
    ],
)
def test_constructor_checks(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()


def test_kl_div_batchmean_is_the_divergence_per_sample():
    p = np.array([[0.2, 0.8], [0.5, 0.5]])
    q = np.array([[0.4, 0.6], [0.1, 0.9]])
    out = F.kl_div(mt.tensor(np.log(q)), mt.tensor(p), reduction="batchmean")
    expected = (p * np.log(p / q)).sum() / 2
    np.testing.assert_allclose(out.item(), expected, rtol=1e-12)


def test_softplus_is_finite_for_large_inputs():
    x = mt.tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0], requires_grad=True)
    y = F.softplus(x, beta=0.01)  # beta * x stays below the threshold: no linear shortcut
    assert np.isfinite(y.detach().numpy()).all()
    y.sum().backward()
    np.testing.assert_allclose(
        x.grad.numpy(), 1 / (1 + np.exp(-0.01 * x.detach().numpy())), rtol=1e-6
    )
