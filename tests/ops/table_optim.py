"""Rows for the fused optimizer steps (src/core/ops/optim.cpp): one step from a given parameter
and gradient, against torch.optim (the state starts at zero, as on a first step)."""

import mytensor as mt
import torch
from mytensor import _C

from tests.ops.op_table import Row


def _mt_adam(p, g, amsgrad=False, decoupled=False):
    p = p.detach().clone()
    m, v = mt.zeros_like(p), mt.zeros_like(p)
    vmax = [mt.zeros_like(p)._impl] if amsgrad else []
    for step in (1, 2):
        _C.adam_step(
            [p._impl],
            [g._impl],
            [m._impl],
            [v._impl],
            vmax,
            0.1,
            0.9,
            0.99,
            1e-8,
            0.1,
            step,
            decoupled,
            amsgrad,
            False,
        )
    return p


def _torch_adam(p, g, amsgrad=False, decoupled=False):
    p = torch.nn.Parameter(p.detach().clone())
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([p], lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1, amsgrad=amsgrad)
    for _ in (1, 2):
        p.grad = g.detach().clone()
        opt.step()
    return p.detach()


def _mt_sgd(p, g, nesterov=False):
    p = p.detach().clone()
    buf = mt.zeros_like(p)
    for first in (True, False):
        _C.sgd_step([p._impl], [g._impl], [buf._impl], 0.1, 0.9, 0.0, 0.01, nesterov, first, False)
    return p


def _torch_sgd(p, g, nesterov=False):
    p = torch.nn.Parameter(p.detach().clone())
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov)
    for _ in range(2):
        p.grad = g.detach().clone()
        opt.step()
    return p.detach()


CASES = [((3, 4), (3, 4)), ((5,), (5,)), ((), ()), ((0, 2), (0, 2)), ((300, 70), (300, 70))]

ROWS = [
    Row("adam_step", _mt_adam, _torch_adam, CASES, grad=(), atol=1e-6, label="adam"),
    Row(
        "adam_step",
        lambda p, g: _mt_adam(p, g, amsgrad=True, decoupled=True),
        lambda p, g: _torch_adam(p, g, amsgrad=True, decoupled=True),
        CASES[:2],
        grad=(),
        atol=1e-6,
        label="adamw-amsgrad",
    ),
    Row("sgd_step", _mt_sgd, _torch_sgd, CASES, grad=(), atol=1e-6, label="sgd"),
    Row(
        "sgd_step",
        lambda p, g: _mt_sgd(p, g, nesterov=True),
        lambda p, g: _torch_sgd(p, g, nesterov=True),
        CASES[:2],
        grad=(),
        atol=1e-6,
        label="sgd-nesterov",
    ),
]
