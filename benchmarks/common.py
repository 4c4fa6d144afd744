"""Timing helpers shared by the benchmarks: synchronise before reading clocks, warm up, median."""

from __future__ import annotations

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
