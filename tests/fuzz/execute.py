"""One fuzz case, run in mytensor and in PyTorch, and compared.

A case is plain data (picklable, JSON-able once arrays are lists), so a spawned worker can run it
and a report can replay it:

    {"op": "add",                      # a name, for the summary
     "expr": "x0 + x1 * alpha",        # Python code over L (the library), F (L.nn.functional),
                                       # nn, np, dev and x0, x1, ... and the args; a multi-line
                                       # expr is exec-ed and its result is the variable `out`
     "row": None,                      # or the id of an op-table row: calls its .mt/.torch
     "inputs": [{"data": ndarray, "view": [...], "grad": False}, ...],
     "args": {"alpha": 2},
     "device": "cpu",
     "rtol": ..., "atol": ...}         # optional tolerances (op-table rows carry their own)

Each input is built from its base array (from_numpy in both libraries, then moved to the device)
and then viewed: ``["T"]`` (transpose the last two dims), ``["permute", perm]``,
``["slice", dim, start, stop, step]``, ``["expand", shape]``.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np

REASONABLE = (ValueError, TypeError, IndexError, RuntimeError, ArithmeticError, KeyError)
FAMILIES = (IndexError, TypeError, ValueError, RuntimeError)  # most specific first
UNCLEAR = ("incompatible function arguments", "std::", "max_size()", "bad_alloc")

_LIBS: dict = {}


def prepare_worker() -> None:
    """Imports both libraries (the forkserver has them already) and quiets warnings."""
    warnings.simplefilter("ignore")
    _libs()


def _libs():
    if not _LIBS:
        import mytensor
        import mytensor.optim  # noqa: F401
        import torch
        import torch.optim  # noqa: F401  (its first import takes seconds: not in a case's time)

        torch.set_num_threads(1)
        _LIBS["mt"], _LIBS["torch"] = mytensor, torch
    return _LIBS


# ---- building inputs ------------------------------------------------------------------------
def _apply_view(x, view):
    kind = view[0]
    if kind == "T":
        return x.transpose(-2, -1)
    if kind == "permute":
        return x.permute(*view[1])
    if kind == "slice":
        _, dim, start, stop, step = view
        return x[(slice(None),) * dim + (slice(start, stop, step),)]
    if kind == "expand":
        return x.expand(*view[1])
    raise ValueError(f"unknown view {view!r}")


def build_input(lib_name: str, spec: dict, device: str):
    lib = _libs()[lib_name]
    data = np.array(spec["data"], copy=True)
    base = lib.from_numpy(data)
    if device != "cpu" and lib_name == "mt":
        base = base.to(device)
    if spec.get("grad"):
        base.requires_grad_(True)
    x = base
    for view in spec.get("view", ()):
        x = _apply_view(x, view)
    return base, x


def _call(lib_name: str, case: dict):
    """(leaves, inputs, result) of the case in one library; raises what the library raises."""
    libs = _libs()
    lib = libs[lib_name]
    device = case.get("device", "cpu") if lib_name == "mt" else "cpu"
    built = [build_input(lib_name, s, device) for s in case["inputs"]]
    leaves = [b for b, _ in built]
    xs = [x for _, x in built]
    if case.get("row") is not None:
        from tests.ops.op_table import ROW_BY_ID

        row = ROW_BY_ID[case["row"]]
        fn = row.mt if lib_name == "mt" else row.torch
        if row.device_arg:
            return leaves, xs, (fn(device=device) if lib_name == "mt" else fn())
        return leaves, xs, fn(*xs)
    ns = {
        "L": lib,
        "F": lib.nn.functional,
        "nn": lib.nn,
        "np": np,
        "dev": device,
        "math": math,
        "init_params": lambda m, seed=0: init_params(lib, m, seed, device),
    }
    ns.update({f"x{i}": x for i, x in enumerate(xs)})
    ns.update(case.get("args", {}))
    expr = case["expr"]
    if "\n" in expr or expr.startswith("out ="):
        exec(compile(expr, "<fuzz case>", "exec"), ns)
        return leaves, xs, ns["out"]
    return leaves, xs, eval(compile(expr, "<fuzz case>", "eval"), ns)


def init_params(lib, module, seed: int = 0, device: str = "cpu"):
    """Sets every parameter of `module` to the same seeded uniform values in both libraries and
    moves the module to `device` (the device of the case's inputs)."""
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for _, p in sorted(module.named_parameters(), key=lambda kv: kv[0]):
            dtype = str(p.dtype).split(".")[-1]
            p.copy_(lib.from_numpy(rng.uniform(-1, 1, tuple(p.shape)).astype(dtype)))
    return module.to(device)


# ---- capturing and comparing results -----------------------------------------------------------
def _is_tensor(v) -> bool:
    libs = _libs()
    return isinstance(v, (libs["mt"].Tensor, libs["torch"].Tensor))


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def capture(v):
    """A library-neutral picture of a result: tensors become (dtype, shape, ndarray)."""
    if _is_tensor(v):
        t = v.detach().cpu()
        name = _dtype_name(t)
        try:
            arr = t.numpy()
        except TypeError:
            arr = t.float().numpy() if name == "bfloat16" else None
        return ("tensor", name, tuple(t.shape), np.array(arr, copy=True))
    if isinstance(v, (list, tuple)):
        return ("seq", [capture(e) for e in v])
    if isinstance(v, dict):
        return ("dict", {k: capture(e) for k, e in v.items()})
    if v is None or isinstance(v, (bool, int, float, str)):
        return ("scalar", v)
    if type(v).__name__ == "dtype":
        return ("scalar", str(v).split(".")[-1])
    if type(v).__name__ == "device":
        return ("scalar", str(v))
    return ("other", type(v).__name__)


def _values_close(a: np.ndarray, b: np.ndarray, dtype: str, rtol, atol) -> str | None:
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if dtype in ("bool", "uint8", "int8", "int16", "int32", "int64"):
        bad = a != b
    else:
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        if rtol is None:
            rtol = {"float64": 1e-7, "float16": 1e-3, "bfloat16": 1e-2}.get(dtype, 1e-4)
        if atol is None:
            atol = {"float64": 1e-10, "float16": 1e-3, "bfloat16": 1e-2}.get(dtype, 1e-6)
        nan_a, nan_b = np.isnan(a64), np.isnan(b64)
        with np.errstate(all="ignore"):
            finite = np.isfinite(b64)
            scale = np.abs(b64[finite]).max() if finite.any() else 0.0
            diff = np.abs(a64 - b64)
            close = (a64 == b64) | (diff <= atol + rtol * np.abs(b64)) | (diff <= rtol * scale)
        bad = (nan_a != nan_b) | (~nan_a & ~nan_b & ~close)
    if not bad.any():
        return None
    idx = np.argwhere(bad)[0] if bad.ndim else ()
    idx = tuple(int(i) for i in idx)
    return (
        f"{int(bad.sum())} of {bad.size} values differ; first at {idx}: "
        f"mytensor {a[idx]!r}, torch {b[idx]!r}"
    )


def compare(m, t, rtol=None, atol=None, where="result") -> str | None:
    """None if the pictures agree, else what differs."""
    if m[0] != t[0]:
        if m[0] == "scalar" and t[0] == "scalar":
            pass
        return f"{where}: mytensor gives a {m[0]}, torch a {t[0]}"
    if m[0] == "tensor":
        _, md, ms, ma = m
        _, td, ts, ta = t
        if md != td:
            return f"{where}: dtype {md} vs torch {td}"
        if ms != ts:
            return f"{where}: shape {ms} vs torch {ts}"
        if ma is None or ta is None:
            return None
        why = _values_close(ma, ta, md, rtol, atol)
        return None if why is None else f"{where}: {why}"
    if m[0] == "seq":
        if len(m[1]) != len(t[1]):
            return f"{where}: {len(m[1])} results vs torch {len(t[1])}"
        for i, (a, b) in enumerate(zip(m[1], t[1])):
            why = compare(a, b, rtol, atol, f"{where}[{i}]")
            if why:
                return why
        return None
    if m[0] == "dict":
        if sorted(m[1]) != sorted(t[1]):
            return f"{where}: keys {sorted(m[1])} vs torch {sorted(t[1])}"
        for k in m[1]:
            why = compare(m[1][k], t[1][k], rtol, atol, f"{where}[{k!r}]")
            if why:
                return why
        return None
    if m[0] == "scalar":
        a, b = m[1], t[1]
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return None
        if (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and not (isinstance(a, bool) ^ isinstance(b, bool))
        ):
            if (
                a == b
                or (isinstance(a, float) or isinstance(b, float))
                and math.isclose(a, b, rel_tol=rtol or 1e-6, abs_tol=atol or 1e-9)
            ):
                if type(a) is type(b):
                    return None
                return f"{where}: {type(a).__name__} {a!r} vs torch {type(b).__name__} {b!r}"
        return None if a == b else f"{where}: {a!r} vs torch {b!r}"
    return None if m == t else f"{where}: {m!r} vs torch {t!r}"


def _family(e: BaseException) -> str:
    for f in FAMILIES:
        if isinstance(e, f):
            return f.__name__
    return type(e).__name__


def _short(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {msg[:300]}"


def _grad_target(result):
    """The first floating-point tensor of a result (what backward is called on)."""
    if _is_tensor(result):
        return result if result.dtype.is_floating_point and result.requires_grad else None
    if isinstance(result, (list, tuple)):
        for r in result:
            t = _grad_target(r)
            if t is not None:
                return t
    return None


def _backward(leaves, result):
    target = _grad_target(result)
    if target is None:
        return None
    target.sum().backward()
    return (
        "seq",
        [capture(leaf.grad) if leaf.requires_grad else ("scalar", None) for leaf in leaves],
    )


def run_case(case: dict, on_side=None) -> dict:
    """Runs one case in both libraries and classifies it (before the allowed/known lists).

    `on_side(name)` is called before each library runs, so that a crash can be pinned on the
    library that died (PyTorch has crashes of its own on edge inputs)."""
    rtol, atol = case.get("rtol"), case.get("atol")
    if case.get("mt_only"):  # PyTorch crashed on this case: what does mytensor do alone?
        if on_side is not None:
            on_side("mt")
        try:
            _call("mt", case)
            return {"kind": "torch_crash", "mt": "returns"}
        except Exception as e:  # noqa: BLE001
            ok = isinstance(e, REASONABLE) and not any(u in str(e) for u in UNCLEAR)
            return {
                "kind": "torch_crash" if ok else "bad_error",
                "mt": _short(e),
                "mt_exc": type(e).__name__,
            }
    sides = {}
    for name in ("torch", "mt"):
        if on_side is not None:
            on_side(name)
        try:
            leaves, xs, result = _call(name, case)
            picture = capture(result)
            inputs_after = ("seq", [capture(x) for x in xs])
            sides[name] = ("ok", leaves, picture, inputs_after, result)
        except Exception as e:  # noqa: BLE001  (every exception is a finding to classify)
            sides[name] = ("raise", e)
    m, t = sides["mt"], sides["torch"]
    out: dict = {}
    if m[0] == "raise":
        e = m[1]
        out["mt"] = _short(e)
        out["mt_exc"] = type(e).__name__
        out["mt_reasonable"] = isinstance(e, REASONABLE) and not any(u in str(e) for u in UNCLEAR)
    if t[0] == "raise":
        out["torch"] = _short(t[1])
        out["torch_exc"] = type(t[1]).__name__
    if m[0] == "raise" and t[0] == "raise":
        out["family_match"] = _family(m[1]) == _family(t[1]) or isinstance(m[1], type(t[1]))
        out["kind"] = "both_raise" if out["mt_reasonable"] else "bad_error"
        return out
    if m[0] == "raise":
        out["kind"] = "mt_raises" if out["mt_reasonable"] else "bad_error"
        return out
    if t[0] == "raise":
        out["kind"] = "silent"
        out["mt"] = _summary(m[2])
        return out
    why = compare(m[2], t[2], rtol, atol)
    if why is None:
        why = compare(m[3], t[3], rtol, atol, "inputs after the call")
    if why is not None:
        out.update(kind="differ", detail=why, mt=_summary(m[2]), torch=_summary(t[2]))
        return out
    if any(s.get("grad") for s in case["inputs"]):
        grads = {}
        for name, side in (("torch", t), ("mt", m)):
            try:
                grads[name] = _backward(side[1], side[4])
            except Exception as e:  # noqa: BLE001
                grads[name] = e
        gm, gt = grads["mt"], grads["torch"]
        if isinstance(gm, Exception) and not isinstance(gt, Exception):
            out.update(kind="mt_raises", mt="backward: " + _short(gm))
            return out
        if isinstance(gt, Exception) and not isinstance(gm, Exception):
            out.update(kind="silent", torch="backward: " + _short(gt))
            return out
        if gm is not None and gt is not None and not isinstance(gm, Exception):
            why = compare(gm, gt, rtol and rtol * 10, atol and atol * 10, "grad")
            if why is not None:
                out.update(kind="differ", detail=why)
                return out
    out["kind"] = "ok"
    return out


def _summary(picture) -> str:
    if picture[0] == "tensor":
        _, d, s, a = picture
        vals = np.array2string(a.reshape(-1)[:6], threshold=6, precision=6) if a is not None else ""
        return f"tensor {d} {s} {vals}"
    if picture[0] == "seq":
        return "(" + ", ".join(_summary(p) for p in picture[1][:3]) + ")"
    return repr(picture[1])[:100]


# ---- reproducer lines ---------------------------------------------------------------------------
def _num(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return repr(f)


def array_source(a: np.ndarray) -> str:
    a = np.asarray(a)
    flat = ", ".join(_num(v) for v in a.reshape(-1))
    src = f"np.array([{flat}], dtype='{a.dtype.name}')"
    if a.ndim != 1:
        src += f".reshape({a.shape!r})"
    return src


def view_source(view) -> str:
    kind = view[0]
    if kind == "T":
        return ".transpose(-2, -1)"
    if kind == "permute":
        return f".permute{tuple(view[1])!r}"
    if kind == "slice":
        _, dim, start, stop, step = view
        part = f"{'' if start is None else start}:{'' if stop is None else stop}"
        part += "" if step is None else f":{step}"
        return "[" + ":, " * dim + part + "]"
    if kind == "expand":
        return f".expand{tuple(view[1])!r}"
    return repr(view)


def input_source(spec: dict, device: str) -> str:
    src = f"mt.from_numpy({array_source(spec['data'])})"
    if device != "cpu":
        src += f".to('{device}')"
    if spec.get("grad"):
        src += ".requires_grad_()"
    return src + "".join(view_source(v) for v in spec.get("view", ()))


def repro(case: dict) -> str:
    """A line of Python that redoes the mytensor side of the case."""
    device = case.get("device", "cpu")
    parts = ["import mytensor as mt, numpy as np", "from numpy import nan, inf"]
    parts += [f"x{i} = {input_source(s, device)}" for i, s in enumerate(case["inputs"])]
    parts += [f"{k} = {v!r}" for k, v in case.get("args", {}).items()]
    if case.get("row") is not None:
        from tests.ops.op_table import ROW_BY_ID

        xs = ", ".join(f"x{i}" for i in range(len(case["inputs"])))
        parts.insert(2, "from tests.ops.op_table import ROW_BY_ID")
        call = f"ROW_BY_ID[{case['row']!r}].mt({xs})"
        if ROW_BY_ID[case["row"]].device_arg:
            call = f"ROW_BY_ID[{case['row']!r}].mt(device={device!r})"
        parts.append(call)
    else:
        expr = re.sub(r"(?<![\w.])nn\.", "mt.nn.", case["expr"])
        expr = re.sub(r"(?<![\w.])F\.", "mt.nn.functional.", expr)
        expr = re.sub(r"(?<![\w.])L\.", "mt.", expr)
        parts.insert(2, f"dev = {device!r}")
        if "init_params(" in expr:
            parts.insert(
                2,
                "from tests.fuzz.execute import init_params as _ip; "
                "init_params = lambda m, seed=0: _ip(mt, m, seed, dev)",
            )
        lines = [line for line in expr.splitlines() if line.strip()]
        if any(line.startswith(" ") for line in lines):  # a block: keep the lines
            return "\n".join(parts + lines)
        parts.extend(lines)
    return "; ".join(parts)
