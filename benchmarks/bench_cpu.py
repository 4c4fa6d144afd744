"""The foundation issue's CPU benchmark: one training step of the reference CNN (batch 128, Adam)
on the CPU, mytensor vs PyTorch on the same threads. A thin entry to bench_train_step.py:

    uv run python benchmarks/bench_cpu.py [--steps 5] [--threads 2]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from bench_train_step import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[1:1] = ["--device", "cpu"]
    main()
