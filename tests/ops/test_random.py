"""The random generator: reproducibility, offsets, state round trip, distribution statistics,
dropout's keep rate, scaling and gradient, and CPU/CUDA agreement of the counter-based draws."""

from __future__ import annotations

import mytensor as mt
import mytensor.nn.functional as F
import numpy as np
import pytest


def test_manual_seed_reproduces_draws(device):
    for draw in (
        lambda: mt.rand(5, 7, device=device),
        lambda: mt.randn(33, device=device),
        lambda: mt.randint(0, 100, (4, 4), device=device),
        lambda: mt.randperm(50, device=device),
    ):
        mt.manual_seed(123)
        a = draw().numpy()
        mt.manual_seed(123)
        b = draw().numpy()
        np.testing.assert_array_equal(a, b)


def test_draws_advance_and_differ(device):
    mt.manual_seed(7)
    a = mt.rand(1000, device=device).numpy()
    b = mt.rand(1000, device=device).numpy()
    assert not np.array_equal(a, b)
    mt.manual_seed(8)
    c = mt.rand(1000, device=device).numpy()
    assert not np.array_equal(a, c)


def test_offset_advances_by_numel_rounded_to_4():
    mt.manual_seed(3)
    assert mt.get_rng_state() == (3, 0)
    mt.rand(5)
    assert mt.get_rng_state() == (3, 8)
    mt.randn(2, 2)
    assert mt.get_rng_state() == (3, 12)
    mt.rand(0)  # an empty draw consumes nothing
    assert mt.get_rng_state() == (3, 12)
    mt.randperm(3)
    assert mt.get_rng_state() == (3, 16)


def test_consecutive_draws_do_not_overlap():
    # Element i of a draw uses counter offset + i: a draw of 8 equals two draws of 4 in a row.
    mt.manual_seed(11)
    whole = mt.rand(8).numpy()
    mt.manual_seed(11)
    halves = np.concatenate([mt.rand(4).numpy(), mt.rand(4).numpy()])
    np.testing.assert_array_equal(whole, halves)


def test_rng_state_round_trip(device):
    mt.manual_seed(42)
    mt.rand(10, device=device)
    state = mt.get_rng_state()
    a = mt.randn(100, device=device).numpy()
    mt.rand(77)
    mt.set_rng_state(state)
    assert mt.get_rng_state() == state
    np.testing.assert_array_equal(mt.randn(100, device=device).numpy(), a)


def test_manual_seed_accepts_large_and_negative_seeds():
    mt.manual_seed(2**64 - 1)
    assert mt.get_rng_state() == (2**64 - 1, 0)
    mt.manual_seed(-1)  # wrapped to 64 bits, as PyTorch does
    assert mt.get_rng_state() == (2**64 - 1, 0)


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_uniform_statistics(device, dtype):
    mt.manual_seed(0)
    u = mt.rand(1_000_000, dtype=dtype, device=device).numpy().astype(np.float64)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 3e-3  # std of the mean: 0.29 / 1000
    assert abs(u.std() - 1 / np.sqrt(12)) < 3e-3
    hist = np.histogram(u, bins=10, range=(0, 1))[0] / u.size
    np.testing.assert_allclose(hist, 0.1, atol=3e-3)


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_normal_statistics(device, dtype):
    mt.manual_seed(0)
    z = mt.randn(1_000_000, dtype=dtype, device=device).numpy().astype(np.float64)
    assert abs(z.mean()) < 5e-3
    assert abs(z.std() - 1.0) < 5e-3
    # Tails: P(|z| > 2) = 4.55%, P(|z| > 3) = 0.27%.
    assert abs((np.abs(z) > 2).mean() - 0.0455) < 2e-3
    assert abs((np.abs(z) > 3).mean() - 0.0027) < 5e-4
    assert abs(np.mean(z**3)) < 1e-2  # symmetric
    assert np.isfinite(z).all()


def test_randint_range_and_uniformity(device):
    mt.manual_seed(0)
    x = mt.randint(-3, 4, (200_000,), device=device)
    assert x.dtype is mt.int64
    a = x.numpy()
    assert a.min() == -3 and a.max() == 3
    freq = np.bincount(a + 3, minlength=7) / a.size
    np.testing.assert_allclose(freq, 1 / 7, atol=4e-3)


@pytest.mark.parametrize("dtype", [mt.int32, mt.uint8, mt.float32, mt.float64])
def test_randint_dtypes(device, dtype):
    x = mt.randint(2, 9, (1000,), dtype=dtype, device=device)
    assert x.dtype is dtype
    a = x.numpy()
    assert a.min() >= 2 and a.max() <= 8 and np.all(a == np.floor(a))


def test_randint_high_only():
    a = mt.randint(5, size=(1000,)).numpy()
    assert a.min() == 0 and a.max() == 4


@pytest.mark.parametrize("n", [0, 1, 2, 17, 10_000])
def test_randperm_is_a_permutation(device, n):
    p = mt.randperm(n, device=device)
    assert p.dtype is mt.int64 and p.shape == (n,)
    np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(n))


def test_randperm_is_shuffled():
    mt.manual_seed(0)
    perms = np.stack([mt.randperm(8).numpy() for _ in range(2000)])
    # Each value lands in each position with probability 1/8.
    for v in range(8):
        np.testing.assert_allclose((perms == v).mean(axis=0), 1 / 8, atol=0.03)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_keep_rate_and_scaling(device, p):
    x = mt.ones(1000, 1000, device=device)
    y = F.dropout(x, p).numpy()
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 3e-3
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)


def test_dropout_mask_follows_the_generator():
    # Element i is kept iff the i-th uniform float32 draw is >= p: rand shows the same numbers.
    mt.manual_seed(9)
    u = mt.rand(10_000).numpy()
    mt.manual_seed(9)
    y = F.dropout(mt.ones(10_000), 0.4).numpy()
    np.testing.assert_array_equal(y != 0, u >= np.float32(0.4))


def test_dropout_follows_logical_order_of_strided_input():
    base = mt.tensor(np.arange(1, 13, dtype=np.float32).reshape(4, 3))
    mt.manual_seed(2)
    y_t = F.dropout(base.transpose(0, 1), 0.5).numpy()
    mt.manual_seed(2)
    y_c = F.dropout(base.transpose(0, 1).contiguous(), 0.5).numpy()
    np.testing.assert_array_equal(y_t, y_c)


def test_dropout_gradient_is_mask_over_keep_probability(device):
    x = mt.randn(50, 40, device=device, requires_grad=True)
    y = F.dropout(x, 0.25)
    g = mt.randn(50, 40, device=device)
    (y * g).sum().backward()
    mask = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), g.numpy() * mask / 0.75, rtol=1e-6)


def test_dropout_edge_probabilities(device):
    x = mt.randn(6, 5, device=device, requires_grad=True)
    state = mt.get_rng_state()
    y0 = F.dropout(x, 0.0)
    np.testing.assert_array_equal(y0.detach().numpy(), x.detach().numpy())
    y1 = F.dropout(x, 1.0)
    assert (y1.detach().numpy() == 0).all()
    assert mt.get_rng_state() == state  # p = 0 and p = 1 draw nothing
    (y0.sum() + y1.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((6, 5)))


def test_dropout_eval_is_identity_and_inplace():
    x = mt.randn(4, 4)
    assert F.dropout(x, 0.5, training=False) is x
    before = x.numpy().copy()
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x
    a = x.numpy()
    np.testing.assert_allclose(a[a != 0], before[a != 0] * 2, rtol=1e-6)


def test_every_device_draws_the_cpu_numbers(device):
    # Counter-based: the numbers depend only on (seed, offset + i), never on the device.
    for dtype in (mt.float32, mt.float64):
        for draw in (mt.rand, mt.randn):
            mt.manual_seed(5)
            c = draw(1001, dtype=dtype).numpy()
            mt.manual_seed(5)
            d = draw(1001, dtype=dtype, device=device).numpy()
            np.testing.assert_allclose(d, c, rtol=1e-6, atol=1e-6)
    mt.manual_seed(5)
    c = mt.randint(-7, 1000, (999,)).numpy()
    mt.manual_seed(5)
    np.testing.assert_array_equal(mt.randint(-7, 1000, (999,), device=device).numpy(), c)
    mt.manual_seed(5)
    c = mt.randperm(100).numpy()
    mt.manual_seed(5)
    np.testing.assert_array_equal(mt.randperm(100, device=device).numpy(), c)
    mt.manual_seed(5)
    c = F.dropout(mt.ones(1001), 0.3).numpy()
    mt.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(mt.ones(1001, device=device), 0.3).numpy(), c)
