"""Bad inputs to reductions, softmax and losses raise typed errors naming the op."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest

F = mt.nn.functional


def _x(*shape, dtype="float32"):
    return mt.tensor(np.ones(shape, dtype=dtype))


def _t(values):
    return mt.tensor(np.asarray(values, dtype=np.int64))


CASES = [
    # bad dims
    (lambda: _x(3, 4).max(2), IndexError, r"\[max\] dim 2 is out of range"),
    (lambda: _x(3, 4).amin((0, -3)), IndexError, r"\[amin\] dim -3 is out of range"),
    (lambda: _x(3, 4).amax((1, -1)), ValueError, r"\[amax\] dim -1 appears more than once"),
    (lambda: _x(3).argmax(1), IndexError, r"\[argmax\] dim 1 is out of range"),
    (lambda: _x(3, 4).var(5), IndexError, r"\[var\] dim 5 is out of range"),
    (lambda: _x(3, 4).logsumexp(-3), IndexError, r"\[logsumexp\] dim -3 is out of range"),
    (lambda: mt.softmax(_x(3, 4), 2), IndexError, r"\[softmax\] dim 2 is out of range"),
    (lambda: mt.log_softmax(_x(), 1), IndexError, r"\[log_softmax\] dim 1 is out of range"),
    # max/min/argmax of an empty reduction have no value
    (lambda: _x(0, 3).max(0), IndexError, r"\[max\] expected a non-empty reduction dim"),
    (lambda: _x(0, 3).min(-2), IndexError, r"\[min\] expected a non-empty reduction dim"),
    (lambda: _x(0, 3).amax(), IndexError, r"\[amax\] cannot reduce the empty tensor of shape"),
    (lambda: _x(2, 0).amin(1), IndexError, r"\[amin\] .*size 0 in shape \(2, 0\)"),
    (lambda: _x(0, 3).argmax(), IndexError, r"\[argmax\] cannot reduce the empty tensor"),
    (lambda: _x(0).argmin(0), IndexError, r"\[argmin\] expected a non-empty reduction dim"),
    (lambda: _x(0, 3).max(), RuntimeError, r"\[max\] expected reduction dim to be specified"),
    # dtypes
    (
        lambda: mt.softmax(_x(3, dtype="int64"), 0),
        mt.DTypeError,
        r"\[softmax\] input must be float32 or float64, got int64",
    ),
    (lambda: mt.log_softmax(_x(3) > 0, 0), mt.DTypeError, r"\[log_softmax\] .*got bool"),
    (lambda: _x(3, dtype="int64").var(), mt.DTypeError, r"\[var\] input must be float32"),
    (lambda: _x(3, dtype="int32").std(), mt.DTypeError, r"\[var\] input must be float32"),
    # argument forms
    (lambda: _x(3, 4).var(0, unbiased=True, correction=0), TypeError, r"\[var\] pass either"),
    (lambda: _x(3, 4).max(keepdim=True), TypeError, r"\[max\] keepdim=True needs a dim"),
    (lambda: _x(3, 4).max(1.5), TypeError, r"\[max\] dim must be an int"),
    # cross_entropy / nll_loss
    (
        lambda: F.cross_entropy(_x(4, 10), _t([1, 2, 12, 3])),
        IndexError,
        r"\[cross_entropy\] target 12 is out of bounds for 10 classes",
    ),
    (
        lambda: F.cross_entropy(_x(4, 10), _t([1, -1, 2, 3])),
        IndexError,
        r"\[cross_entropy\] target -1 is out of bounds for 10 classes",
    ),
    (
        lambda: F.cross_entropy(_x(2, 3, 4), _t([[0, 1, 2, 3], [0, 0, 0, 0]])),
        IndexError,
        r"\[cross_entropy\] target 3 is out of bounds for 3 classes",
    ),
    (
        lambda: F.nll_loss(_x(2, 3), _t([0, 5])),
        IndexError,
        r"\[nll_loss\] target 5 is out of bounds for 3 classes",
    ),
    (
        lambda: F.cross_entropy(_x(4, 10), _t([1, 2, 3])),
        mt.ShapeError,
        (
            r"\[cross_entropy\] expected target of shape \(4,\) for logits of shape \(4, 10\), got "
            r"target of shape \(3,\)"
        ),
    ),
    (
        lambda: F.cross_entropy(_x(2, 3, 4), _t([[0, 1, 2], [0, 0, 0]])),
        mt.ShapeError,
        (
            r"expected target of shape \(2, 4\) for logits of shape \(2, 3, 4\), got target of "
            r"shape \(2, 3\)"
        ),
    ),
    (
        lambda: F.cross_entropy(_x(4, 10), _t([[1], [2], [3], [4]])),
        mt.ShapeError,
        r"got target of shape \(4, 1\)",
    ),
    (
        lambda: F.cross_entropy(_x(10), _t([1])),
        mt.ShapeError,
        r"expected target of shape \(\) for logits of shape \(10,\)",
    ),
    (
        lambda: F.cross_entropy(_x(), _t(1)),
        mt.ShapeError,
        r"\[cross_entropy\] expected logits of shape \(C\), \(N, C\) or \(N, C, d1, \.\.\.\)",
    ),
    (
        lambda: F.cross_entropy(_x(4, 10), _x(4, 10)),
        mt.DTypeError,
        r"\[cross_entropy\] class-index targets must be int64, got float32",
    ),
    (
        lambda: F.cross_entropy(_x(4, 10), _x(4, dtype="int32")),
        mt.DTypeError,
        r"class-index targets must be int64, got int32",
    ),
    (
        lambda: F.cross_entropy(_x(4, 10, dtype="int64"), _t([0, 1, 2, 3])),
        mt.DTypeError,
        r"\[cross_entropy\] logits must be float32 or float64, got int64",
    ),
    (
        lambda: F.nll_loss(_x(2, 3), _x(2)),
        mt.DTypeError,
        r"\[nll_loss\] class-index targets must be int64",
    ),
    (
        lambda: F.cross_entropy(_x(4, 10), _t([0, 1, 2, 3]), reduction="avg"),
        ValueError,
        r"\[cross_entropy\] reduction must be 'mean', 'sum' or 'none', got 'avg'",
    ),
    (
        lambda: F.cross_entropy(_x(4, 10), _t([0, 1, 2, 3]), label_smoothing=1.5),
        ValueError,
        r"\[cross_entropy\] label_smoothing must be in \[0, 1\], got 1.5",
    ),
    (
        lambda: F.cross_entropy(_x(4, 10), _t([0, 1, 2, 3]), weight=_x(10)),
        ValueError,
        r"\[cross_entropy\] class weights are not supported",
    ),
    (
        lambda: F.nll_loss(_x(2, 3), _t([0, 1]), reduction="mean_"),
        ValueError,
        r"\[nll_loss\] reduction must be",
    ),
]


@pytest.mark.parametrize("fn,err,match", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_raises(fn, err, match):
    with pytest.raises(err, match=match):
        fn()


def test_native_validation_without_the_python_layer():
    # The _C ops validate too (the Python wrappers may be bypassed).
    x, t = _x(4, 10), _t([0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"\[cross_entropy\] reduction must be"):
        mt._C.cross_entropy(x._impl, t._impl, "avg", -100, 0.0)
    with pytest.raises(ValueError, match=r"\[cross_entropy\] label_smoothing must be in"):
        mt._C.cross_entropy(x._impl, t._impl, "mean", -100, -0.1)
    _loss, lse = mt._C.cross_entropy(x._impl, t._impl, "mean", -100, 0.0)
    g = _x(4)
    with pytest.raises(mt.ShapeError, match=r"\[cross_entropy_backward\] expected grad of shape"):
        mt._C.cross_entropy_backward(g._impl, x._impl, t._impl, lse, "mean", -100, 0.0)
    with pytest.raises(mt.ShapeError, match=r"\[nll_loss_backward\] expected grad of shape \(4,\)"):
        mt._C.nll_loss_backward(_x()._impl, x._impl, t._impl, "none", -100)
    with pytest.raises(mt.ShapeError, match=r"\[softmax_backward\] grad has shape \(3,\)"):
        mt._C.softmax_backward(_x(3)._impl, _x(4)._impl, 0)
    with pytest.raises(mt.DTypeError, match=r"\[log_softmax_backward\] grad is float64"):
        mt._C.log_softmax_backward(_x(4, dtype="float64")._impl, _x(4)._impl, 0)


def test_ignored_targets_are_not_bounds_checked():
    # ignore_index may lie outside [0, C), as PyTorch's default -100.
    loss = F.cross_entropy(_x(3, 4), _t([-100, 1, -100]))
    assert np.isfinite(loss.item())
