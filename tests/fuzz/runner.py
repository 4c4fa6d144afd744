"""Runs fuzz cases so that a crash or a hang of one case is a finding, not the end of the run.

Cases run in batches in a worker process that streams one result line per case through a pipe:

* CPU: the worker is forked from a ``forkserver`` (a fresh process that imported torch and
  mytensor but ran no op, so no OpenMP pool or lock is inherited half-alive). The worker caps its
  address space (``RLIMIT_AS``) so a runaway allocation fails instead of swapping the machine.
* CUDA: CUDA does not survive fork, so the worker is ``spawn``-ed; no address-space cap (the
  driver reserves huge virtual ranges).

The parent sends nothing but the batch; the worker sends ``("start", i)`` before case ``i`` and
``("done", i, outcome)`` after it. If the worker dies, the case it had started is the suspect; if
no line arrives for ``timeout`` seconds it is killed and the started case is a hang. The suspect
is then re-run alone in a fresh worker: a crash that reproduces alone is pinned to that case, one
that does not is reported with the cases that ran before it in the same worker. The rest of the
batch continues in a new worker.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import signal
import time

from tests.fuzz import execute

_CONTEXTS: dict[str, mp.context.BaseContext] = {}


def _context(method: str):
    if method not in _CONTEXTS:
        ctx = mp.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(
                ["torch", "torch.optim", "mytensor", "tests.fuzz.execute", "tests.ops.op_table"]
            )
        _CONTEXTS[method] = ctx
    return _CONTEXTS[method]


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _worker(conn, cases, mem_limit: int | None) -> None:
    """Runs `cases` one after the other, streaming results through `conn`."""
    if mem_limit:
        limit = _vm_size() + mem_limit
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:  # no core files for the crashes we are looking for
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    execute.prepare_worker()
    for i, case in enumerate(cases):
        conn.send(("start", i))
        outcome = execute.run_case(case, lambda name, i=i: conn.send(("side", i, name)))
        conn.send(("done", i, outcome))
    conn.send(("end",))
    conn.close()


def _describe_exit(code) -> str:
    if code is None:
        return "killed (timeout)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


_SIDE_NAMES = {"mt": "mytensor", "torch": "torch"}


class Runner:
    """Runs lists of cases; `run(cases)` returns one outcome dict per case, in order."""

    def __init__(
        self,
        device: str = "cpu",
        timeout: float = 20.0,
        batch: int = 50,
        mem_limit: int | None = 4 << 30,
    ) -> None:
        self.device = device
        self.method = "spawn" if device.startswith("cuda") else "forkserver"
        self.timeout = timeout
        self.batch = batch
        self.mem_limit = None if device.startswith("cuda") else mem_limit
        self.workers_started = 0

    def _run_worker(self, cases):
        """Runs cases in one worker; returns (outcomes so far, index of the case that killed
        it or None, how it died)."""
        ctx = _context(self.method)
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(child, cases, self.mem_limit), daemon=True)
        proc.start()
        self.workers_started += 1
        child.close()
        outcomes: list = []
        started = None
        side = None  # the library the started case was running when the worker died
        # A spawned worker first imports torch and mytensor: give it time to start.
        deadline = time.monotonic() + self.timeout + (60 if self.method == "spawn" else 10)
        death = None
        while True:
            left = deadline - time.monotonic()
            try:
                ready = parent.poll(max(left, 0))
            except (EOFError, OSError):
                ready = True
            if not ready:
                proc.kill()
                proc.join()
                death = "hang"
                break
            try:
                msg = parent.recv()
            except (EOFError, OSError):
                proc.join(5)
                if proc.exitcode is None:
                    proc.kill()
                    proc.join()
                death = _describe_exit(proc.exitcode)
                break
            if msg[0] == "start":
                started, side = msg[1], None
                deadline = time.monotonic() + self.timeout
            elif msg[0] == "side":
                side = msg[2]
            elif msg[0] == "done":
                outcomes.append(msg[2])
                started = None
            else:
                proc.join(10)
                break
        parent.close()
        if death is not None and started is None:
            started = len(outcomes)  # died between cases (at start-up or shutdown)
        if death is not None:
            death = f"{death} in {_SIDE_NAMES.get(side, 'start-up')}"
        return outcomes, started, death

    def run(self, cases) -> list[dict]:
        results: list[dict] = []
        i = 0
        while i < len(cases):
            batch = cases[i : i + self.batch]
            outcomes, bad, death = self._run_worker(batch)
            results.extend(outcomes)
            i += len(outcomes)
            if bad is None:
                continue
            case = cases[i]
            # Pin it: does the case fail alone in a fresh worker?
            alone, bad_alone, death_alone = self._run_worker([case])
            kind = "hang" if death.startswith("hang") else "crash"
            if bad_alone is not None and death_alone.endswith(" in torch"):
                # The reference died, not us: run mytensor's side alone and keep its outcome.
                mine, bad_mine, death_mine = self._run_worker([{**case, "mt_only": True}])
                if bad_mine is None:
                    results.append({**mine[0], "detail": f"torch {death_alone}", "alone": True})
                else:
                    kind_mine = "hang" if death_mine.startswith("hang") else "crash"
                    results.append({"kind": kind_mine, "detail": death_mine, "alone": True})
            elif bad_alone is not None:
                kind_alone = "hang" if death_alone.startswith("hang") else "crash"
                results.append({"kind": kind_alone, "detail": death_alone, "alone": True})
            else:
                before = [c for c in batch[:bad]][-5:]
                results.append(
                    {
                        "kind": kind,
                        "detail": death,
                        "alone": False,
                        "rerun_alone": alone[0] if alone else None,
                        "ran_before": [execute.repro(c) for c in before],
                    }
                )
            i += 1
        return results


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))
