"""Memory stays flat: 1,000 training steps of a small model keep the allocator's live bytes
constant after warm-up, and a planted leak (losses kept with their graphs) shows up in the same
figure. CPU through mt._C.cpu_memory_allocated(), CUDA through mt.cuda.memory_allocated()."""

from __future__ import annotations

import gc

import mytensor as mt
import pytest

STEPS = 1000
WARMUP = 100
SLACK = 4096  # bytes; the steady state should be exact, this only absorbs allocator rounding


def _live_bytes(device: str) -> int:
    return mt.cuda.memory_allocated() if device == "cuda" else mt._C.cpu_memory_allocated()


def _train(device: str, steps: int, keep_losses: bool = False) -> list[int]:
    """Runs `steps` Adam steps of Linear-ReLU-Linear on a fixed 64x32 batch; returns the live bytes
    after every step. With keep_losses, each loss (and so its whole graph) is kept in a list."""
    mt.manual_seed(0)
    model = mt.nn.Sequential(mt.nn.Linear(32, 64), mt.nn.ReLU(), mt.nn.Linear(64, 10)).to(device)
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    x = mt.randn(64, 32, device=device)
    y = mt.randint(0, 10, (64,), device=device)
    kept = []
    live = []
    for _ in range(steps):
        opt.zero_grad()
        loss = mt.nn.functional.cross_entropy(model(x), y)
        loss.backward(retain_graph=keep_losses)
        opt.step()
        if keep_losses:
            kept.append(loss)
        del loss
        live.append(_live_bytes(device))
    return live


@pytest.mark.slow
def test_training_memory_is_flat(device):
    gc.collect()
    before = _live_bytes(device)
    live = _train(device, STEPS)
    steady = live[WARMUP - 1]
    assert steady > before, "the model, optimizer state and data should be counted"
    worst = max(live[WARMUP - 1 :])
    assert worst - steady <= SLACK, (
        f"live bytes grew from {steady} at step {WARMUP} to {worst} by step {STEPS}"
    )
    assert live[-1] - steady <= SLACK
    gc.collect()
    assert _live_bytes(device) - before <= SLACK, "everything is freed once the model is gone"


def test_planted_leak_is_visible(device):
    """Keeping each loss with its graph keeps the activations and saved tensors of every step:
    the same figure must grow steadily, by at least one 64x64 float32 activation per step."""
    gc.collect()
    steps = 200
    live = _train(device, steps, keep_losses=True)
    per_step = (live[-1] - live[WARMUP - 1]) / (steps - WARMUP)
    assert per_step >= 64 * 64 * 4, f"leak of {per_step:.0f} bytes/step not seen: {live[::20]}"
    # steady growth, not one jump: every 20-step window grows
    windows = live[WARMUP - 1 :: 20]
    assert all(b > a for a, b in zip(windows, windows[1:])), windows
    gc.collect()
