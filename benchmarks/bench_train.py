"""CIFAR-10 training speed: mytensor (CUDA graph and eager) against its PyTorch twin (eager and
torch.compile), in one process on one GPU, on the same data, initial weights and seed.

    python benchmarks/bench_train.py --data-dir DIR [--epochs 10]
        [--runs graphed,eager,torch,compile]

Each run is the example script's own `main` (examples/cifar10/), so what is timed is exactly what
a user runs. Prints per run: the median training epoch over epochs 2..N, the first epoch (warm-up,
graph capture or compilation included), peak device memory, the final test accuracy, and each
time as a ratio to PyTorch eager's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "cifar10"))
sys.path.insert(0, HERE)

from common import table  # noqa: E402


def run_mytensor(flags: list[str], graphs: bool) -> tuple[list[dict], float]:
    import mytensor as mt
    import train_cifar10

    mt.cuda.synchronize()
    mt.cuda.reset_peak_memory_stats()
    base = mt.cuda.memory_allocated()
    history = train_cifar10.main(flags + ([] if graphs else ["--no-graphs"]))
    return history, (mt.cuda.max_memory_allocated() - base) / 2**20


def run_torch(flags: list[str], compile_model: bool) -> tuple[list[dict], float]:
    import torch
    import train_cifar10_pytorch as twin

    make_model = twin.make_model
    if compile_model:
        twin.make_model = lambda args, device: torch.compile(make_model(args, device))
    try:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        history = twin.main(flags)
    finally:
        twin.make_model = make_model
    return history, (torch.cuda.max_memory_allocated() - base) / 2**20


RUNS = {
    "graphed": ("mytensor (CUDA graph)", lambda f: run_mytensor(f, True)),
    "eager": ("mytensor (eager)", lambda f: run_mytensor(f, False)),
    "torch": ("PyTorch eager", lambda f: run_torch(f, False)),
    "compile": ("PyTorch torch.compile", lambda f: run_torch(f, True)),
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", default="graphed,eager,torch,compile")
    p.add_argument("--extra", default="", help="more flags for both scripts, e.g. '--subset 5000'")
    args = p.parse_args()
    flags = [
        "--data-dir",
        args.data_dir,
        "--epochs",
        str(args.epochs),
        "--seed",
        str(args.seed),
        "--device",
        "cuda",
        *args.extra.split(),
    ]
    results = {}
    for key in args.runs.split(","):
        name, run = RUNS[key]
        print(f"\n== {name}", flush=True)
        try:
            history, peak = run(flags)
        except Exception as e:  # e.g. torch.compile without a working compiler
            print(f"{name} failed: {type(e).__name__}: {e}", flush=True)
            continue
        times = [r["train_time"] for r in history]
        median = statistics.median(times[1:]) if len(times) > 1 else times[0]
        results[key] = (name, median, times[0], peak, history[-1]["test_acc"])
    ref = results.get("torch", (None, None))[1]
    rows = []
    for name, median, first, peak, acc in results.values():
        ratio = f"{median / ref:.2f}" if ref else "-"
        rows.append(
            (name, f"{median:.3f}", ratio, f"{first:.2f}", f"{peak:.0f}", f"{100 * acc:.2f}")
        )
    print()
    print(
        table(
            rows,
            (
                "run",
                "median epoch s (2..N)",
                "x PyTorch eager",
                "first epoch s",
                "peak MiB",
                "test acc %",
            ),
        )
    )
    import mytensor as mt
    import torch

    print(
        f"{torch.cuda.get_device_name()}, torch {torch.__version__}, mytensor {mt.__version__}, "
        f"{args.epochs} epochs, seed {args.seed}, batch 128, Adam 1e-3, augmentation on"
    )


if __name__ == "__main__":
    main()
