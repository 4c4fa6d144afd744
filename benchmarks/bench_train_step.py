"""One training step of the reference CNN (batch 128, Adam 1e-3): mytensor vs PyTorch, same
device, same process. Used for the CPU target of the foundation issue (<= 2x PyTorch CPU):

    uv run python benchmarks/bench_train_step.py --device cpu [--steps 5] [--threads 2]

The network is built by one function from either framework's `nn` namespace, so the two models
are the same by construction; the PyTorch weights are copied into mytensor's.
"""

from __future__ import annotations

import argparse
import os
import sys

import mytensor as mt
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import table, time_fn  # noqa: E402


def reference_cnn(nn):
    """Six conv-bn-relu blocks (32, 32, pool, 64, 64, pool, 128, 128, pool), then 2048-256-10."""
    layers, cin = [], 3
    for cout, pool in [(32, False), (32, True), (64, False), (64, True), (128, False), (128, True)]:
        layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
        cin = cout
    layers += [nn.Flatten(), nn.Linear(2048, 256), nn.ReLU(), nn.Linear(256, 10)]
    return nn.Sequential(*layers)


def build_pair(dev: str, batch_size: int):
    """(mytensor step, PyTorch step): the same network with the same weights, Adam 1e-3, one
    fixed random batch."""
    torch.manual_seed(0)
    tmodel = reference_cnn(torch.nn).to(dev)
    mmodel = reference_cnn(mt.nn)
    mmodel.load_state_dict({k: v.detach().cpu().numpy() for k, v in tmodel.state_dict().items()})
    mmodel.to(dev)
    topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
    mopt = mt.optim.Adam(mmodel.parameters(), lr=1e-3)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch_size, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch_size)
    tx, ty = torch.tensor(x, device=dev), torch.tensor(y, device=dev)
    mx, my = mt.tensor(x, device=dev), mt.tensor(y, device=dev)

    def torch_step():
        topt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(tmodel(tx), ty).backward()
        topt.step()

    def mt_step():
        mopt.zero_grad(set_to_none=True)
        mt.nn.functional.cross_entropy(mmodel(mx), my).backward()
        mopt.step()

    return mt_step, torch_step


def graphed(step):
    """`step` captured into one CUDA graph (mt.cuda.make_graphed_step)."""
    return mt.cuda.make_graphed_step(step)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    mt._C.set_num_threads(args.threads)
    dev = args.device
    on_gpu = dev.startswith("cuda")
    mt_step, torch_step = build_pair(dev, args.batch_size)

    tsync = torch.cuda.synchronize if on_gpu else (lambda: None)
    msync = mt.cuda.synchronize if on_gpu else (lambda: None)
    tt = time_fn(torch_step, tsync, warmup=2, reps=args.steps, min_time=0)
    tm = time_fn(mt_step, msync, warmup=2, reps=args.steps, min_time=0)
    rows = [("train step (eager)", f"{tm * 1e3:.2f}", f"{tt * 1e3:.2f}", f"{tm / tt:.2f}")]
    if on_gpu:
        tg = time_fn(graphed(mt_step), msync, warmup=5, reps=args.steps, min_time=0)
        rows.append(
            (
                "train step (mytensor graphed)",
                f"{tg * 1e3:.2f}",
                f"{tt * 1e3:.2f}",
                f"{tg / tt:.2f}",
            )
        )
    print(table(rows, ("what", "mytensor ms", "torch eager ms", "ratio mt/torch")))
    print(
        f"device {dev}, batch {args.batch_size}, threads {args.threads}, torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
