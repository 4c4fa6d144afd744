"""Interop with NumPy and DLPack: bfloat16 tensors imported through DLPack, and the errors of
from_dlpack / from_numpy / tensor on arrays and capsules they can't take (issue #10)."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
import torch


def _bf16():
    return mt.from_dlpack(torch.tensor([1.5, -2.0, 3.0], dtype=torch.bfloat16))


def test_bfloat16_numpy_raises_a_clear_type_error():
    """issue #10: .numpy() of a bf16 tensor returned an object array wrapping a nanobind
    ndarray."""
    t = _bf16()
    assert t.dtype is mt.bfloat16
    with pytest.raises(TypeError, match=r"\[numpy\] bfloat16 has no NumPy dtype"):
        t.numpy()
    with pytest.raises(TypeError, match="bfloat16 has no NumPy dtype"):
        t.tolist()


def test_bfloat16_repr_prints_no_nanobind_object():
    """issue #10: repr printed '<nanobind.nb_ndarray object at ...>'."""
    text = repr(_bf16())
    assert "nanobind" not in text and "nb_ndarray" not in text
    assert "dtype=mytensor.bfloat16" in text
    assert "1.5" in text or "3 bfloat16 values" in text  # values through float32, or a count


def test_bfloat16_round_trips_through_dlpack():
    back = torch.from_dlpack(_bf16())
    assert back.dtype == torch.bfloat16 and back.tolist() == [1.5, -2.0, 3.0]


def test_consumed_capsule_is_a_clear_error():
    """issue #10: nanobind's 'incompatible function arguments'."""
    capsule = torch.ones(2).__dlpack__()
    mt.from_dlpack(capsule)
    with pytest.raises(RuntimeError, match=r"\[from_dlpack\].*already consumed"):
        mt.from_dlpack(capsule)


def test_read_only_array_is_copied():
    """issue #10: a read-only NumPy array gave 'incompatible function arguments' in from_dlpack;
    it is copied (a tensor is always writable), as from_numpy already did."""
    a = np.arange(3.0)
    a.flags.writeable = False
    for fn in (mt.from_dlpack, mt.from_numpy, mt.tensor):
        t = fn(a)
        np.testing.assert_array_equal(t.numpy(), a)
        t.add_(1)  # writable, and a's memory is not touched
        np.testing.assert_array_equal(a, [0.0, 1.0, 2.0])


@pytest.mark.parametrize("fn", [mt.from_dlpack, mt.from_numpy, mt.tensor])
def test_non_native_byte_order_is_a_clear_value_error(fn):
    """issue #10: from_dlpack gave 'incompatible function arguments'; as PyTorch, a ValueError
    that says how to convert."""
    a = np.arange(3, dtype=">f4")
    with pytest.raises(ValueError, match="byte order .* not the machine's native order"):
        fn(a)


def test_dlpack_exception_of_the_producer_propagates():
    """issue #10: the user's own exception was swallowed."""

    class Producer:
        def __dlpack__(self, stream=None):
            raise KeyError("the producer's own error")

        def __dlpack_device__(self):
            return (1, 0)

    with pytest.raises(KeyError, match="the producer's own error"):
        mt.from_dlpack(Producer())


def test_from_dlpack_of_a_non_dlpack_object():
    with pytest.raises(TypeError, match=r"\[from_dlpack\] expected an object with __dlpack__"):
        mt.from_dlpack(5)


def test_from_dlpack_still_shares_memory():
    src = torch.zeros(2, 3)
    t = mt.from_dlpack(src.t())
    assert t.shape == (3, 2)
    src[0, 1] = 7.0
    assert t.numpy()[1, 0] == 7.0
    a = np.zeros(4, dtype=np.int32)
    mt.from_dlpack(a).fill_(3)
    assert a.tolist() == [3, 3, 3, 3]
