"""Learning-rate schedules: the sequence of learning rates equals torch.optim.lr_scheduler's."""

from __future__ import annotations

import mytensor as mt
import pytest
import torch
from mytensor import nn
from mytensor.optim import lr_scheduler as mls

CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=1e-4)),
    ("CosineAnnealingLR", dict(T_max=4)),  # runs past T_max: the schedule rises again
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=6)),
    ("LinearLR", dict()),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=25)),
    (
        "OneCycleLR",
        dict(
            max_lr=[0.1, 0.05],
            epochs=3,
            steps_per_epoch=8,
            pct_start=0.25,
            anneal_strategy="linear",
            three_phase=True,
        ),
    ),
]


def _optimizers(kind: str):
    mp = [nn.Parameter(mt.ones(2)), nn.Parameter(mt.ones(3))]
    tp = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]
    if kind == "sgd":
        return (
            mt.optim.SGD(
                [{"params": mp[:1]}, {"params": mp[1:], "lr": 0.05}], lr=0.1, momentum=0.9
            ),
            torch.optim.SGD(
                [{"params": tp[:1]}, {"params": tp[1:], "lr": 0.05}], lr=0.1, momentum=0.9
            ),
        )
    return (
        mt.optim.Adam([{"params": mp[:1]}, {"params": mp[1:], "lr": 0.05}], lr=0.1),
        torch.optim.Adam([{"params": tp[:1]}, {"params": tp[1:], "lr": 0.05}], lr=0.1),
    )


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_lr_sequence_matches_torch(name, kwargs, kind):
    mopt, topt = _optimizers(kind)
    ms = getattr(mls, name)(mopt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    steps = 24 if name == "OneCycleLR" else 15
    for k in range(steps):
        assert ms.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13, abs=1e-16), k
        for mg, tg in zip(mopt.param_groups, topt.param_groups):
            assert mg["lr"] == pytest.approx(tg["lr"], rel=1e-13, abs=1e-16)
            if kind == "sgd":
                assert mg["momentum"] == pytest.approx(tg["momentum"], rel=1e-13)
            else:
                assert mg["betas"][0] == pytest.approx(tg["betas"][0], rel=1e-13)
        mopt.step()
        topt.step()
        ms.step()
        ts.step()


def test_state_dict_resume():
    mopt, _ = _optimizers("sgd")
    sched = mls.CosineAnnealingLR(mopt, T_max=10)
    for _ in range(4):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    mopt2, _ = _optimizers("sgd")
    for g, g2 in zip(mopt.param_groups, mopt2.param_groups):
        g2["lr"], g2["initial_lr"] = g["lr"], g["initial_lr"]
    sched2 = mls.CosineAnnealingLR(mopt2, T_max=10, last_epoch=3)
    sched2.load_state_dict(state)
    sched.step()
    sched2.step()
    assert sched.get_last_lr() == sched2.get_last_lr()


def test_onecycle_too_many_steps():
    mopt, _ = _optimizers("adam")
    sched = mls.OneCycleLR(mopt, max_lr=0.1, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(
        ValueError, match="tried to step 3 times; the specified number of total steps is 2"
    ):
        sched.step()


@pytest.mark.parametrize(
    "make,fragment",
    [
        (lambda o: mls.StepLR(o, step_size=0), "step_size must be an integer >= 1, got 0"),
        (lambda o: mls.MultiStepLR(o, milestones=[5, 2]), "milestones must be increasing"),
        (lambda o: mls.CosineAnnealingLR(o, T_max=0), "T_max must be an integer >= 1, got 0"),
        (lambda o: mls.LinearLR(o, start_factor=0), "start_factor expected to be greater than 0"),
        (lambda o: mls.LinearLR(o, end_factor=1.5), "end_factor expected to be between 0 and 1"),
        (lambda o: mls.OneCycleLR(o, max_lr=0.1), "either total_steps OR"),
        (lambda o: mls.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5), "pct_start"),
        (
            lambda o: mls.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
            "anneal_strategy",
        ),
        (lambda o: mls.OneCycleLR(o, max_lr=[0.1], total_steps=10), "expected 2 values for max_lr"),
    ],
)
def test_bad_arguments(make, fragment):
    mopt, _ = _optimizers("sgd")
    with pytest.raises(ValueError, match=fragment):
        make(mopt)


def test_not_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        mls.StepLR(object(), step_size=1)
