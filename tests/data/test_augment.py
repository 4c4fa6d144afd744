"""The fused augmentation op (gather + random crop + flip + normalise) against a plain NumPy
reference with the same Philox draws or the same explicit plan, and DeviceImageLoader built on
it (set_epoch_plan included)."""

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


def _run(
    images, labels, indices, mean, std, padding, flip, seed, offset, device, dtype, params=None
):
    t = lambda a, dt=None: mt.tensor(a, dtype=dt, device=device)  # noqa: E731
    plan = None if params is None else t(np.asarray(params, np.int32))._impl
    x, y = _C.augment_images(
        t(images)._impl,
        t(labels)._impl,
        t(indices)._impl,
        t(mean, mt.float32 if dtype == np.float32 else mt.float64)._impl,
        t(std, mt.float32 if dtype == np.float32 else mt.float64)._impl,
        padding,
        flip,
        seed,
        offset,
        plan,
    )
    return mt.ops._util.wrap(x).cpu().numpy(), mt.ops._util.wrap(y).cpu().numpy()


def _random_plan(b, padding, rng):
    return (
        np.stack(
            [
                rng.integers(0, 2 * padding + 1, b),
                rng.integers(0, 2 * padding + 1, b),
                rng.integers(0, 2, b),
            ],
            axis=1,
        )
        .astype(np.int32)
        .reshape(b, 3)
    )


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
    ex, ey = augment_reference(
        images, labels, indices, mean, std, padding, flip, seed, offset, dtype
    )
    assert x.dtype == dtype and x.shape == (7, 3, 8, 6)
    np.testing.assert_allclose(x, ex, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y, ey)


# ---- the explicit-plan mode ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding,flip", [(4, True), (0, False), (2, False), (0, True), (9, True)])
def test_plan_matches_reference(padding, flip, dtype, device):
    images, labels = _data()
    indices = np.array([3, 0, 19, 3, 7, 12, 5], np.int64)
    params = _random_plan(7, padding, np.random.default_rng(padding))
    params[0] = (0, 2 * padding, 1)  # the extreme corners, mirrored
    params[1] = (2 * padding, 0, 0)
    mean, std = np.array([0.4914, 0.4822, 0.4465]), np.array([0.247, 0.243, 0.261])
    x, y = _run(images, labels, indices, mean, std, padding, flip, 5, 77, device, dtype, params)
    ex, ey = augment_reference(
        images, labels, indices, mean, std, padding, flip, 5, 77, dtype, params=params
    )
    assert x.dtype == dtype and x.shape == (7, 3, 8, 6)
    np.testing.assert_allclose(x, ex, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y, ey)


def test_plan_semantics_by_hand(device):
    """Output (y, x) reads padded (y + dy, x + dx), mirrored: checked on a 4x4 ramp."""
    image = np.arange(16, dtype=np.uint8).reshape(1, 1, 4, 4)
    params = [[0, 0, 1], [2, 2, 0], [1, 1, 1]]
    x, _ = _run(
        image,
        np.zeros(1, np.int64),
        np.zeros(3, np.int64),
        np.zeros(1),
        np.ones(1),
        1,
        True,
        0,
        0,
        device,
        np.float64,
        params,
    )
    got = np.rint(x[:, 0] * 255).astype(int)
    np.testing.assert_array_equal(got[0], [[0, 0, 0, 0], [2, 1, 0, 0], [6, 5, 4, 0], [10, 9, 8, 0]])
    np.testing.assert_array_equal(
        got[1], [[5, 6, 7, 0], [9, 10, 11, 0], [13, 14, 15, 0], [0, 0, 0, 0]]
    )
    np.testing.assert_array_equal(got[2], image[0, 0, :, ::-1])  # centred crop, mirrored


def test_plan_ignores_seed_and_flip_off_ignores_flip_bits(device):
    images, labels = _data()
    indices = np.array([1, 2, 3], np.int64)
    params = [[1, 3, 1], [0, 0, 1], [4, 4, 0]]
    run = lambda seed, offset, flip: _run(  # noqa: E731
        images,
        labels,
        indices,
        np.zeros(3),
        np.ones(3),
        2,  # noqa: E731
        flip,
        seed,
        offset,
        device,
        np.float32,
        params,
    )[0]
    np.testing.assert_array_equal(run(1, 0, True), run(123, 999, True))
    unflipped = [[1, 3, 0], [0, 0, 0], [4, 4, 0]]
    np.testing.assert_array_equal(
        run(1, 0, False),
        _run(
            images,
            labels,
            indices,
            np.zeros(3),
            np.ones(3),
            2,
            True,
            0,
            0,
            device,
            np.float32,
            unflipped,
        )[0],
    )


@pytest.mark.parametrize(
    "params,error,fragment",
    [
        (
            np.zeros((2, 3), np.int64),
            mt.DTypeError,
            r"\[augment_images\] params must be int32.*int64",
        ),
        (np.zeros((2, 3), np.float32), mt.DTypeError, "params must be int32"),
        (
            np.zeros((2, 2), np.int32),
            mt.ShapeError,
            r"\[augment_images\] params must have shape \(2, 3\) to match indices \(2,\), got \(2, 2\)",  # noqa: E501
        ),
        (np.zeros((3, 3), np.int32), mt.ShapeError, r"params must have shape \(2, 3\)"),
        (np.zeros(6, np.int32), mt.ShapeError, r"got \(6,\)"),
        (
            np.array([[0, 0, 0], [9, 0, 0]], np.int32),
            ValueError,
            r"\[augment_images\] params\[1\] = \(9, 0, 0\) is out of range: dy and dx must lie in "
            r"\[0, 8\] for padding 4",
        ),
        (np.array([[0, -1, 0], [0, 0, 0]], np.int32), ValueError, r"params\[0\] = \(0, -1, 0\)"),
        (np.array([[0, 0, 2], [0, 0, 0]], np.int32), ValueError, r"flip in \{0, 1\}"),
    ],
)
def test_plan_errors(params, error, fragment):
    im, lab = _data()
    with pytest.raises(error, match=fragment):
        _C.augment_images(
            mt.tensor(im)._impl,
            mt.tensor(lab)._impl,
            mt.tensor([0, 1])._impl,
            mt.zeros(3)._impl,
            mt.ones(3)._impl,
            4,
            True,
            0,
            0,
            mt.tensor(params)._impl,
        )


def test_plan_device_mismatch_and_bad_rows_on_cuda(device):
    if device != "cuda":
        pytest.skip("the CUDA kernel's own handling of bad plan rows")
    im, lab = _data()
    args = [
        mt.tensor(im, device="cuda"),
        mt.tensor(lab, device="cuda"),
        mt.tensor([0, 1], device="cuda"),
        mt.zeros(3, device="cuda"),
        mt.ones(3, device="cuda"),
    ]
    cpu_plan = mt.tensor(np.zeros((2, 3), np.int32))
    with pytest.raises(mt.DeviceError, match="augment_images"):
        _C.augment_images(*[a._impl for a in args], 4, True, 0, 0, cpu_plan._impl)
    # Not checked on the host (no synchronisation per batch): a bad row's sample is marked.
    bad = mt.tensor(np.array([[0, 0, 0], [9, 0, 0]], np.int32), device="cuda")
    x, y = _C.augment_images(*[a._impl for a in args], 4, True, 0, 0, bad._impl)
    x, y = mt.ops._util.wrap(x).cpu().numpy(), mt.ops._util.wrap(y).cpu().numpy()
    assert np.isfinite(x[0]).all() and np.isnan(x[1]).all()
    assert y.tolist() == [lab[0], -1]


def test_draws_cover_all_offsets_and_flips():
    """Over many samples every crop offset in [-p, p] and both flips occur."""
    images = np.zeros((1, 1, 5, 5), np.uint8)
    images[0, 0, 2, 2] = 255  # a single bright pixel shows where the crop landed
    n = 400
    x, _ = _run(
        images,
        np.zeros(1, np.int64),
        np.zeros(n, np.int64),
        np.zeros(1),
        np.ones(1),
        2,
        True,
        7,
        0,
        "cpu",
        np.float32,
    )
    positions = {tuple(np.argwhere(x[b, 0] > 0.5)[0]) for b in range(n) if x[b, 0].max() > 0.5}
    assert positions == {(r, c) for r in range(5) for c in range(5)}


def test_padding_is_normalised_zero():
    images = np.full((1, 1, 4, 4), 255, np.uint8)
    x, _ = _run(
        images,
        np.zeros(1, np.int64),
        np.zeros(200, np.int64),
        np.array([0.5]),
        np.array([0.25]),
        4,
        False,
        3,
        0,
        "cpu",
        np.float32,
    )
    assert set(np.unique(x).tolist()) == {-2.0, 2.0}  # (0 - .5) / .25 and (1 - .5) / .25


def test_empty_batch():
    images, labels = _data()
    x, y = _run(
        images,
        labels,
        np.zeros(0, np.int64),
        np.zeros(3),
        np.ones(3),
        4,
        True,
        0,
        0,
        "cpu",
        np.float32,
    )
    assert x.shape == (0, 3, 8, 6) and y.shape == (0,)


def _call(images=None, labels=None, indices=None, mean=None, std=None, padding=4):
    im, lab = _data()
    images = mt.tensor(im) if images is None else images
    labels = mt.tensor(lab) if labels is None else labels
    indices = mt.tensor([0, 1]) if indices is None else indices
    mean = mt.zeros(3) if mean is None else mean
    std = mt.ones(3) if std is None else std
    _C.augment_images(
        images._impl, labels._impl, indices._impl, mean._impl, std._impl, padding, True, 0, 0
    )


@pytest.mark.parametrize(
    "kwargs,error,fragment",
    [
        (dict(images=mt.zeros(2, 3, 4, 4)), mt.DTypeError, "images must be uint8, got float32"),
        (
            dict(images=mt.zeros(3, 4, 4, dtype=mt.uint8)),
            mt.ShapeError,
            r"images must be \(N, C, H, W\), got shape \(3, 4, 4\)",
        ),
        (
            dict(labels=mt.zeros(19, dtype=mt.int64)),
            mt.ShapeError,
            r"labels must have shape \(20\)",
        ),
        (dict(labels=mt.zeros(20, dtype=mt.int32)), mt.DTypeError, "labels must be int64"),
        (dict(indices=mt.tensor([0.0])), mt.DTypeError, "indices must be int64, got float32"),
        (dict(indices=mt.tensor([[0]])), mt.ShapeError, "indices must be 1-D"),
        (dict(indices=mt.tensor([0, 20])), IndexError, r"indices\[1\] = 20 is out of range for 20"),
        (dict(indices=mt.tensor([-1])), IndexError, r"indices\[0\] = -1 is out of range"),
        (
            dict(mean=mt.zeros(2)),
            mt.ShapeError,
            r"mean must have one value per channel, shape \(3\)",
        ),
        (dict(std=mt.ones(3, dtype=mt.float64)), mt.DTypeError, "mean is float32 but stdev is"),
        (dict(mean=mt.zeros(3, dtype=mt.int64)), mt.DTypeError, "mean must be float32 or float64"),
        (dict(padding=-1), ValueError, "padding must be >= 0, got -1"),
    ],
)
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
    loader = mt.data.DeviceImageLoader(
        images,
        labels,
        batch_size=5,
        shuffle=True,
        padding=2,
        flip=True,
        mean=(0.5,),
        std=(0.25,),
        device=device,
    )
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
    ((x, y),) = list(plain)
    np.testing.assert_allclose(x.numpy(), images.astype(np.float32) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), labels)


def test_device_loader_channels_last_and_errors():
    images, labels = _data(n=4, c=3, h=5, w=5)
    hwc = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    ((x, _),) = list(mt.data.DeviceImageLoader(hwc, labels, 4, shuffle=False, channels_last=True))
    np.testing.assert_allclose(x.numpy(), images / np.float32(255), rtol=1e-6)
    with pytest.raises(ValueError, match="images must be uint8 of 4 dims"):
        mt.data.DeviceImageLoader(images.astype(np.float32), labels, 4)
    with pytest.raises(ValueError, match="one value per channel"):
        mt.data.DeviceImageLoader(images, labels, 4, mean=(0.1, 0.2))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        mt.data.DeviceImageLoader(images, labels, 0)
    with pytest.raises(ValueError, match="labels must be 4 integers"):
        mt.data.DeviceImageLoader(images, labels[:3], 4)


def _reference_epoch(images, labels, order, params, padding, flip, mean, std, batch_size):
    x, y = augment_reference(
        images,
        labels,
        order,
        np.asarray(mean),
        np.asarray(std),
        padding,
        flip,
        0,
        0,
        np.float32,
        params=params,
    )
    return [
        (x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(order), batch_size)
    ]


def test_device_loader_plan(device):
    images, labels = _data(n=11)
    rng = np.random.default_rng(3)
    order, params = rng.permutation(11), _random_plan(11, 2, rng)
    loader = mt.data.DeviceImageLoader(
        images, labels, 4, padding=2, flip=True, mean=(0.5,), std=(0.25,), device=device
    )
    loader.set_epoch_plan(order, params)
    expected = _reference_epoch(images, labels, order, params, 2, True, [0.5] * 3, [0.25] * 3, 4)
    for _ in range(2):  # the plan holds for every pass until replaced
        before = mt.get_rng_state()
        batches = [(x.cpu().numpy(), y.cpu().numpy()) for x, y in loader]
        assert mt.get_rng_state() == before  # a plan draws nothing from the global generator
        assert len(batches) == len(expected) == 3
        for (x, y), (ex, ey) in zip(batches, expected):
            np.testing.assert_allclose(x, ex, rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(y, ey)
    # Order only: crops and flips stay random, the order is the plan's.
    loader.set_epoch_plan(mt.tensor(order))
    assert np.concatenate([y.cpu().numpy() for _, y in loader]).tolist() == labels[order].tolist()
    # Dropped: random order again, drawn from the global generator.
    loader.set_epoch_plan(None)
    before = mt.get_rng_state()
    list(loader)
    assert mt.get_rng_state() != before


def test_device_loader_plan_overrides_shuffle_and_flip_off():
    images, labels = _data(n=6)
    loader = mt.data.DeviceImageLoader(images, labels, 6, shuffle=False)
    loader.set_epoch_plan([5, 4, 3, 2, 1, 0], np.zeros((6, 3), np.int64))
    ((x, y),) = list(loader)
    np.testing.assert_array_equal(y.numpy(), labels[::-1])
    np.testing.assert_allclose(x.numpy(), images[::-1] / np.float32(255), rtol=1e-6)


@pytest.mark.parametrize(
    "order,params,fragment",
    [
        (
            np.arange(5),
            None,
            r"order must be 6 integers \(one per image\), got int64 of shape \(5,\)",
        ),
        (np.arange(6.0), None, "order must be 6 integers"),
        (np.array([0, 1, 2, 3, 4, 6]), None, r"order\[5\] = 6 is out of range for 6 images"),
        (np.array([-1, 1, 2, 3, 4, 5]), None, r"order\[0\] = -1 is out of range"),
        (np.arange(6), np.zeros((6, 2), np.int32), r"params must be integers of shape \(6, 3\)"),
        (np.arange(6), np.zeros((6, 3), np.float32), "params must be integers"),
        (
            np.arange(6),
            np.array([[0, 0, 0]] * 5 + [[5, 0, 0]]),
            r"params\[5\] = \(5, 0, 0\) is out of range: dy and dx must lie in \[0, 4\] for padding 2",  # noqa: E501
        ),
        (
            np.arange(6),
            np.array([[0, 0, 0]] * 5 + [[0, 0, 3]]),
            r"params\[5\] = \(0, 0, 3\) is out of range.*flip in \{0, 1\}",
        ),
        (None, np.zeros((6, 3), np.int32), "params given without an order"),
    ],
)
def test_device_loader_plan_errors(order, params, fragment):
    images, labels = _data(n=6)
    loader = mt.data.DeviceImageLoader(images, labels, 4, padding=2, flip=True)
    with pytest.raises(ValueError, match=r"\[DeviceImageLoader.set_epoch_plan\] " + fragment):
        loader.set_epoch_plan(order, params)
    no_flip = mt.data.DeviceImageLoader(images, labels, 4, padding=2, flip=False)
    with pytest.raises(ValueError, match="the plan flips samples but the loader has flip=False"):
        no_flip.set_epoch_plan(np.arange(6), np.array([[0, 0, 1]] * 6))
