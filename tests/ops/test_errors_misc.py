"""Bad inputs to the random, batch_norm and indexing ops: error type and message fragment each."""

from __future__ import annotations

import mytensor as mt
import mytensor.nn.functional as F
import pytest


def _bn(x, c_rm=None, **kw):
    c = x.shape[1] if x.ndim > 1 else 1
    rm = mt.zeros(c if c_rm is None else c_rm)
    return F.batch_norm(x, rm, mt.ones(c), **kw)


@pytest.mark.parametrize(
    "fn,err,fragment",
    [
        # random
        (lambda: mt.rand(2, 3, dtype=mt.int64), mt.DTypeError, "[rand] dtype must be float32"),
        (lambda: mt.randn(2, dtype=mt.bool), mt.DTypeError, "[randn] dtype must be float32"),
        (lambda: mt.rand(-1, 3), mt.ShapeError, "[rand] negative dimension"),
        (lambda: mt.randint(5, 5, (2,)), ValueError, "[randint] expected low < high, got low=5"),
        (lambda: mt.randint(0, 300, (2,), dtype=mt.uint8), ValueError, "does not fit dtype uint8"),
        (lambda: mt.randint(0, 2, (2,), dtype=mt.bool), mt.DTypeError, "[randint] dtype bool"),
        (lambda: mt.randperm(-3), ValueError, "[randperm] n must be non-negative, got -3"),
        (lambda: mt.randperm(300, dtype=mt.uint8), ValueError, "[randperm] n=300 is too large"),
        (
            lambda: mt._C.dropout(mt.ones(3)._impl, 1.5),
            ValueError,
            "[dropout] expected a probability",
        ),
        (lambda: F.dropout(mt.ones(3), -0.1), ValueError, "[dropout] expected a probability p in"),
        (lambda: F.dropout(mt.ones(3), 2), ValueError, "got 2"),
        (
            lambda: F.dropout(mt.ones(3, dtype=mt.int64), 0.5),
            mt.DTypeError,
            "[dropout] input must be float32 or float64, got int64",
        ),
        # batch_norm
        (
            lambda: _bn(mt.randn(4, 16), c_rm=8),
            mt.ShapeError,
            "[batch_norm] expected running_mean of shape (C,) = (16,), got (8,)",
        ),
        (
            lambda: F.batch_norm(mt.randn(4, 3), None, None, mt.ones(4), training=True),
            mt.ShapeError,
            "expected weight of shape (C,) = (3,), got (4,)",
        ),
        (
            lambda: F.batch_norm(mt.randn(4, 3), None, None, None, mt.ones(3, 1), training=True),
            mt.ShapeError,
            "expected bias of shape (C,) = (3,), got (3, 1)",
        ),
        (
            lambda: _bn(mt.randn(1, 16), training=True),
            ValueError,
            "Expected more than 1 value per channel when training",
        ),
        (
            lambda: _bn(mt.randn(1, 16, 1, 1), training=True),
            ValueError,
            "got input of shape (1, 16, 1, 1)",
        ),
        (
            lambda: F.batch_norm(mt.randn(5), None, None, training=True),
            mt.ShapeError,
            "[batch_norm] expected an input of 2 or more dims (N, C, *), got shape (5,)",
        ),
        (
            lambda: F.batch_norm(mt.randn(4, 3), None, None, training=False),
            ValueError,
            "running_mean and running_var must be given when training=False",
        ),
        (
            lambda: F.batch_norm(mt.ones(4, 3, dtype=mt.int64), None, None, training=True),
            mt.DTypeError,
            "[batch_norm] input must be float32 or float64, got int64",
        ),
        (
            lambda: F.batch_norm(
                mt.randn(4, 3), None, None, mt.ones(3, dtype=mt.float64), training=True
            ),
            mt.DTypeError,
            "expected weight of dtype float32 (the input's), got float64",
        ),
        (
            lambda: mt._C.batch_norm_backward(
                mt.ones(4, 2)._impl,
                mt.ones(4, 3)._impl,
                None,
                mt.ones(3)._impl,
                mt.ones(3)._impl,
                True,
            ),
            mt.ShapeError,
            "[batch_norm_backward] grad of shape (4, 2) does not match the input",
        ),
        # index_select
        (
            lambda: mt.index_select(mt.ones(5), 0, mt.tensor([1, 5])),
            IndexError,
            "[index_select] index 5 is out of range for dim 0 of size 5",
        ),
        (
            lambda: mt.index_select(mt.ones(2, 5), 1, mt.tensor([-1])),
            IndexError,
            "index -1 is out of range for dim 1 of size 5",
        ),
        (
            lambda: mt.index_select(mt.ones(5), 0, mt.tensor([[1]])),
            mt.ShapeError,
            "[index_select] expected a 0-d or 1-D index, got shape (1, 1)",
        ),
        (
            lambda: mt.index_select(mt.ones(5), 0, mt.tensor([1.0])),
            mt.DTypeError,
            "[index_select] expected index of dtype int64 or int32, got float32",
        ),
        (
            lambda: mt.index_select(mt.ones(5), 1, mt.tensor([0])),
            IndexError,
            "[index_select] dim 1",
        ),
        (lambda: mt.index_select(mt.ones(5), 0, [0]), TypeError, "[index_select] index must be a"),
        (
            lambda: mt._C.index_select_backward(mt.ones(3)._impl, [5], 0, mt.tensor([0, 1])._impl),
            mt.ShapeError,
            "[index_select_backward] expected grad of shape (2,), got (3,)",
        ),
        # gather
        (
            lambda: mt.gather(mt.ones(3, 4), 1, mt.tensor([0, 1])),
            mt.ShapeError,
            "[gather] expected index with as many dims as the input: input is (3, 4), index is (2,)",  # noqa: E501
        ),
        (
            lambda: mt.gather(mt.ones(2, 3), 1, mt.zeros(3, 2, dtype=mt.int64)),
            mt.ShapeError,
            "[gather] index of shape (3, 2) is larger than the input of shape (2, 3) in dim 0",
        ),
        (
            lambda: mt.gather(mt.ones(2, 3), 1, mt.tensor([[0, 3]])),
            IndexError,
            "[gather] index 3 is out of range for dim 1 of size 3",
        ),
        (lambda: mt.gather(mt.ones(2, 3), 0, mt.tensor([[0, -2]])), IndexError, "index -2"),
        (
            lambda: mt.gather(mt.ones(2, 3), 0, mt.tensor([[True]])),
            mt.DTypeError,
            "[gather] expected index of dtype int64 or int32, got bool",
        ),
        (lambda: mt.gather(mt.ones(2, 3), -3, mt.tensor([[0]])), IndexError, "[gather] dim -3"),
        (
            lambda: mt._C.gather_backward(mt.ones(1, 2)._impl, [2, 3], 1, mt.tensor([[0]])._impl),
            mt.ShapeError,
            "[gather_backward] expected grad of shape (1, 1) (the index's), got (1, 2)",
        ),
    ],
)
def test_bad_inputs_raise(fn, err, fragment):
    with pytest.raises(err) as info:
        fn()
    assert fragment in str(info.value)


def test_errors_leave_the_generator_alone():
    mt.manual_seed(4)
    with pytest.raises(ValueError):
        F.dropout(mt.ones(8), 1.5)
    with pytest.raises(ValueError):
        mt.randint(3, 1, (4,))
    assert mt.get_rng_state() == (4, 0)
