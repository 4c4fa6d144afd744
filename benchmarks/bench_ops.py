"""mytensor vs PyTorch, op by op, on one GPU in one process (issue: CUDA backend).

    python benchmarks/bench_ops.py [--device cuda] [--quick]

Prints time per call and the ratio mytensor/PyTorch (< 1 means mytensor is faster). The shapes are
the reference CNN's at batch 128 (examples/cifar10/config.py).
"""

from __future__ import annotations

import argparse
import os
import sys

import mytensor as mt
import numpy as np
import torch
from mytensor import _C

sys.path.insert(0, os.path.dirname(__file__))
from common import table, time_fn  # noqa: E402

CONV_LAYERS = [(3, 32, 32), (32, 32, 32), (32, 64, 16), (64, 64, 16), (64, 128, 8), (128, 128, 8)]
# ResNet-18 for CIFAR at batch 256 (issue #12): (cin, cout, input size, kernel, stride, padding).
# PyTorch runs them channels-last, its fastest layout (cuDNN's NHWC kernels, no transposes).
RESNET_CONVS = [
    (64, 64, 32, 3, 1, 1),
    (64, 128, 32, 3, 2, 1),
    (64, 128, 32, 1, 2, 0),
    (128, 128, 16, 3, 1, 1),
    (256, 256, 8, 3, 1, 1),
    (512, 512, 4, 3, 1, 1),
]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a CPU smoke run")
    p.add_argument("--only", help="run only the rows whose name contains this (e.g. resnet)")
    args = p.parse_args()
    dev = args.device
    on_gpu = dev.startswith("cuda")
    tdev = torch.device(dev)

    def msync():
        if on_gpu:
            mt.cuda.synchronize()

    def tsync():
        if on_gpu:
            torch.cuda.synchronize()

    rng = np.random.default_rng(0)

    def pair(*shape, dtype=np.float32):
        a = rng.standard_normal(shape).astype(dtype)
        return mt.tensor(a, device=dev), torch.tensor(a, device=tdev)

    rows = []

    def bench(name, mt_fn, torch_fn, flops=None, nbytes=None):
        if args.only and args.only not in name:
            return
        tm = time_fn(mt_fn, msync)
        tt = time_fn(torch_fn, tsync)
        extra = ""
        if flops:
            extra = f"{flops / tm / 1e12:.1f} / {flops / tt / 1e12:.1f} TFLOP/s"
        elif nbytes:
            extra = f"{nbytes / tm / 1e9:.0f} / {nbytes / tt / 1e9:.0f} GB/s"
        rows.append((name, f"{tm * 1e3:.3f}", f"{tt * 1e3:.3f}", f"{tm / tt:.2f}", extra))
        print(rows[-1], flush=True)

    n = 1024 if args.quick else 4096
    a, ta = pair(n, n)
    b, tb = pair(n, n)
    for tf32 in (False, True):
        mt.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        bench(
            f"matmul {n}^2 {'tf32' if tf32 else 'fp32'}",
            lambda: a @ b,
            lambda: ta @ tb,
            flops=2 * n**3,
        )
    mt.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

    numel = (1 << 22) if args.quick else (64 << 20)
    x, tx = pair(numel)
    y, ty = pair(numel)
    bench(
        f"add {numel >> 20}M floats",
        lambda: _C.add(x._impl, y._impl),
        lambda: tx + ty,
        nbytes=3 * 4 * numel,
    )

    batch = 8 if args.quick else 128
    mt.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    for cin, cout, hw in CONV_LAYERS:
        xi, txi = pair(batch, cin, hw, hw)
        w, tw = pair(cout, cin, 3, 3)
        go, tgo = pair(batch, cout, hw, hw)
        flops = 2 * batch * cout * hw * hw * cin * 9
        tag = f"conv {cin}->{cout} {hw}x{hw}"
        bench(
            f"{tag} fwd",
            lambda: _C.conv2d(xi._impl, w._impl, None, [1, 1], [1, 1], [1, 1], 1),
            lambda: torch.nn.functional.conv2d(txi, tw, padding=1),
            flops=flops,
        )
        bench(
            f"{tag} dgrad",
            lambda: _C.conv2d_backward_input(
                go._impl, w._impl, list(xi.shape), [1, 1], [1, 1], [1, 1], 1
            ),
            lambda: torch.nn.grad.conv2d_input(txi.shape, tw, tgo, padding=1),
            flops=flops,
        )
        bench(
            f"{tag} wgrad",
            lambda: _C.conv2d_backward_weight(
                go._impl, xi._impl, list(w.shape), [1, 1], [1, 1], [1, 1], 1
            ),
            lambda: torch.nn.grad.conv2d_weight(txi, tw.shape, tgo, padding=1),
            flops=flops,
        )

    rbatch = 8 if args.quick else 256
    cl = torch.channels_last
    for cin, cout, hw, k, st, pd in RESNET_CONVS:
        xi, txi = pair(rbatch, cin, hw, hw)
        w, tw = pair(cout, cin, k, k)
        ohw = (hw + 2 * pd - k) // st + 1
        go, tgo = pair(rbatch, cout, ohw, ohw)
        txi, tw, tgo = txi.to(memory_format=cl), tw.to(memory_format=cl), tgo.to(memory_format=cl)
        flops = 2 * rbatch * cout * ohw * ohw * cin * k * k
        tag = f"resnet conv {cin}->{cout} {hw}x{hw} k{k} s{st} b{rbatch}"
        sv, pv = [st, st], [pd, pd]
        bench(
            f"{tag} fwd",
            lambda: _C.conv2d(xi._impl, w._impl, None, sv, pv, [1, 1], 1),
            lambda: torch.nn.functional.conv2d(txi, tw, stride=st, padding=pd),
            flops=flops,
        )
        bench(
            f"{tag} dgrad",
            lambda: _C.conv2d_backward_input(go._impl, w._impl, list(xi.shape), sv, pv, [1, 1], 1),
            lambda: torch.nn.grad.conv2d_input(txi.shape, tw, tgo, stride=st, padding=pd),
            flops=flops,
        )
        bench(
            f"{tag} wgrad",
            lambda: _C.conv2d_backward_weight(go._impl, xi._impl, list(w.shape), sv, pv, [1, 1], 1),
            lambda: torch.nn.grad.conv2d_weight(txi, tw.shape, tgo, stride=st, padding=pd),
            flops=flops,
        )

    xb, txb = pair(batch, 64, 16, 16)
    gamma, tgamma = pair(64)
    beta, tbeta = pair(64)
    rm, trm = mt.zeros(64, device=dev), torch.zeros(64, device=tdev)
    rv, trv = mt.ones(64, device=dev), torch.ones(64, device=tdev)
    bench(
        "batch_norm fwd (128,64,16,16)",
        lambda: _C.batch_norm(
            xb._impl, gamma._impl, beta._impl, rm._impl, rv._impl, True, 0.1, 1e-5
        ),
        lambda: torch.nn.functional.batch_norm(txb, trm, trv, tgamma, tbeta, True, 0.1, 1e-5),
        nbytes=2 * xb.numel() * 4,
    )
    xp, txp = pair(batch, 32, 32, 32)
    bench(
        "max_pool2d (128,32,32,32)",
        lambda: _C.max_pool2d(xp._impl, [2, 2], [2, 2], [0, 0]),
        lambda: torch.nn.functional.max_pool2d(txp, 2),
        nbytes=xp.numel() * 4 * 5 // 4,
    )
    logits, tlogits = pair(batch, 10)
    tgt = rng.integers(0, 10, batch)
    mtgt, ttgt = mt.tensor(tgt, device=dev), torch.tensor(tgt, device=tdev)
    bench(
        "cross_entropy fwd (128,10)",
        lambda: _C.cross_entropy(logits._impl, mtgt._impl, "mean", -100, 0.0),
        lambda: torch.nn.functional.cross_entropy(tlogits, ttgt),
    )

    print()
    print(f"device: {torch.cuda.get_device_name() if on_gpu else 'cpu'}; torch {torch.__version__}")
    print(table(rows, ("op", "mytensor ms", "torch ms", "ratio", "throughput mt / torch")))


if __name__ == "__main__":
    main()
