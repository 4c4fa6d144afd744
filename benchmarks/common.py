"""Timing helpers shared by the benchmarks: synchronise before reading clocks, warm up, median."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


def time_fn(
    fn: Callable[[], object],
    sync: Callable[[], None],
    warmup: int = 3,
    reps: int = 20,
    min_time: float = 0.2,
) -> float:
    """Median seconds per call of fn, synchronising the device around every timed call."""
    for _ in range(warmup):
        fn()
    sync()
    samples = []
    start_all = time.perf_counter()
    while len(samples) < reps or (
        time.perf_counter() - start_all < min_time and len(samples) < 1000
    ):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def table(rows: list[tuple], headers: tuple) -> str:
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def provenance() -> str:
    """One line naming what was measured: commit (git describe --dirty), card, driver, torch.

    ``MYTENSOR_COMMIT`` overrides the commit: a copy of the tree (the lent GPU machine's) may
    carry a stale ``.git``, so the caller names the commit it sent."""
    import platform
    import subprocess

    def run(cmd: list[str]) -> str:
        try:
            out = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=20,
                cwd=os.path.dirname(os.path.abspath(__file__)),
            )
            return out.stdout.strip() if out.returncode == 0 else ""
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = os.environ.get("MYTENSOR_COMMIT") or run(
        ["git", "describe", "--always", "--dirty", "--abbrev=10"]
    )
    commit = commit or "unknown commit"
    gpu = run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"])
    card = gpu.splitlines()[0] if gpu else f"no GPU ({platform.processor() or platform.machine()})"
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "absent"
    return (
        f"commit {commit}; card {card}; torch {torch_version}; python {platform.python_version()}"
    )
