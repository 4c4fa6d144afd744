"""``python -m tests.fuzz [-n N] [--seed S] [--device cuda] [--report DIR] [--replay FILE I]``."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    p.add_argument("-n", "--budget", type=int, default=1000, help="cases to run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    p.add_argument("--jobs", type=int, default=1, help="workers in parallel")
    p.add_argument("--ops", default=None, help="comma-separated generator names (cases.OPS)")
    p.add_argument("--report", default="fuzz-report", help="folder for the reports")
    p.add_argument(
        "--replay",
        nargs=2,
        metavar=("REPORT_JSON", "INDEX"),
        help="re-run one finding of a report in this process (no isolation)",
    )
    a = p.parse_args(argv)
    if a.replay:
        from tests.fuzz import execute, session

        case = session.load_case(a.replay[0], int(a.replay[1]))
        print(execute.repro(case))
        print(execute.run_case(case))
        return 0
    from tests.fuzz import session

    result = session.run(
        a.budget, a.seed, a.device, a.timeout, a.jobs, ops=a.ops.split(",") if a.ops else None
    )
    print(session.summary_table(result))
    js, md = session.write_report(result, a.report)
    print(f"report: {md} and {js}")
    return 1 if session.failures(result) else 0


if __name__ == "__main__":
    sys.exit(main())
