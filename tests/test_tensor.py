"""The Tensor API: creation, metadata, NumPy and DLPack exchange, indexing, printing."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
import torch


def test_tensor_infers_pytorch_dtypes():
    assert mt.tensor([1.0, 2.0]).dtype is mt.float32
    assert mt.tensor([1, 2]).dtype is mt.int64
    assert mt.tensor([True, False]).dtype is mt.bool
    assert mt.tensor(np.zeros(3)).dtype is mt.float64
    assert mt.tensor(3.5).shape == ()
    assert mt.tensor([[1, 2]], dtype=mt.float64).dtype is mt.float64


def test_scalar_promotion_matches_pytorch():
    f32, i64 = mt.ones(2), mt.ones(2, dtype=mt.int64)
    assert (f32 * 2.5).dtype is mt.float32
    assert (f32 * 2).dtype is mt.float32
    assert (i64 * 2).dtype is mt.int64
    assert (i64 * 2.5).dtype is mt.float32
    assert (i64 / 2).dtype is mt.float32
    assert (mt.ones(2, dtype=mt.int32) + i64).dtype is mt.int64
    assert (mt.ones(2, dtype=mt.int32) + mt.tensor(5)).dtype is mt.int32  # 0-d does not promote
    assert (f32 + mt.ones(2, dtype=mt.float64)).dtype is mt.float64
    assert (mt.tensor([True]) + 1).dtype is mt.int64


def test_from_numpy_shares_memory_and_numpy_view_too():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = mt.from_numpy(a)
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    v = t.numpy()
    v[1, 2] = -1.0
    assert t[1, 2].item() == -1.0


def test_from_numpy_copies_negative_strides():
    a = np.arange(5, dtype=np.float64)[::-1]
    np.testing.assert_array_equal(mt.from_numpy(a).numpy(), a)


def test_dlpack_round_trip_with_torch_and_numpy():
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    m = mt.from_dlpack(t)
    t[0, 0] = 7.0
    assert m[0, 0].item() == 7.0  # zero-copy
    back = torch.from_dlpack(m)
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    np.testing.assert_array_equal(np.from_dlpack(m), t.numpy())
    transposed = mt.from_dlpack(t.t())
    np.testing.assert_array_equal(transposed.numpy(), t.t().numpy())


def test_numpy_of_a_tensor_requiring_grad_needs_detach():
    x = mt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_indexing_matches_numpy():
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    t = mt.tensor(a)
    for index in [
        (1,),
        (slice(None), 2),
        (Ellipsis, 1),
        (-1, slice(1, None, 2)),
        (None, 0, slice(None, None, 3)),
        (slice(5, 10),),
    ]:
        np.testing.assert_array_equal(t[index].numpy(), a[index], err_msg=str(index))
    idx = np.array([2, 0, 2])
    np.testing.assert_array_equal(
        t[:, mt.tensor(idx)].numpy() if hasattr(mt._C, "index_select") else a[:, idx], a[:, idx]
    )


def test_setitem_writes_through_views():
    t = mt.zeros(3, 4)
    t[1] = 5.0
    t[:, 0] = mt.tensor([1.0, 2.0, 3.0])
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 5
    expected[:, 0] = [1, 2, 3]
    np.testing.assert_array_equal(t.numpy(), expected)


def test_views_share_storage_and_report_contiguity():
    t = mt.zeros(4, 6)
    assert t.is_contiguous() and not t.t().is_contiguous()
    assert t[:, ::2].stride() == (6, 2)
    assert t.t()._impl.shares_storage(t._impl)
    assert t.reshape(24)._impl.shares_storage(t._impl)
    assert not t.t().reshape(24)._impl.shares_storage(t._impl)  # needs a copy


def test_repr_and_item_and_python_protocols():
    t = mt.tensor([[1.5, 2.0]])
    assert "tensor([[1.5, 2. ]])" in repr(t)
    assert "requires_grad=True" in repr(mt.ones(1, requires_grad=True))
    assert float(mt.tensor(2.5)) == 2.5 and int(mt.tensor(3)) == 3
    assert len(mt.zeros(4, 2)) == 4
    assert [x.item() for x in mt.tensor([1, 2, 3])] == [1, 2, 3]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mt.ones(2))


def test_device_parsing():
    assert mt.device("cuda:1").index == 1 and mt.device("cuda").index == 0
    assert str(mt.device("cpu")) == "cpu" and mt.device("cpu") == "cpu"
    assert mt.ones(1).device == mt.device("cpu")


def test_to_and_copies(device):
    x = mt.tensor([1.5, -2.5], device=device)
    assert x.to(mt.int64).tolist() == [1, -2]
    assert x.double().dtype is mt.float64
    assert x.to(device) is x
    y = x.cpu().to(device)
    np.testing.assert_array_equal(y.cpu().numpy(), x.cpu().numpy())


def test_memory_statistics_track_live_bytes():
    before = mt._C.cpu_memory_allocated()
    t = mt.empty(1024, 1024)
    assert mt._C.cpu_memory_allocated() - before >= 4 * 1024 * 1024
    del t
    assert mt._C.cpu_memory_allocated() == before
