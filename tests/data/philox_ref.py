"""A NumPy reference of Philox4x32-10 (src/core/philox.h) and of the fused augmentation, to check
the augment_images kernel bit for bit."""

from __future__ import annotations

import numpy as np

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
MASK = np.uint64(0xFFFFFFFF)


def philox(seed: int, counters: np.ndarray) -> tuple[np.ndarray, ...]:
    """The four 32-bit words of each counter (vectorised over `counters`, uint64)."""
    counters = counters.astype(np.uint64)
    c0 = (counters & MASK).astype(np.uint32)
    c1 = (counters >> np.uint64(32)).astype(np.uint32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0 = np.full_like(c0, seed & 0xFFFFFFFF)
    k1 = np.full_like(c0, (seed >> 32) & 0xFFFFFFFF)
    for _ in range(10):
        p0 = M0 * c0.astype(np.uint64)
        p1 = M1 * c2.astype(np.uint64)
        hi0, lo0 = (p0 >> np.uint64(32)).astype(np.uint32), (p0 & MASK).astype(np.uint32)
        hi1, lo1 = (p1 >> np.uint64(32)).astype(np.uint32), (p1 & MASK).astype(np.uint32)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = k0 + W0
        k1 = k1 + W1
    return c0, c1, c2, c3


def augment_reference(
    images, labels, indices, mean, std, padding, flip, seed, offset, dtype, params=None
):
    """What augment_images computes, written plainly: pad, crop, flip, normalise. With `params`
    ((B, 3): dy, dx, flip per sample) the crops and flips are those instead of Philox draws."""
    span = 2 * padding + 1
    if params is None:
        x, y, z, _ = philox(seed, np.uint64(offset) + np.arange(len(indices), dtype=np.uint64))
        params = np.stack([x % span, y % span, z & 1], axis=1).astype(np.int64)
    n, c, h, w = images.shape
    out = np.empty((len(indices), c, h, w), dtype)
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    for b, i in enumerate(indices):
        dy, dx, mirror = (int(v) for v in params[b])
        crop = padded[i, :, dy : dy + h, dx : dx + w]
        if flip and mirror:
            crop = crop[:, :, ::-1]
        v = crop.astype(dtype) / dtype(255)
        out[b] = (v - mean.astype(dtype)[:, None, None]) / std.astype(dtype)[:, None, None]
    return out, labels[indices]
