"""Dataset, TensorDataset, DataLoader and the per-sample transforms."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
from mytensor.data import DataLoader, Dataset, Subset, TensorDataset
from mytensor.data import transforms as T


def _tensors(n=10):
    x = mt.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = mt.tensor(np.arange(n, dtype=np.int64))
    return x, y


def test_tensor_dataset():
    x, y = _tensors()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    a, b = ds[2]
    assert a.numpy().tolist() == [6, 7, 8] and int(b.item()) == 2
    with pytest.raises(ValueError, match="argument 1 has 9 "):
        TensorDataset(x, y[:9])
    with pytest.raises(TypeError, match="expected a mytensor Tensor"):
        TensorDataset(np.zeros(3))


def test_sequential_batches_are_views():
    x, y = _tensors()
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert batches[2][1].numpy().tolist() == [8, 9]
    assert len(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)) == 2


def test_shuffle_with_seeded_generator():
    x, y = _tensors(50)
    a = [
        b[1].numpy().tolist() for b in DataLoader(TensorDataset(x, y), 8, shuffle=True, generator=3)
    ]
    b = [
        b[1].numpy().tolist() for b in DataLoader(TensorDataset(x, y), 8, shuffle=True, generator=3)
    ]
    assert a == b and sorted(sum(a, [])) == list(range(50)) and sum(a, []) != list(range(50))
    loader = DataLoader(TensorDataset(x, y), 50, shuffle=True, generator=4)
    e1, e2 = (next(iter(loader))[1].numpy().tolist() for _ in range(2))
    assert e1 != e2  # a new order every epoch
    xs, ys = next(iter(DataLoader(TensorDataset(x, y), 50, shuffle=True, generator=1)))
    np.testing.assert_array_equal(xs.numpy()[:, 0], ys.numpy() * 3)  # rows stay together


def test_shuffle_uses_global_generator_by_default():
    x, y = _tensors(30)
    loader = DataLoader(TensorDataset(x, y), 30, shuffle=True)
    mt.manual_seed(1)
    a = next(iter(loader))[1].numpy().tolist()
    mt.manual_seed(1)
    assert next(iter(loader))[1].numpy().tolist() == a


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full((2,), i, np.float32), i * i, {"id": i}


def test_generic_dataset_collate():
    (x, y, d), (x2, _, _) = list(DataLoader(Squares(), batch_size=3))
    assert x.shape == (3, 2) and y.numpy().tolist() == [0, 1, 4]
    assert d["id"].numpy().tolist() == [0, 1, 2] and x2.shape == (2, 2)
    sub = Subset(Squares(), [4, 1])
    assert len(sub) == 2 and sub[0][1] == 16
    shuffled = [
        int(v)
        for _, ys, _ in DataLoader(Squares(), 2, shuffle=True, generator=0)
        for v in ys.numpy()
    ]
    assert sorted(shuffled) == [0, 1, 4, 9, 16]


def test_loader_argument_checks():
    x, y = _tensors()
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(TensorDataset(x, y), batch_size=0)
    with pytest.raises(ValueError, match="num_workers=2 is not supported"):
        DataLoader(TensorDataset(x, y), num_workers=2)
    with pytest.raises(TypeError, match="generator must be an int seed"):
        list(DataLoader(TensorDataset(x, y), shuffle=True, generator="abc"))


def test_transforms_on_arrays_and_tensors():
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    t = T.ToTensor()(img)
    assert t.shape == (3, 4, 5) and float(t.numpy().max()) == pytest.approx(59 / 255)
    crop = T.RandomCrop(4, padding=2)
    for _ in range(5):
        out = crop(img)
        assert out.shape == (4, 4, 3)
        assert crop(t).shape == (3, 4, 4)
    flipped = T.RandomHorizontalFlip(p=1.0)(img)
    np.testing.assert_array_equal(flipped, img[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(t).numpy(), t.numpy()[:, :, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    norm = T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(t)
    np.testing.assert_allclose(norm.numpy(), (t.numpy() - 0.5) / 0.5, rtol=1e-6)
    assert "RandomCrop" in repr(T.Compose([crop, T.ToTensor()]))


def test_transform_errors():
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(TypeError, match="apply ToTensor first"):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="larger than the"):
        T.RandomCrop(10)(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        T.RandomCrop(4, padding=-1)
