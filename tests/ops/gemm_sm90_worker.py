"""Worker of test_gemm_sm90.py (issue #12), run in a subprocess so that MYTENSOR_GEMM, which the
extension reads once, can force one GEMM path: computes every case of CASES on CUDA, compares it
with a float64 reference and writes the outputs, errors and the CUDA kernel names it saw to an
.npz file.  Usage: python gemm_sm90_worker.py OUT.npz [case-id ...]"""

from __future__ import annotations

import json
import os
import sys
import zlib

import mytensor as mt
import numpy as np

# (m, k, n): 1 and 7 (smaller than any tile), 127/129 (either side of the 128 tile), 1000, 4097
# (one past a 4096 multiple: a partial last tile and an odd row pitch).
MATMUL_SHAPES = [
    (1, 1, 1),
    (7, 5, 3),
    (127, 129, 131),
    (129, 127, 1000),
    (1000, 1, 7),
    (1000, 1000, 1000),
    (4097, 64, 129),
    (256, 4097, 257),
    (64, 512, 4097),
]
LAYOUTS = ["nn", "tn", "nt", "tt"]  # A / B given transposed (a column-major view) or not


def _cases():
    cases = []
    for m, k, n in MATMUL_SHAPES:
        for lay in LAYOUTS:
            cases.append(
                {"id": f"mm-{m}x{k}x{n}-{lay}", "kind": "mm", "mkn": [m, k, n], "lay": lay}
            )
    cases += [
        {"id": "mm-aligned-4096", "kind": "mm", "mkn": [512, 4096, 1024], "lay": "nt"},
        {"id": "mm-misaligned-offset", "kind": "mm_offset", "mkn": [300, 260, 280]},
        {"id": "bmm-3x65x77x129", "kind": "bmm", "bmkn": [3, 65, 77, 129], "bcast": False},
        {
            "id": "bmm-5x300x129x257-t",
            "kind": "bmm",
            "bmkn": [5, 300, 129, 257],
            "bcast": False,
            "t": True,
        },
        {"id": "bmm-broadcast-b", "kind": "bmm", "bmkn": [4, 130, 96, 200], "bcast": True},
        {"id": "bmm-4d", "kind": "bmm4", "shape": [2, 3, 70, 33, 90]},
        {"id": "linear-bias", "kind": "linear", "mkn": [300, 200, 150]},
        {"id": "linear-bias-odd", "kind": "linear", "mkn": [1000, 129, 257]},
        {
            "id": "conv-g2-3x3",
            "kind": "conv",
            "x": [8, 64, 20, 20],
            "w": [96, 32, 3, 3],
            "stride": 1,
            "pad": 1,
            "groups": 2,
        },
        {
            "id": "conv-g2-3x3-s2",
            "kind": "conv",
            "x": [8, 64, 21, 21],
            "w": [96, 32, 3, 3],
            "stride": 2,
            "pad": 1,
            "groups": 2,
        },
        {
            "id": "conv-g2-1x1",
            "kind": "conv",
            "x": [4, 64, 17, 17],
            "w": [128, 32, 1, 1],
            "stride": 1,
            "pad": 0,
            "groups": 2,
        },
        {
            "id": "conv-g4-5x5-odd",
            "kind": "conv",
            "x": [3, 12, 13, 11],
            "w": [20, 3, 5, 5],
            "stride": 1,
            "pad": 2,
            "groups": 4,
        },
    ]
    return cases


CASES = _cases()
# GEMM_WORKER_DEVICE=cpu: a dry run of the worker itself on a machine without a GPU.
DEVICE = os.environ.get("GEMM_WORKER_DEVICE", "cuda")


def expected_outputs(c) -> list[str]:
    return ["out", "grad_x", "grad_w"] if c["kind"] == "conv" else ["out"]


def _rng(case_id: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(case_id.encode()))


def _cuda(a: np.ndarray) -> mt.Tensor:
    return mt.tensor(np.ascontiguousarray(a), dtype=mt.float32, device=DEVICE)


def _poison(shape) -> None:
    """A freed NaN block of the output's size: the caching allocator hands it to the next
    allocation of that size, so an element the GEMM never writes reads as NaN."""
    p = mt.full(tuple(shape), float("nan"), dtype=mt.float32, device=DEVICE)
    del p


def _operand(x: np.ndarray, transposed: bool) -> mt.Tensor:
    """x (float32 on CUDA), as a column-major view when `transposed`."""
    if transposed:
        return _cuda(np.ascontiguousarray(x.swapaxes(-1, -2))).transpose(-1, -2)
    return _cuda(x)


def run_case(c):
    """Returns {name: (got float32 array, float64 reference)}."""
    rng = _rng(c["id"])
    kind = c["kind"]
    if kind == "mm":
        m, k, n = c["mkn"]
        a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        ta, tb = (
            _operand(a.astype(np.float32), c["lay"][0] == "t"),
            _operand(b.astype(np.float32), c["lay"][1] == "t"),
        )
        _poison((m, n))
        return {
            "out": (
                (ta @ tb).cpu().numpy(),
                a.astype(np.float32).astype(np.float64) @ b.astype(np.float32).astype(np.float64),
            )
        }
    if kind == "mm_offset":
        m, k, n = c["mkn"]
        a_big = rng.standard_normal((m, k + 1)).astype(np.float32)
        b_big = rng.standard_normal((k + 3, n)).astype(np.float32)
        ta = _cuda(a_big)[:, 1:]  # misaligned pointer, row pitch k + 1
        tb = _cuda(b_big)[3:, :]
        _poison((m, n))
        ref = a_big[:, 1:].astype(np.float64) @ b_big[3:, :].astype(np.float64)
        return {"out": ((ta @ tb).cpu().numpy(), ref)}
    if kind == "bmm":
        bt, m, k, n = c["bmkn"]
        a = rng.standard_normal((bt, m, k)).astype(np.float32)
        b = rng.standard_normal((k, n) if c["bcast"] else (bt, k, n)).astype(np.float32)
        t = c.get("t", False)
        ta, tb = _operand(a, t), _operand(b, not t)
        _poison((bt, m, n))
        return {"out": ((ta @ tb).cpu().numpy(), a.astype(np.float64) @ b.astype(np.float64))}
    if kind == "bmm4":
        b0, b1, m, k, n = c["shape"]
        a = rng.standard_normal((b0, b1, m, k)).astype(np.float32)
        b = rng.standard_normal((b0, b1, k, n)).astype(np.float32)
        _poison((b0, b1, m, n))
        got = (_cuda(a) @ _operand(b, True)).cpu().numpy()
        return {"out": (got, a.astype(np.float64) @ b.astype(np.float64))}
    if kind == "linear":
        m, k, n = c["mkn"]
        x = rng.standard_normal((m, k)).astype(np.float32)
        w = rng.standard_normal((n, k)).astype(np.float32)
        bias = rng.standard_normal(n).astype(np.float32)
        got = mt.nn.functional.linear(_cuda(x), _cuda(w), _cuda(bias)).cpu().numpy()
        ref = x.astype(np.float64) @ w.astype(np.float64).T + bias.astype(np.float64)
        return {"out": (got, ref)}
    if kind == "conv":
        import torch

        x = rng.standard_normal(c["x"]).astype(np.float32)
        w = (rng.standard_normal(c["w"]) * 0.2).astype(np.float32)
        bias = rng.standard_normal(c["w"][0]).astype(np.float32)
        kw = {"stride": c["stride"], "padding": c["pad"], "groups": c["groups"]}
        tx = mt.tensor(x, device=DEVICE, requires_grad=True)
        tw = mt.tensor(w, device=DEVICE, requires_grad=True)
        tbias = mt.tensor(bias, device=DEVICE, requires_grad=True)
        y = mt.nn.functional.conv2d(tx, tw, tbias, **kw)
        gy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        y.backward(_cuda(gy))
        rx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        rw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        rb = torch.tensor(bias, dtype=torch.float64, requires_grad=True)
        ry = torch.nn.functional.conv2d(rx, rw, rb, **kw)
        ry.backward(torch.tensor(gy, dtype=torch.float64))
        return {
            "out": (y.detach().cpu().numpy(), ry.detach().numpy()),
            "grad_x": (tx.grad.cpu().numpy(), rx.grad.numpy()),
            "grad_w": (tw.grad.cpu().numpy(), rw.grad.numpy()),
        }
    raise ValueError(kind)


def _kernel_names(fn) -> list[str]:
    """CUDA kernels launched by fn(), through PyTorch's profiler (CUPTI sees every kernel of the
    process, mytensor's too); [] where it is unavailable."""
    try:
        import torch
        from torch.profiler import ProfilerActivity, profile

        if DEVICE != "cuda" or not torch.cuda.is_available():
            return []
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            mt.cuda.synchronize()
        return sorted({e.name for e in prof.events() if e.device_type.name == "CUDA"})
    except Exception as exc:  # the profiler is a diagnostic, never a reason to fail the run
        return [f"profiler unavailable: {exc!r}"]


def main(argv):
    out_path = argv[1]
    wanted = set(argv[2:])
    mt.backends.cuda.matmul.allow_tf32 = True
    mt.backends.cudnn.allow_tf32 = True
    arrays, report = {}, {}
    for c in CASES:
        if wanted and c["id"] not in wanted:
            continue
        for name, (got, ref) in run_case(c).items():
            key = f"{c['id']}__{name}"
            arrays[key] = got
            ref_norm = float(np.linalg.norm(ref))
            err = float(np.linalg.norm(got.astype(np.float64) - ref))
            report[key] = {
                "rel": err / ref_norm if ref_norm > 0 else err,
                "nan": int(np.isnan(got).sum()),
                "shape_ok": list(got.shape) == list(ref.shape),
            }
    probe = next(c for c in CASES if c["id"] == "mm-1000x1000x1000-nt")
    report["_kernels"] = _kernel_names(lambda: run_case(probe))
    np.savez(out_path, report=np.array(json.dumps(report)), **arrays)


if __name__ == "__main__":
    main(sys.argv)
