"""Where a training step of the reference CNN spends GPU time: every kernel of a few steady-state
steps, collected with the PyTorch profiler (CUPTI sees mytensor's kernels as well as PyTorch's).

    python benchmarks/profile_step.py [--framework mytensor|torch|both] [--steps 20]

Prints, per framework, the kernels grouped by name with their time per step, and the sum: the
time a step would take if launches cost nothing (the floor a CUDA graph can reach).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(__file__))
from bench_train_step import build_pair  # noqa: E402


def kernel_table(step, sync, steps: int, title: str) -> None:
    for _ in range(5):
        step()
    sync()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        sync()
    per_name: dict = defaultdict(lambda: [0.0, 0])
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            per_name[e.name][0] += e.device_time
            per_name[e.name][1] += 1
    total = sum(v[0] for v in per_name.values()) / steps
    launches = sum(v[1] for v in per_name.values()) / steps
    print(f"\n== {title}: {total:.0f} us of GPU work per step in {launches:.0f} kernels/copies")
    for name, (us, n) in sorted(per_name.items(), key=lambda kv: -kv[1][0])[:25]:
        print(f"{us / steps:9.1f} us  {n / steps:5.1f}x  {name[:110]}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--framework", default="both", choices=["mytensor", "torch", "both"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    args = p.parse_args()
    import mytensor as mt

    mt_step, torch_step = build_pair("cuda", args.batch_size)
    if args.framework in ("mytensor", "both"):
        kernel_table(mt_step, lambda: mt.cuda.synchronize(), args.steps, "mytensor")
        kernel_table(
            mt.cuda.make_graphed_step(mt_step),
            lambda: mt.cuda.synchronize(),
            args.steps,
            "mytensor, CUDA graph",
        )
    if args.framework in ("torch", "both"):
        kernel_table(torch_step, torch.cuda.synchronize, args.steps, "pytorch")


if __name__ == "__main__":
    main()
