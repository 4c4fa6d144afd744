"""CPU GEMM and conv2d throughput, mytensor against PyTorch (MKL / oneDNN) on the same threads.

Run: MYTENSOR_CUDA=OFF uv run python benchmarks/bench_gemm_cpu.py [--threads N] [--repeat R]
Each measurement alternates the two frameworks and keeps the best of R timings, so that other
load on the machine hurts both alike. Prints GFLOP/s and the ratio torch / mytensor time.
"""

from __future__ import annotations

import argparse
import time

import mytensor as mt
import mytensor.nn.functional as F
import numpy as np
import torch
import torch.nn.functional as TF


def best_time(fn, repeat: int) -> float:
    fn()  # warm-up: packing buffers, thread pool
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def compare(label: str, flops: float, mt_fn, torch_fn, repeat: int) -> None:
    # Alternate the two a few times; keep each one's best.
    t_mt = t_th = float("inf")
    for _ in range(3):
        t_mt = min(t_mt, best_time(mt_fn, repeat))
        t_th = min(t_th, best_time(torch_fn, repeat))
    print(
        f"{label:<44} mytensor {flops / t_mt / 1e9:7.1f} GFLOP/s   torch "
        f"{flops / t_th / 1e9:7.1f} GFLOP/s   mytensor/torch time {t_mt / t_th:5.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=mt._C.get_num_threads())
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    mt._C.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    print(f"threads: {args.threads}")
    rng = np.random.default_rng(0)

    for dtype, sizes in (("float32", (256, 512, 1024, 2048)), ("float64", (512, 1024))):
        for n in sizes:
            a = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal((n, n)).astype(dtype)
            ma, mb, ta, tb = mt.tensor(a), mt.tensor(b), torch.tensor(a), torch.tensor(b)
            compare(
                f"matmul {dtype} {n}x{n}x{n}",
                2.0 * n**3,
                lambda: ma @ mb,
                lambda: ta @ tb,
                args.repeat,
            )
        n = 1024
        a = rng.standard_normal((n, n)).astype(dtype)
        ma, ta = mt.tensor(a), torch.tensor(a)
        compare(
            f"matmul {dtype} {n} a.T @ a",
            2.0 * n**3,
            lambda: ma.mT @ ma,
            lambda: ta.mT @ ta,
            args.repeat,
        )

    # linear as in an MLP step, and the reference CNN's convolutions at CIFAR-10 sizes.
    x = rng.standard_normal((128, 1024)).astype("float32")
    w = rng.standard_normal((512, 1024)).astype("float32")
    bias = rng.standard_normal(512).astype("float32")
    mx, mw, mbias = mt.tensor(x), mt.tensor(w), mt.tensor(bias)
    tx, tw, tbias = torch.tensor(x), torch.tensor(w), torch.tensor(bias)
    compare(
        "linear 128x1024 -> 512",
        2.0 * 128 * 1024 * 512,
        lambda: F.linear(mx, mw, mbias),
        lambda: TF.linear(tx, tw, tbias),
        args.repeat,
    )

    for n, c, o, hw in ((64, 3, 32, 32), (64, 32, 64, 16), (64, 64, 128, 8)):
        x = rng.standard_normal((n, c, hw, hw)).astype("float32")
        w = rng.standard_normal((o, c, 3, 3)).astype("float32")
        flops = 2.0 * n * o * hw * hw * c * 9
        mx, mw = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
        tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        label = f"conv2d 3x3 pad 1 ({n},{c},{hw},{hw})->{o}"
        compare(
            label + " fwd",
            flops,
            lambda: F.conv2d(mx, mw, padding=1),
            lambda: TF.conv2d(tx, tw, padding=1),
            args.repeat,
        )

        def mt_step():
            mx.grad = mw.grad = None
            F.conv2d(mx, mw, padding=1).sum().backward()

        def torch_step():
            tx.grad = tw.grad = None
            TF.conv2d(tx, tw, padding=1).sum().backward()

        compare(label + " fwd+bwd", 3 * flops, mt_step, torch_step, args.repeat)


if __name__ == "__main__":
    main()
