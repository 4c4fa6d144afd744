"""SGD, Adam and AdamW against torch.optim: same initial values and gradients, several steps,
parameters equal to float rounding; plus state dicts and argument checks."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
import torch
from mytensor import nn

SHAPES = [(7, 5), (5,), (3, 4, 2, 2), (40000,)]  # the last one spans several CPU chunks


def _make(dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    inits = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(4)]
    return inits, grads


def _run(mt_cls, torch_cls, kwargs, device, dtype="float32", steps=4):
    inits, grads = _make(dtype)
    mp = [nn.Parameter(mt.tensor(a, device=device)) for a in inits]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in inits]
    mopt, topt = mt_cls(mp, **kwargs), torch_cls(tp, **kwargs)
    for k in range(steps):
        for p, q, g in zip(mp, tp, grads[k]):
            p.grad = mt.tensor(g, device=device)
            q.grad = torch.tensor(g)
        mopt.step()
        topt.step()
    return mp, tp, mopt, topt


def _assert_params_equal(mp, tp, dtype):
    # Float rounding: the same operations in the same order; PyTorch's vector kernels may fuse
    # a multiply-add (one rounding fewer), so allow a few ulps of values of magnitude ~1.
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1e-12, 1e-14)
    for i, (p, q) in enumerate(zip(mp, tp)):
        np.testing.assert_allclose(
            p.detach().cpu().numpy(), q.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"param {i}"
        )


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-2),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3),
    dict(lr=0.05, momentum=0.5, maximize=True),
]
ADAM_CASES = [
    dict(lr=1e-3),
    dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
    dict(lr=1e-2, amsgrad=True),
    dict(lr=1e-2, amsgrad=True, weight_decay=0.1, maximize=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_torch(kwargs, dtype, device):
    mp, tp, *_ = _run(mt.optim.SGD, torch.optim.SGD, kwargs, device, dtype)
    _assert_params_equal(mp, tp, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_matches_torch(kwargs, dtype, device):
    mp, tp, *_ = _run(mt.optim.Adam, torch.optim.Adam, kwargs, device, dtype)
    _assert_params_equal(mp, tp, dtype)


@pytest.mark.parametrize("kwargs", ADAM_CASES + [dict(lr=1e-2)], ids=str)
def test_adamw_matches_torch(kwargs, device):
    mp, tp, *_ = _run(mt.optim.AdamW, torch.optim.AdamW, kwargs, device)
    _assert_params_equal(mp, tp, "float32")


def test_state_matches_torch(device):
    mp, tp, mopt, topt = _run(mt.optim.Adam, torch.optim.Adam, dict(lr=1e-2, amsgrad=True), device)
    for p, q in zip(mp, tp):
        ms, ts = mopt.state[p], topt.state[q]
        assert ms["step"] == int(ts["step"].item()) == 4
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_allclose(
                ms[key].cpu().numpy(), ts[key].numpy(), rtol=1e-5, atol=1e-7, err_msg=key
            )


def test_param_groups_and_skipped_grads():
    """Per-group hyper-parameters; a parameter without grad is left alone (its step lags)."""
    inits, grads = _make()
    mp = [nn.Parameter(mt.tensor(a)) for a in inits]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in inits]
    mopt = mt.optim.Adam([{"params": mp[:2]}, {"params": mp[2:], "lr": 0.1}], lr=0.01)
    topt = torch.optim.Adam([{"params": tp[:2]}, {"params": tp[2:], "lr": 0.1}], lr=0.01)
    for k in range(3):
        for i, (p, q, g) in enumerate(zip(mp, tp, grads[k])):
            if k == 0 and i == 1:  # no grad on the first step for param 1
                p.grad, q.grad = None, None
                continue
            p.grad, q.grad = mt.tensor(g), torch.tensor(g)
        mopt.step()
        topt.step()
    _assert_params_equal(mp, tp, "float32")
    assert mopt.state[mp[1]]["step"] == 2 and mopt.state[mp[0]]["step"] == 3


def test_zero_grad():
    p = nn.Parameter(mt.ones(3))
    opt = mt.optim.SGD([p], lr=0.1)
    p.grad = mt.ones(3)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.numpy().tolist() == [0, 0, 0]
    opt.zero_grad()
    assert p.grad is None


def test_non_contiguous_grad():
    """A gradient that is a view (here transposed) is read correctly."""
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    p = nn.Parameter(mt.zeros(3, 2))
    p.grad = mt.tensor(a).t()
    mt.optim.SGD([p], lr=1.0).step()
    np.testing.assert_array_equal(p.detach().numpy(), -a.T)


def test_state_dict_round_trip(tmp_path, device):
    mp, tp, mopt, topt = _run(
        mt.optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9), device, steps=2
    )
    sd = mopt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert sorted(sd["state"][0]) == sorted(topt.state_dict()["state"][0])
    mt.save(sd, tmp_path / "opt.safetensors")
    loaded = mt.load(tmp_path / "opt.safetensors", map_location=device)
    # A fresh optimizer over the same parameters continues exactly as the original would.
    inits, grads = _make()
    fresh = mt.optim.SGD(mp, lr=0.5)
    fresh.load_state_dict(loaded)
    assert fresh.param_groups[0]["lr"] == 0.1
    for p, q, g in zip(mp, tp, grads[3]):
        p.grad, q.grad = mt.tensor(g, device=device), torch.tensor(g)
    fresh.step()
    topt.step()
    _assert_params_equal(mp, tp, "float32")


def test_adam_state_dict_loads_betas_as_tuple(tmp_path):
    p = nn.Parameter(mt.ones(2))
    opt = mt.optim.Adam([p], betas=(0.5, 0.6))
    p.grad = mt.ones(2)
    opt.step()
    mt.save(opt.state_dict(), tmp_path / "a.st")
    other = mt.optim.Adam([p])
    other.load_state_dict(mt.load(tmp_path / "a.st"))
    assert other.param_groups[0]["betas"] == (0.5, 0.6)
    assert other.state[p]["step"] == 1


@pytest.mark.parametrize(
    "cls,kwargs,fragment",
    [
        (mt.optim.SGD, dict(lr=-1.0), "Invalid learning rate: -1.0"),
        (mt.optim.SGD, dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (mt.optim.SGD, dict(lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
        (mt.optim.SGD, dict(lr=0.1, nesterov=True), "Nesterov momentum requires"),
        (mt.optim.Adam, dict(lr=-0.1), "Invalid learning rate: -0.1"),
        (mt.optim.Adam, dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
        (mt.optim.Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (mt.optim.Adam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (mt.optim.AdamW, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ],
)
def test_bad_hyper_parameters(cls, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        cls([nn.Parameter(mt.ones(2))], **kwargs)


def test_bad_params():
    with pytest.raises(ValueError, match="empty parameter list"):
        mt.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        mt.optim.SGD(nn.Parameter(mt.ones(2)), lr=0.1)
    p = nn.Parameter(mt.ones(2))
    with pytest.raises(ValueError, match="duplicate parameters"):
        mt.optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        mt.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="params\\[0\\] is a list"):
        mt.optim.SGD([[1.0]], lr=0.1)


def test_load_state_dict_mismatch():
    opt = mt.optim.SGD([nn.Parameter(mt.ones(2))], lr=0.1)
    other = mt.optim.SGD([nn.Parameter(mt.ones(2)), nn.Parameter(mt.ones(3))], lr=0.1)
    with pytest.raises(ValueError, match="has 2 parameters, but this optimizer's has 1"):
        opt.load_state_dict(other.state_dict())


def test_step_is_one_native_call_per_group(monkeypatch):
    """The update is fused: one _C.adam_step call covers every parameter of a group."""
    calls = []
    real = mt._C.adam_step
    monkeypatch.setattr(mt._C, "adam_step", lambda *a: calls.append(len(a[0])) or real(*a))
    ps = [nn.Parameter(mt.ones(3)) for _ in range(5)]
    for p in ps:
        p.grad = mt.ones(3)
    mt.optim.Adam(ps).step()
    assert calls == [5]


def test_closure():
    p = nn.Parameter(mt.tensor([1.0, 2.0]))
    opt = mt.optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.item()) == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0])
