"""A long autograd chain, mytensor against PyTorch (issue #10: a 200,000-op chain took 19 s
against PyTorch's 4.7 s). Forward and backward of y = y * c repeated N times on a tiny tensor,
with Python's cyclic GC on (as users run) and off (what the graph costs without it):

    uv run python benchmarks/bench_autograd_chain.py [--ops 200000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import mytensor as mt
import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import provenance, table  # noqa: E402


def chain(lib, n: int) -> tuple[float, float]:
    """(forward seconds, backward seconds) of an n-op multiply chain."""
    x = lib.ones(4, requires_grad=True)
    t0 = time.perf_counter()
    y = x
    for _ in range(n):
        y = y * 1.0000001
    t1 = time.perf_counter()
    y.sum().backward()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=200_000)
    a = p.parse_args()
    print(provenance())
    rows = []
    for gc_on in (True, False):
        for name, lib in (("mytensor", mt), ("torch", torch)):
            (gc.enable if gc_on else gc.disable)()
            fwd, bwd = chain(lib, a.ops)
            gc.enable()
            us = 1e6 / a.ops
            rows.append(
                [
                    name,
                    "on" if gc_on else "off",
                    f"{fwd:.2f}",
                    f"{bwd:.2f}",
                    f"{fwd * us:.1f}",
                    f"{bwd * us:.1f}",
                ]
            )
    headers = ("library", "gc", "forward s", "backward s", "us/op fwd", "us/op bwd")
    print(table(rows, headers))


if __name__ == "__main__":
    main()
