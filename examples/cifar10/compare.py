#!/usr/bin/env python3
"""Run train_cifar10.py (mytensor) and train_cifar10_pytorch.py with the same flags, one after
the other, and print a side-by-side table: per-epoch train time and test accuracy, the totals,
and the time ratio mytensor / PyTorch.

    uv run examples/cifar10/compare.py --epochs 2 --subset 5000      # any flags of the scripts
    uv run examples/cifar10/compare.py --only-table a.json b.json     # table from two --log-json
    uv run examples/cifar10/compare.py --help                         # the flags it forwards

Each script's own output is shown as it runs; --save, --resume and --plot files get the
framework's name appended (ckpt.st -> ckpt-mytensor.st, ckpt-pytorch.st). By default the two runs
start from the same weights and see the same batches (config.initial_state / epoch_plan), so
their accuracies differ only by floating-point effects; --framework-rng (passed to both) lets each
framework draw its own, and the table's header says which mode the logs were made in.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import config  # noqa: E402  (the scripts' flags; imports neither framework)

SCRIPTS = [("mytensor", "train_cifar10.py"), ("pytorch", "train_cifar10_pytorch.py")]


PER_RUN_PATHS = ("--save", "--resume", "--plot")


def per_run(flags: list[str], name: str) -> list[str]:
    """Gives each run its own --save/--resume/--plot file: ckpt.st -> ckpt-mytensor.st."""
    out = list(flags)
    for i, flag in enumerate(out):
        key, eq, value = flag.partition("=")
        if key not in PER_RUN_PATHS:
            continue
        if not eq and i + 1 < len(out):
            key, value, i = flag, out[i + 1], i + 1
        root, ext = os.path.splitext(value)
        out[i] = (f"{key}=" if eq else "") + f"{root}-{name}{ext}"
    return out


def run(script: str, flags: list[str], log: str) -> None:
    cmd = [sys.executable, os.path.join(HERE, script), *flags, "--log-json", log]
    print(f"$ {' '.join(cmd)}", flush=True)
    result = subprocess.run(cmd)
    if result.returncode != 0:
        raise SystemExit(f"{script} failed with exit code {result.returncode}")


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def mode(mt_log: dict, pt_log: dict) -> str:
    """How the two runs drew their initial weights and batches, from the logged flags."""

    def one(log):
        args = log.get("args")
        if not args or "framework_rng" not in args:
            return "unknown RNG mode"
        if args["framework_rng"]:
            return f"each framework's own RNG, seed {args.get('seed')}"
        return f"shared init and data plan, seed {args.get('seed')}"

    a, b = one(mt_log), one(pt_log)
    return a if a == b else f"MISMATCHED: mytensor {a}, PyTorch {b}"


def table(mt_log: dict, pt_log: dict) -> str:
    """The side-by-side comparison of two --log-json files."""
    rows = [
        (
            "epoch",
            "mt train_s",
            "pt train_s",
            "ratio",
            "mt test_acc",
            "pt test_acc",
            "mt epoch_s",
            "pt epoch_s",
        )
    ]
    by_epoch = {r["epoch"]: r for r in pt_log["epochs"]}
    for m in mt_log["epochs"]:
        p = by_epoch.get(m["epoch"])
        if p is None:
            continue
        rows.append(
            (
                str(m["epoch"]),
                f"{m['train_time']:.2f}",
                f"{p['train_time']:.2f}",
                _ratio(m["train_time"], p["train_time"]),
                f"{m['test_acc']:.4f}",
                f"{p['test_acc']:.4f}",
                f"{m['epoch_time']:.2f}",
                f"{p['epoch_time']:.2f}",
            )
        )
    mt_train = sum(r["train_time"] for r in mt_log["epochs"])
    pt_train = sum(r["train_time"] for r in pt_log["epochs"])
    rows.append(
        (
            "total",
            f"{mt_train:.2f}",
            f"{pt_train:.2f}",
            _ratio(mt_train, pt_train),
            f"{mt_log['epochs'][-1]['test_acc']:.4f}",
            f"{pt_log['epochs'][-1]['test_acc']:.4f}",
            f"{mt_log['total_time']:.2f}",
            f"{pt_log['total_time']:.2f}",
        )
    )
    if len(mt_log["epochs"]) > 1 and len(pt_log["epochs"]) > 1:
        # Epoch 1 holds the warm-up (allocator, kernel caches); the rest is the steady state.
        mt_rest = sorted(r["train_time"] for r in mt_log["epochs"][1:])
        pt_rest = sorted(r["train_time"] for r in pt_log["epochs"][1:])
        mt_med, pt_med = mt_rest[len(mt_rest) // 2], pt_rest[len(pt_rest) // 2]
        rows.append(
            ("median 2..", f"{mt_med:.2f}", f"{pt_med:.2f}", _ratio(mt_med, pt_med), "", "", "", "")
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    header = (
        f"mytensor on {mt_log['device']} vs PyTorch on {pt_log['device']} "
        f"[{mode(mt_log, pt_log)}] "
        "(ratio = mytensor / PyTorch time; below 1 means mytensor is faster)"
    )
    return header + "\n" + "\n".join(lines)


def make_parser() -> argparse.ArgumentParser:
    """compare.py's own flag (--only-table) and the training flags it checks and forwards."""
    p = argparse.ArgumentParser(
        prog="compare.py", description=__doc__, formatter_class=config.HelpFormatter
    )
    p.add_argument(
        "--only-table",
        nargs=2,
        metavar=("MYTENSOR.json", "PYTORCH.json"),
        help="print the table of two existing --log-json files and train nothing",
    )
    forwarded = p.add_argument_group(
        "flags forwarded to both train_cifar10.py and train_cifar10_pytorch.py (compare.py sets "
        "--log-json itself)"
    )
    config.add_flags(forwarded, default_device=None, log_json=False)
    return p


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--log-json" in argv or any(a.startswith("--log-json=") for a in argv):
        raise SystemExit("compare.py sets --log-json itself; pass the other flags only")
    p = make_parser()
    args = p.parse_args(argv)  # --help prints and exits here; a typo fails before any run
    config.check_args(p, args)
    if args.only_table:
        if len(argv) != 3:
            p.error("--only-table takes its two log files and no other flag")
        with open(args.only_table[0]) as f, open(args.only_table[1]) as g:
            print(table(json.load(f), json.load(g)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        logs = {}
        for name, script in SCRIPTS:
            logs[name] = os.path.join(tmp, f"{name}.json")
            run(script, per_run(argv, name), logs[name])
        with open(logs["mytensor"]) as f, open(logs["pytorch"]) as g:
            print("\n" + table(json.load(f), json.load(g)))


if __name__ == "__main__":
    main()
