"""The fused augmentation op (gather + random crop + flip + normalise) against a plain NumPy
reference with the same Philox draws, and DeviceImageLoader built on it."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
from mytensor import _C

from tests.data.philox_ref import augment_reference, philox


def _data(n=20, c=3, h=8, w=6, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, c, h, w), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.int64)
    return images, labels


def _run(images, labels, indices, mean, std, padding, flip, seed, offset, device, dtype):
    t = lambda a, dt=None: mt.tensor(a, dtype=dt, device=device)  # noqa: E731
    x, y = _C.augment_images(t(images)._impl, t(labels)._impl, t(indices)._impl,
                             t(mean, mt.float32 if dtype == np.float32 else mt.float64)._impl,
                             t(std, mt.float32 if dtype == np.float32 else mt.float64)._impl,
                             padding, flip, seed, offset)
    return mt.ops._util.wrap(x).cpu().numpy(), mt.ops._util.wrap(y).cpu().numpy()


def test_philox_reference_matches_known_answer():
    # Random123's known-answer test for philox4x32-10: counter 0, key 0.
    words = [int(w[0]) for w in philox(0, np.array([0], np.uint64))]
    assert words == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding,flip", [(4, True), (0, False), (2, False), (0, True), (9, True)])
def test_matches_reference(padding, flip, dtype, device):
    images, labels = _data()
    indices = np.array([3, 0, 19, 3, 7, 12, 5], np.int64)
    mean, std = np.array([0.4914, 0.4822, 0.4465]), np.array([0.247, 0.243, 0.261])
    seed, offset = 0x123456789, 1000
    x, y = _run(images, labels, indices, mean, std, padding, flip, seed, offset, device, dtype)
    ex, ey = augment_reference(images, labels, indices, mean, std, padding, flip, seed, offset,
                               dtype)
    assert x.dtype == dtype and x.shape == (7, 3, 8, 6)
    np.testing.assert_allclose(x, ex, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y, ey)


def test_draws_cover_all_offsets_and_flips():
    """Over many samples every crop offset in [-p, p] and both flips occur."""
    images = np.zeros((1, 1, 5, 5), np.uint8)
    images[0, 0, 2, 2] = 255  # a single bright pixel shows where the crop landed
    n = 400
    x, _ = _run(images, np.zeros(1, np.int64), np.zeros(n, np.int64), np.zeros(1), np.ones(1),
                2, True, 7, 0, "cpu", np.float32)
    positions = {tuple(np.argwhere(x[b, 0] > 0.5)[0]) for b in range(n) if x[b, 0].max() > 0.5}
    assert positions == {(r, c) for r in range(5) for c in range(5)}


def test_padding_is_normalised_zero():
    images = np.full((1, 1, 4, 4), 255, np.uint8)
    x, _ = _run(images, np.zeros(1, np.int64), np.zeros(200, np.int64), np.array([0.5]),
                np.array([0.25]), 4, False, 3, 0, "cpu", np.float32)
    assert set(np.unique(x).tolist()) == {-2.0, 2.0}  # (0 - .5) / .25 and (1 - .5) / .25


def test_empty_batch():
    images, labels = _data()
    x, y = _run(images, labels, np.zeros(0, np.int64), np.zeros(3), np.ones(3), 4, True, 0, 0,
                "cpu", np.float32)
    assert x.shape == (0, 3, 8, 6) and y.shape == (0,)


def _call(images=None, labels=None, indices=None, mean=None, std=None, padding=4):
    im, lab = _data()
    images = mt.tensor(im) if images is None else images
    labels = mt.tensor(lab) if labels is None else labels
    indices = mt.tensor([0, 1]) if indices is None else indices
    mean = mt.zeros(3) if mean is None else mean
    std = mt.ones(3) if std is None else std
    _C.augment_images(images._impl, labels._impl, indices._impl, mean._impl, std._impl, padding,
                      True, 0, 0)


@pytest.mark.parametrize("kwargs,error,fragment", [
    (dict(images=mt.zeros(2, 3, 4, 4)), mt.DTypeError, "images must be uint8, got float32"),
    (dict(images=mt.zeros(3, 4, 4, dtype=mt.uint8)), mt.ShapeError,
     r"images must be \(N, C, H, W\), got shape \(3, 4, 4\)"),
    (dict(labels=mt.zeros(19, dtype=mt.int64)), mt.ShapeError,
     r"labels must have shape \(20\)"),
    (dict(labels=mt.zeros(20, dtype=mt.int32)), mt.DTypeError, "labels must be int64"),
    (dict(indices=mt.tensor([0.0])), mt.DTypeError, "indices must be int64, got float32"),
    (dict(indices=mt.tensor([[0]])), mt.ShapeError, "indices must be 1-D"),
    (dict(indices=mt.tensor([0, 20])), IndexError, r"indices\[1\] = 20 is out of range for 20"),
    (dict(indices=mt.tensor([-1])), IndexError, r"indices\[0\] = -1 is out of range"),
    (dict(mean=mt.zeros(2)), mt.ShapeError, r"mean must have one value per channel, shape \(3\)"),
    (dict(std=mt.ones(3, dtype=mt.float64)), mt.DTypeError, "mean is float32 but stdev is"),
    (dict(mean=mt.zeros(3, dtype=mt.int64)), mt.DTypeError, "mean must be float32 or float64"),
    (dict(padding=-1), ValueError, "padding must be >= 0, got -1"),
])
def test_errors(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        _call(**kwargs)


def test_non_contiguous_images():
    im = mt.tensor(np.zeros((2, 3, 4, 4), np.uint8)).transpose(2, 3)
    with pytest.raises(ValueError, match="images must be contiguous"):
        _call(images=im, labels=mt.zeros(2, dtype=mt.int64))


# ---- DeviceImageLoader ---------------------------------------------------------------------------
def test_device_loader_epoch(device):
    images, labels = _data(n=23)
    loader = mt.data.DeviceImageLoader(images, labels, batch_size=5, shuffle=True, padding=2,
                                       flip=True, mean=(0.5,), std=(0.25,), device=device)
    assert len(loader) == 5
    seen = []
    for x, y in loader:
        assert x.device.type == device and x.dtype is mt.float32 and y.dtype is mt.int64
        seen.extend(y.cpu().numpy().tolist())
    assert len(seen) == 23 and sorted(seen) == sorted(labels.tolist())  # a permutation
    drop = mt.data.DeviceImageLoader(images, labels, batch_size=5, drop_last=True, device=device)
    assert len(drop) == 4 and sum(x.shape[0] for x, _ in drop) == 20


def test_device_loader_reproducible_and_unaugmented():
    images, labels = _data(n=12)
    make = lambda: mt.data.DeviceImageLoader(images, labels, 4, padding=4, flip=True)  # noqa
    mt.manual_seed(5)
    a = [x.numpy() for x, _ in make()]
    mt.manual_seed(5)
    b = [x.numpy() for x, _ in make()]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    plain = mt.data.DeviceImageLoader(images, labels, 12, shuffle=False)
    (x, y), = list(plain)
    np.testing.assert_allclose(x.numpy(), images.astype(np.float32) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), labels)


def test_device_loader_channels_last_and_errors():
    images, labels = _data(n=4, c=3, h=5, w=5)
    hwc = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    (x, _), = list(mt.data.DeviceImageLoader(hwc, labels, 4, shuffle=False, channels_last=True))
    np.testing.assert_allclose(x.numpy(), images / np.float32(255), rtol=1e-6)
    with pytest.raises(ValueError, match="images must be uint8 of 4 dims"):
        mt.data.DeviceImageLoader(images.astype(np.float32), labels, 4)
    with pytest.raises(ValueError, match="one value per channel"):
        mt.data.DeviceImageLoader(images, labels, 4, mean=(0.1, 0.2))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        mt.data.DeviceImageLoader(images, labels, 0)
    with pytest.raises(ValueError, match="labels must be 4 integers"):
        mt.data.DeviceImageLoader(images, labels[:3], 4)
