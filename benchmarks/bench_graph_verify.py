"""Replay time of the graphed reference-CNN step captured with verify=False and verify=True, side
by side in one process (issue #11: verify must leave nothing behind that slows later replays):

    python benchmarks/bench_graph_verify.py [--batch-size 128] [--reps 200]

Prints, for each mode, the graph's node and kernel counts, the median wall time of a replayed
step and the GPU time of its kernels (PyTorch's profiler, which sees mytensor's kernels too).
"""

from __future__ import annotations

import argparse
import os
import sys

import mytensor as mt
import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(__file__))
from bench_train_step import build_pair  # noqa: E402
from common import provenance, table, time_fn  # noqa: E402


def gpu_us_per_step(step, steps: int = 20) -> tuple[float, float]:
    """(GPU microseconds of kernels and copies per call, launches per call)."""
    step()
    mt.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        mt.cuda.synchronize()
    events = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    return sum(e.device_time for e in events) / steps, len(events) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--reps", type=int, default=200)
    args = p.parse_args()
    rows = []
    for verify in (False, True, False):
        mt_step, _ = build_pair("cuda", args.batch_size)
        step = mt.cuda.make_graphed_step(mt_step, warmup=3, verify=verify)
        for _ in range(5):
            step()
        ms = time_fn(step, mt.cuda.synchronize, warmup=5, reps=args.reps) * 1e3
        gpu_us, launches = gpu_us_per_step(step)
        g = step.graph
        rows.append(
            (
                f"verify={verify}",
                g.num_nodes,
                g.num_kernels,
                f"{ms:.3f}",
                f"{gpu_us / 1e3:.3f}",
                f"{launches:.0f}",
            )
        )
        del step, mt_step
    print(
        table(
            rows,
            (
                "capture",
                "graph nodes",
                "kernels",
                "replay ms (wall)",
                "GPU ms / step",
                "GPU events / step",
            ),
        )
    )
    print(provenance())


if __name__ == "__main__":
    main()
