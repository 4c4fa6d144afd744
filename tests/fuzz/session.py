"""A fuzz run: generate cases (hypothesis), run them isolated (runner), triage the outcomes
(triage), print a summary and write a report."""

from __future__ import annotations

import collections
import json
import math
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from tests.fuzz import cases as fuzz_cases
from tests.fuzz import execute, triage
from tests.fuzz.runner import Runner

FAILING = ("crash", "hang", "differ", "silent", "mt_raises", "bad_error")


def generate(n: int, seed: int = 0, device: str = "cpu", ops=None) -> list[dict]:
    """`n` cases drawn by hypothesis from a fixed seed (the same seed gives the same cases).
    Every sub-op of every generator gets its share (cases.plan), then the cases are shuffled
    with the seed so that any prefix of a budget covers the whole surface."""
    out: list[dict] = []
    for op, name, count in fuzz_cases.plan(n):
        if ops is not None and op.group not in ops:
            continue
        found: list[dict] = []

        @hypothesis_seed(seed * 7919 + len(out))
        @settings(
            max_examples=count,
            database=None,
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(op.strategy(name))
        def collect(case):
            found.append(case)  # noqa: B023  (run at once, inside this iteration)

        collect()
        out.extend(found[:count])
    random.Random(seed).shuffle(out)
    for c in out:
        c["device"] = device
    return out[:n] if ops is None else out


def run(
    n: int,
    seed: int = 0,
    device: str = "cpu",
    timeout: float = 20.0,
    jobs: int = 1,
    batch: int = 50,
    ops=None,
) -> dict:
    t0 = time.monotonic()
    cases = generate(n, seed, device, ops)
    t_gen = time.monotonic() - t0
    chunks = [cases[i : i + batch] for i in range(0, len(cases), batch)]
    runner_args = dict(device=device, timeout=timeout, batch=batch)

    def work(chunk):
        return Runner(**runner_args).run(chunk)

    if jobs > 1:
        with ThreadPoolExecutor(jobs) as pool:
            outcomes = [o for part in pool.map(work, chunks) for o in part]
    else:
        outcomes = [o for chunk in chunks for o in work(chunk)]
    records = []
    for case, outcome in zip(cases, outcomes):
        category, reason = triage.classify(case, outcome)
        records.append({"case": case, "outcome": outcome, "category": category, "reason": reason})
    return {
        "records": records,
        "seed": seed,
        "device": device,
        "n": len(cases),
        "seconds": time.monotonic() - t0,
        "generate_seconds": t_gen,
    }


# ---- summaries and reports ----------------------------------------------------------------------
def counts(result: dict) -> dict:
    c = collections.Counter()
    for r in result["records"]:
        kind = r["outcome"]["kind"]
        c["tried"] += 1
        c[kind] += 1
        if r["category"] != "fail" and kind in FAILING:
            c[r["category"]] += 1
        if r["category"] == "fail":
            c["unexplained"] += 1
    return c


def summary_table(result: dict) -> str:
    c = counts(result)
    rows = [
        ("cases tried", c["tried"]),
        ("both ok and equal", c["ok"]),
        ("clean errors (both raise)", c["both_raise"]),
        ("crashes", c["crash"]),
        ("PyTorch crashed (mytensor ran alone, no crash)", c["torch_crash"]),
        ("hangs", c["hang"]),
        ("values differ", c["differ"]),
        ("silent (torch raises, mytensor returns)", c["silent"]),
        ("mytensor raises, torch returns", c["mt_raises"]),
        ("unclear error (bad type or message)", c["bad_error"]),
        ("  of those: allowed (deliberate)", c["allowed"]),
        ("  of those: known, being fixed (issue #10)", c["known"]),
        ("  of those: new, reported (triage.NEW)", c["new"]),
        ("UNEXPLAINED (failures)", c["unexplained"]),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"fuzz: seed {result['seed']}, device {result['device']}, {result['seconds']:.1f} s"]
    lines += [f"  {k:<{width}}  {v:>6}" for k, v in rows]
    return "\n".join(lines)


def failures(result: dict) -> list[dict]:
    return [r for r in result["records"] if r["category"] == "fail"]


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return {
            "__array__": [_jsonable(x) for x in v.reshape(-1).tolist()],
            "dtype": v.dtype.name,
            "shape": list(v.shape),
        }
    if isinstance(v, float) and not math.isfinite(v):
        return {"__float__": repr(v)}
    if isinstance(v, slice):
        return {"__slice__": [v.start, v.stop, v.step]}
    if v is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return (
            {"__tuple__": [_jsonable(x) for x in v]}
            if isinstance(v, tuple)
            else [_jsonable(x) for x in v]
        )
    if isinstance(v, (np.integer, np.floating, np.bool_)):
        return v.item()
    return v


def _unjson(v):
    if isinstance(v, dict):
        if "__array__" in v:
            return np.array([_unjson(x) for x in v["__array__"]], dtype=v["dtype"]).reshape(
                v["shape"]
            )
        if "__float__" in v:
            return float(v["__float__"])
        if "__slice__" in v:
            return slice(*v["__slice__"])
        if "__ellipsis__" in v:
            return Ellipsis
        if "__tuple__" in v:
            return tuple(_unjson(x) for x in v["__tuple__"])
        return {k: _unjson(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_unjson(x) for x in v]
    return v


def load_case(path: str, index: int) -> dict:
    with open(path) as f:
        return _unjson(json.load(f)["findings"][index]["case"])


def write_report(result: dict, folder: str) -> tuple[str, str]:
    """fuzz_report.json (every non-ok finding, replayable) and fuzz_report.md (grouped)."""
    os.makedirs(folder, exist_ok=True)
    findings = [r for r in result["records"] if r["outcome"]["kind"] in FAILING]
    js = os.path.join(folder, "fuzz_report.json")
    with open(js, "w") as f:
        json.dump(
            {
                "seed": result["seed"],
                "device": result["device"],
                "n": result["n"],
                "counts": dict(counts(result)),
                "findings": [
                    {
                        "category": r["category"],
                        "reason": r["reason"],
                        "outcome": _jsonable(r["outcome"]),
                        "repro": execute.repro(r["case"]),
                        "case": _jsonable(r["case"]),
                    }
                    for r in findings
                ],
            },
            f,
            indent=1,
        )
    md = os.path.join(folder, "fuzz_report.md")
    groups = collections.defaultdict(list)
    for i, r in enumerate(findings):
        groups[(r["category"], r["outcome"]["kind"], r["case"]["op"])].append((i, r))
    lines = [
        "# Fuzz report",
        "",
        "```",
        summary_table(result),
        "```",
        "",
        f"Replay a finding: `python -m tests.fuzz --replay {js} INDEX`",
        "",
    ]
    order = {"fail": 0, "new": 1, "known": 2, "allowed": 3}
    for (cat, kind, op), items in sorted(
        groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1], kv[0][2])
    ):
        lines.append(f"## {cat}: {kind} in {op} ({len(items)})")
        if items[0][1]["reason"]:
            lines.append(f"_{items[0][1]['reason']}_")
        lines.append("")
        for i, r in sorted(items, key=lambda ir: len(execute.repro(ir[1]["case"])))[:5]:
            o = r["outcome"]
            what = o.get("detail") or ""
            lines.append(
                f"- #{i} mytensor: `{o.get('mt', '')}`; torch: `{o.get('torch', '')}`"
                + (f"; {what}" if what else "")
            )
            lines.append(f"  `{execute.repro(r['case'])}`")
        lines.append("")
    with open(md, "w") as f:
        f.write("\n".join(lines))
    return js, md
