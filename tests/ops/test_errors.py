"""Bad input to elementwise, shape and creation ops: a typed exception naming the op and the
offending shapes, dtypes or devices — never a crash."""

from __future__ import annotations

import mytensor as mt
import pytest

CASES = [
    # (callable, exception type, message fragment)
    (
        lambda: mt.ones(2, 3) + mt.ones(4, 3),
        mt.ShapeError,
        r"\[add\] shapes \(2, 3\) and \(4, 3\) cannot be broadcast",
    ),
    (lambda: mt.ones(2, 3) * mt.ones(3, 2), ValueError, r"\[mul\] shapes \(2, 3\) and \(3, 2\)"),
    (
        lambda: mt.ones(2, 3).reshape(4, 2),
        mt.ShapeError,
        r"\[reshape\] shape \(4, 2\) is invalid for input of shape \(2, 3\)",
    ),
    (lambda: mt.ones(2, 3).reshape(-1, -1), mt.ShapeError, r"only one dimension can be inferred"),
    (lambda: mt.ones(2, 3).t().view(6), mt.ShapeError, r"\[view\].*cannot be viewed as \(6,\)"),
    (lambda: mt.ones(2, 3).permute(0, 0), mt.ShapeError, r"\[permute\] dim 0 repeats"),
    (lambda: mt.ones(2, 3).permute(0), mt.ShapeError, r"\[permute\] expected 2 dims"),
    (lambda: mt.ones(2, 3).transpose(0, 2), IndexError, r"\[transpose\] dim 2 is out of range"),
    (lambda: mt.ones(2, 3)[5], IndexError, r"\[select\] index 5 is out of bounds for dim 0"),
    (lambda: mt.ones(2, 3)[0, 0, 0], IndexError, r"too many indices"),
    (lambda: mt.ones(2, 3).expand(4, 3, 2), mt.ShapeError, r"\[expand\]"),
    (lambda: mt.ones(3, 2).expand(2, 2), mt.ShapeError, r"\[expand\] the size of dim 0 \(3\)"),
    (
        lambda: mt.cat([mt.ones(2, 3), mt.ones(2, 4)]),
        mt.ShapeError,
        r"\[cat\] sizes must match except in dim 0",
    ),
    (lambda: mt.cat([]), ValueError, r"\[cat\] expected a non-empty list"),
    (
        lambda: mt.stack([mt.ones(2), mt.ones(3)]),
        mt.ShapeError,
        r"\[stack\] expects each tensor to be equal size",
    ),
    (lambda: mt.nn.functional.pad(mt.ones(2), (1, 2, 3)), ValueError, r"\[pad\] padding length"),
    (lambda: mt.nn.functional.pad(mt.ones(2), (1, 1, 1, 1)), mt.ShapeError, r"\[pad\] padding"),
    (lambda: mt.ones(2, 3).flip(5), IndexError, r"\[flip\] dim 5 is out of range"),
    (lambda: mt.exp(mt.tensor([True])), None, None),  # promoted to float32, as PyTorch
    (lambda: -mt.tensor([True]), mt.DTypeError, r"\[neg\] is not supported for bool"),
    (
        lambda: mt.tensor([True]) - mt.tensor([False]),
        mt.DTypeError,
        r"\[sub\] is not supported for bool",
    ),
    (
        lambda: mt.where(mt.ones(2), mt.ones(2), mt.ones(2)),
        mt.DTypeError,
        r"\[where\] condition must be bool, got float32",
    ),
    (lambda: mt.tensor([1, 2]) ** -1, ValueError, r"negative integer powers"),
    (lambda: mt.clamp(mt.ones(2)), ValueError, r"\[clamp\] at least one of min and max"),
    (lambda: mt.arange(0, 10, 0), ValueError, r"\[arange\] step must be nonzero"),
    (lambda: mt.arange(10, 0, 1), ValueError, r"\[arange\] upper bound"),
    (lambda: mt.zeros(-1, 2), mt.ShapeError, r"negative dimension"),
    (lambda: mt.ones(3).item(), ValueError, r"\[item\] a tensor with 3 elements"),
    (lambda: mt.ones(2, 3).sum(3), IndexError, r"\[sum\] dim 3 is out of range"),
    (lambda: mt.ones(2, 3).sum((0, 0)), ValueError, r"\[sum\] dim 0 appears more than once"),
    (lambda: mt.tensor([1, 2]).mean(), mt.DTypeError, r"\[mean\] input dtype must be floating"),
    (lambda: mt.tensor([1.0]).add_(mt.ones(3)), mt.ShapeError, r"\[add_\] the result of shape"),
    # issue #10: RuntimeError with PyTorch's wording (was DTypeError "cannot be cast").
    (
        lambda: mt.tensor([1, 2]).add_(1.5),
        RuntimeError,
        r"\[add_\] result type float32 can't be cast to the desired output type int64",
    ),
    (lambda: mt.device("gpu"), ValueError, r"\[device\] expected 'cpu' or 'cuda"),
    (lambda: mt.from_numpy([1, 2]), TypeError, r"\[from_numpy\] expected a numpy.ndarray"),
    (lambda: mt.tensor(["a"]), mt.DTypeError, r"NumPy dtype <U1 is not supported"),
]


@pytest.mark.parametrize("fn,exc,fragment", CASES, ids=[str(i) for i in range(len(CASES))])
def test_bad_input_raises_a_clear_error(fn, exc, fragment):
    if exc is None:
        fn()
        return
    with pytest.raises(exc, match=fragment):
        fn()


def test_cuda_request_without_cuda_says_how_to_rebuild():
    if mt.cuda.is_available():
        pytest.skip("this build has CUDA")
    with pytest.raises(mt.DeviceError, match=r"rebuild|no CUDA device|out of range"):
        mt.zeros(2, device="cuda")


def test_mixing_devices_is_rejected():
    if not mt.cuda.is_available():
        pytest.skip("needs a GPU")
    with pytest.raises(
        mt.DeviceError,
        match=r"\[add\] expected all tensors on one device, got "
        r"cpu and cuda:0",
    ):
        mt.ones(2) + mt.ones(2, device="cuda")
