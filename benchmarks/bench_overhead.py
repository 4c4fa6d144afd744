"""Per-op Python overhead on CPU: small ops through mytensor, the bare ``_C`` calls they make, and
torch (issue #11, the Tensor/impl boundary).

    uv run --no-sync python benchmarks/bench_overhead.py [--reps 101] [--number 200]

The tensors are tiny (4x4 and smaller), so kernel time is negligible and what is left is the cost
of the Python layer: mytensor minus bare ``_C`` is the overhead of Tensor, Function.apply and the
functional wrappers. Each figure is the median over ``--reps`` batches of ``--number`` calls.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import mytensor as mt
import numpy as np
import torch
from mytensor import _C

sys.path.insert(0, os.path.dirname(__file__))
from common import provenance, table  # noqa: E402


def per_call(fn: Callable[[], object], number: int, reps: int) -> float:
    """Median seconds per call of fn over `reps` batches of `number` back-to-back calls."""
    for _ in range(number):  # warm-up: caches, lazy imports
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def cases():
    """(name, mytensor fn, bare _C fn, torch fn) for each small op."""
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((4, 4)).astype(np.float32)
    b_np = rng.standard_normal((4, 4)).astype(np.float32)
    a, b = mt.tensor(a_np), mt.tensor(b_np)
    ta, tb = torch.tensor(a_np), torch.tensor(b_np)
    ai, bi = a._impl, b._impl
    f32, cpu = _C.DType.float32, ai.device
    x = mt.tensor(a_np, requires_grad=True)
    tx = torch.tensor(a_np, requires_grad=True)
    xi = x._impl

    def bare_backward():
        # The native work of relu(x).sum().backward(): forward, a ones seed, relu's backward.
        y = _C.relu(xi)
        _C.sum(y, [], False)
        seed = _C.expand(_C.full([], 1.0, f32, cpu), [4, 4])
        _C.relu_backward(seed, y)

    def mt_backward():
        x.grad = None
        mt.relu(x).sum().backward()

    def torch_backward():
        tx.grad = None
        torch.relu(tx).sum().backward()

    return [
        ("a + b", lambda: a + b, lambda: _C.add(ai, bi), lambda: ta + tb),
        (
            "a * 2",
            lambda: a * 2,
            lambda: _C.mul(ai, _C.full([], 2.0, f32, cpu)),  # the scalar becomes a 0-d tensor
            lambda: ta * 2,
        ),
        ("a.sum()", lambda: a.sum(), lambda: _C.sum(ai, [], False), lambda: ta.sum()),
        ("a.relu()", lambda: a.relu(), lambda: _C.relu(ai), lambda: ta.relu()),
        ("a[1:]", lambda: a[1:], lambda: _C.slice(ai, 0, 1, None, 1), lambda: ta[1:]),
        ("a.view(-1)", lambda: a.view(-1), lambda: _C.view(ai, [-1]), lambda: ta.view(-1)),
        ("a @ b (4x4)", lambda: a @ b, lambda: _C.matmul(ai, bi), lambda: ta @ tb),
        ("relu(x).sum().backward()", mt_backward, bare_backward, torch_backward),
    ]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=101, help="batches per figure (median taken)")
    p.add_argument("--number", type=int, default=200, help="calls per batch")
    args = p.parse_args()
    print(provenance())
    print(f"CPU, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}; us per call")
    rows = []
    for name, mt_fn, bare_fn, torch_fn in cases():
        tm = per_call(mt_fn, args.number, args.reps)
        tb = per_call(bare_fn, args.number, args.reps)
        tt = per_call(torch_fn, args.number, args.reps)
        rows.append(
            (
                name,
                f"{tm * 1e6:.2f}",
                f"{tb * 1e6:.2f}",
                f"{(tm - tb) * 1e6:.2f}",
                f"{tt * 1e6:.2f}",
                f"{tm / tt:.2f}",
            )
        )
    headers = ("op", "mytensor", "bare _C", "overhead", "torch", "mt/torch")
    print(table(rows, headers))


if __name__ == "__main__":
    main()
