"""Validation of the fused optimizer ops (src/core/ops/optim.cpp): lists, shapes, dtypes,
devices, hyper-parameters."""

from __future__ import annotations

import mytensor as mt
import pytest
from mytensor import _C


def _adam(params, grads, ms=None, vs=None, vmax=(), lr=1e-3, step=1, amsgrad=False, beta1=0.9):
    ms = ms if ms is not None else [mt.zeros_like(p)._impl for p in params]
    vs = vs if vs is not None else [mt.zeros_like(p)._impl for p in params]
    _C.adam_step(
        [p._impl for p in params],
        [g._impl for g in grads],
        ms,
        vs,
        list(vmax),
        lr,
        beta1,
        0.999,
        1e-8,
        0.0,
        step,
        False,
        amsgrad,
        False,
    )


def test_length_mismatch():
    with pytest.raises(
        ValueError,
        match=r"\[adam_step\] expected one grads per parameter, got 1 "
        "grads for 2 params",
    ):
        _adam([mt.ones(2), mt.ones(2)], [mt.ones(2)])


def test_shape_mismatch():
    with pytest.raises(
        mt.ShapeError,
        match=r"\[adam_step\] grads\[0\] has shape \(3,\) but "
        r"params\[0\] has shape \(2,\)",
    ):
        _adam([mt.ones(2)], [mt.ones(3)])


def test_dtype_mismatch():
    with pytest.raises(mt.DTypeError, match=r"grads\[0\] is float64 but params\[0\] is float32"):
        _adam([mt.ones(2)], [mt.ones(2, dtype=mt.float64)])
    with pytest.raises(mt.DTypeError, match=r"params\[0\] must be float32 or float64, got int64"):
        _C.sgd_step(
            [mt.ones(2, dtype=mt.int64)._impl],
            [mt.ones(2)._impl],
            [],
            0.1,
            0.0,
            0.0,
            0.0,
            False,
            False,
            False,
        )
    with pytest.raises(mt.DTypeError, match="one dtype for all params"):
        _adam(
            [mt.ones(2), mt.ones(2, dtype=mt.float64)], [mt.ones(2), mt.ones(2, dtype=mt.float64)]
        )


def test_non_contiguous_param():
    p = mt.ones(3, 2).t()
    with pytest.raises(ValueError, match=r"params\[0\] of shape \(2, 3\) is not contiguous"):
        _adam([p], [mt.ones(2, 3)], ms=[mt.zeros(2, 3)._impl], vs=[mt.zeros(2, 3)._impl])


def test_amsgrad_needs_max_list():
    with pytest.raises(ValueError, match="expected one max_exp_avg_sqs per parameter"):
        _adam([mt.ones(2)], [mt.ones(2)], amsgrad=True)
    with pytest.raises(ValueError, match="max_exp_avg_sqs must be empty without amsgrad"):
        _adam([mt.ones(2)], [mt.ones(2)], vmax=[mt.zeros(2)._impl])


def test_bad_hyper():
    with pytest.raises(ValueError, match=r"\[adam_step\] invalid learning rate: -1"):
        _adam([mt.ones(2)], [mt.ones(2)], lr=-1.0)
    with pytest.raises(ValueError, match="invalid beta parameter at index 0: 1"):
        _adam([mt.ones(2)], [mt.ones(2)], beta1=1.0)
    with pytest.raises(ValueError, match="step must be >= 1, got 0"):
        _adam([mt.ones(2)], [mt.ones(2)], step=0)
    with pytest.raises(ValueError, match="nesterov momentum requires"):
        _C.sgd_step(
            [mt.ones(2)._impl], [mt.ones(2)._impl], [], 0.1, 0.0, 0.0, 0.0, True, False, False
        )
    with pytest.raises(ValueError, match="momentum_buffers must be empty without momentum"):
        _C.sgd_step(
            [mt.ones(2)._impl],
            [mt.ones(2)._impl],
            [mt.ones(2)._impl],
            0.1,
            0.0,
            0.0,
            0.0,
            False,
            False,
            False,
        )


def test_device_mismatch():
    if not mt.cuda.is_available():
        pytest.skip("CUDA is not available")
    with pytest.raises(mt.DeviceError, match=r"grads\[0\] is on cpu but params\[0\] is on cuda:0"):
        _adam(
            [mt.ones(2, device="cuda")],
            [mt.ones(2)],
            ms=[mt.zeros(2, device="cuda")._impl],
            vs=[mt.zeros(2, device="cuda")._impl],
        )


def test_empty_lists_are_a_no_op():
    _C.adam_step([], [], [], [], [], 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, False, False, False)
    _C.sgd_step([], [], [], 0.1, 0.9, 0.0, 0.0, False, True, False)
