"""TF32 GEMM on the GPU (issue #12): mytensor's Hopper wgmma path and its mma.sync path against
torch.matmul (cuBLAS, allow_tf32=True), measured in one run, plus the ResNet-18 convolution
shapes as GEMMs (O x C*9 @ C*9 x N*H*W) and the NN/NT/TN layouts at 4096^2.

    python3 benchmarks/bench_gemm.py            # parent: torch; children: one per mytensor path

MYTENSOR_GEMM is read once per process, so each mytensor path runs in a child process of this
script (--path). Times are medians over batches of back-to-back products: mytensor's work runs
on its own stream, so a batch is bracketed by device synchronisations (per-launch overhead is
negligible at these sizes); torch is timed the same way and also with CUDA events."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# (name, m, k, n, layout): layout "nn" = A row-major, B row-major (x @ w); "nt" = B given
# transposed (x @ w.T, as linear); "tn" = A given transposed.
SHAPES = [
    ("4096^2", 4096, 4096, 4096, "nn"),
    ("4096^2 nt", 4096, 4096, 4096, "nt"),
    ("4096^2 tn", 4096, 4096, 4096, "tn"),
    ("8192^2", 8192, 8192, 8192, "nn"),
    ("8192^2 nt", 8192, 8192, 8192, "nt"),
    ("2048^2", 2048, 2048, 2048, "nn"),
    # ResNet-18 (CIFAR, batch 256) convolutions as GEMMs: O x (C*9) @ (C*9) x (N*H*W)
    ("r18 64x576x262144", 64, 576, 256 * 32 * 32, "nn"),
    ("r18 128x1152x65536", 128, 1152, 256 * 16 * 16, "nn"),
    ("r18 256x2304x16384", 256, 2304, 256 * 8 * 8, "nn"),
    ("r18 512x4608x4096", 512, 4608, 256 * 4 * 4, "nn"),
]
REPS, BATCHES = 10, 7


def _inputs(m, k, n, layout, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if layout[0] == "t" else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if layout[1] == "t" else (k, n)).astype(np.float32)
    return a, b


def _median_time(fn, sync) -> float:
    for _ in range(3):
        fn()
    sync()
    samples = []
    for _ in range(BATCHES):
        sync()
        t0 = time.perf_counter()
        for _ in range(REPS):
            fn()
        sync()
        samples.append((time.perf_counter() - t0) / REPS)
    return statistics.median(samples)


def run_mytensor(path: str) -> dict:
    import mytensor as mt

    mt.backends.cuda.matmul.allow_tf32 = True
    out = {}
    for name, m, k, n, layout in SHAPES:
        a_np, b_np = _inputs(m, k, n, layout, 0)
        a = mt.tensor(a_np, device="cuda")
        b = mt.tensor(b_np, device="cuda")
        a = a.T if layout[0] == "t" else a
        b = b.T if layout[1] == "t" else b
        c = a @ b
        # A spot check of the timed product against torch (float64 on the GPU) on a corner.
        out[name] = {"s": _median_time(lambda: a @ b, mt.cuda.synchronize)}
        out[name]["corner"] = c[:64, :64].cpu().numpy().tolist()
    return out


def run_torch() -> dict:
    import torch

    torch.backends.cuda.matmul.allow_tf32 = True
    out = {}
    for name, m, k, n, layout in SHAPES:
        a_np, b_np = _inputs(m, k, n, layout, 0)
        a = torch.tensor(a_np, device="cuda")
        b = torch.tensor(b_np, device="cuda")
        a = a.T if layout[0] == "t" else a
        b = b.T if layout[1] == "t" else b
        s = _median_time(lambda: a @ b, torch.cuda.synchronize)
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        ev = []
        for _ in range(BATCHES):
            start.record()
            for _ in range(REPS):
                a @ b
            stop.record()
            stop.synchronize()
            ev.append(start.elapsed_time(stop) / 1e3 / REPS)
        ref = (a[:64].double() @ b[:, :64].double()).cpu().numpy()
        out[name] = {"s": s, "s_events": statistics.median(ev), "corner_ref": ref.tolist()}
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--path", help="child mode: time mytensor with MYTENSOR_GEMM=PATH, print JSON")
    p.add_argument("--paths", default="sm90,mma", help="mytensor paths to compare")
    args = p.parse_args()
    if args.path:
        print(json.dumps(run_mytensor(args.path)))
        return

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import provenance

    print(provenance(), flush=True)
    results = {}
    for path in args.paths.split(","):
        env = dict(os.environ, MYTENSOR_GEMM=path)
        proc = subprocess.run(
            [sys.executable, __file__, "--path", path], env=env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            print(f"mytensor path {path} failed:\n{proc.stderr[-3000:]}", flush=True)
            continue
        results[path] = json.loads(proc.stdout.strip().splitlines()[-1])
    ref = run_torch()

    headers = (
        ["shape", "torch TF/s"]
        + [f"{p} TF/s" for p in results]
        + [f"{p}/torch" for p in results]
        + ["max rel err (corner)"]
    )
    rows = []
    for name, m, k, n, _ in SHAPES:
        flops = 2.0 * m * n * k
        t = ref[name]["s_events"]
        row = [name, f"{flops / t / 1e12:.0f}"]
        row += [f"{flops / results[p][name]['s'] / 1e12:.0f}" for p in results]
        row += [f"{t / results[p][name]['s']:.2f}" for p in results]
        r = np.array(ref[name]["corner_ref"])
        errs = [
            float(np.linalg.norm(np.array(results[p][name]["corner"]) - r) / np.linalg.norm(r))
            for p in results
        ]
        row.append(" ".join(f"{e:.1e}" for e in errs))
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
