"""What a finding means: a failure, a deliberate difference (ALLOWED), or a known bug that is
being fixed (KNOWN). Each entry is (name, kinds, predicate(case, outcome), reason)."""

from __future__ import annotations

import numpy as np

from tests.ops.op_table import COMPOSED


def _op(case) -> str:
    return case["op"]


def _expr(case) -> str:
    return case.get("expr") or ""


def _bn_training(case) -> bool:
    """A batch-norm case in training mode (op-table row, F.batch_norm or a module)."""
    if "batch_norm" in _op(case):
        return "-train" in str(case.get("row") or "") or case.get("args", {}).get("tr") is True
    return _op(case).startswith("BatchNorm") and ".eval()" not in _expr(case)


def _expr_and_args(case) -> str:
    args = "; ".join(f"{k} = {v!r}" for k, v in case.get("args", {}).items())
    return f"{_expr(case)}; {args}"


def _msg(outcome, side="mt") -> str:
    return outcome.get(side, "") or ""


def _has(outcome, *fragments, side="mt") -> bool:
    text = _msg(outcome, side)
    return any(f in text for f in fragments)


def _dtypes(case) -> set:
    return {str(s["data"].dtype) for s in case["inputs"]}


def _flat_args(case):
    out = []
    for v in case.get("args", {}).values():
        out.extend(v if isinstance(v, (list, tuple)) else [v])
    return [v for v in out if isinstance(v, (int, float))]


def _huge_values(case) -> bool:
    """Inputs at the edge of the float range (|x| >= 1e15, inf or nan)."""
    import numpy as np

    for s in case["inputs"]:
        d = s["data"]
        if d.dtype.kind == "f" and d.size:
            with np.errstate(all="ignore"):
                if (~np.isfinite(d)).any() or (np.abs(d) >= 1e15).any():
                    return True
    return False


def _empty_input(case) -> bool:
    return any(s["data"].size == 0 for s in case["inputs"])


UNSUPPORTED = (
    "ceil_mode=True is not supported",
    "only dilation=1 is supported",
    "class weights are not supported",
    "only approximate='none' is supported",
)
FLOAT_ONLY = (
    "input must be float32 or float64",
    "weight must be float32 or float64",
    "expected float32 or float64 tensors",
)

# Deliberate differences: each with its reason. They never fail a run.
# Issue #14's losses and activations are composed from elementwise ops and reductions where
# PyTorch runs one fused kernel: with huge inputs the two orders of rounding may part.
_COMPOSED_ISSUE_14 = tuple(
    prefix + name
    for name in sorted(COMPOSED)
    + ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCEWithLogitsLoss", "KLDivLoss"]
    for prefix in ("", "row:")
)


ALLOWED: list = [
    (
        "feature not implemented",
        ("mt_raises",),
        lambda c, o: _has(o, *UNSUPPORTED),
        "ceil_mode, pool dilation, class weights and gelu(approximate='tanh') are not implemented "
        "yet; mytensor raises a clear ValueError naming the argument",
    ),
    (
        "float-only ops",
        ("mt_raises",),
        lambda c, o: _has(o, *FLOAT_ONLY, "[softmax] input must", "[log_softmax] input must"),
        "conv2d, pooling, batch_norm, dropout, softmax, matmul and linear are float32/float64 "
        "only (PyTorch's CPU integer kernels are not offered); a clear DTypeError",
    ),
    (
        "Linear(0, n)",
        ("mt_raises",),
        lambda c, o: _has(o, "in_features must be a positive"),
        "nn.Linear validates in_features > 0 at construction (deliberate)",
    ),
    (
        "bool clamp / pow / randint",
        ("mt_raises",),
        lambda c, o: _has(
            o,
            "[clamp] is not supported for bool",
            "[pow] is not supported for bool",
            "[randint] dtype bool is not supported",
        ),
        "arithmetic on bool tensors is refused with a clear DTypeError",
    ),
    (
        "mytensor accepts more (superset)",
        ("silent",),
        lambda c, o: _has(
            o,
            "not implemented for 'Bool'",
            "not implemented for 'Int'",
            "not implemented for 'Long'",
            "not implemented for 'Byte'",
            "does not support bool input",
            "Subtraction, the `-` operator, with",
            side="torch",
        ),
        "gelu of integers, argmax/argmin/arange of bool and bool subtraction: PyTorch has no "
        "kernel or forbids it; mytensor computes a well-defined result",
    ),
    (
        "torch legacy: empty 1-D tensors in cat",
        ("mt_raises",),
        lambda c, o: _op(c) == "cat" and (_empty_input(c) or _has(o, "(0,)", "with 1 dimension")),
        "torch.cat skips 1-D empty tensors of any shape (legacy); mytensor checks them",
    ),
    (
        "validation torch skips",
        ("mt_raises",),
        lambda c, o: (
            _empty_input(c)
            and _has(
                o,
                "dilation must be positive",
                "one dtype",
                "must be positive",
                "expected index of dtype",
            )
        ),
        "mytensor validates arguments and dtypes even when an input is empty; torch returns early",
    ),
    (
        "torch skips the channel check",
        ("mt_raises",),
        lambda c, o: _op(c) in ("BatchNorm1d", "BatchNorm2d") and _has(o, "channels in dim"),
        "torch's BatchNorm without affine and running stats never looks at num_features",
    ),
    (
        "2-D adaptive_avg_pool2d",
        ("mt_raises",),
        lambda c, o: _op(c) == "adaptive_avg_pool2d" and _has(o, "expected a 3-D"),
        "mytensor's pools take (C, H, W) or (N, C, H, W), as its other pools; torch also takes 2-D",
    ),
    (
        "empty *dims",
        ("silent",),
        lambda c, o: _op(c) in ("expand", "permute") and _has(o, "missing", side="torch"),
        "x.expand() / x.permute() without sizes on a 0-d tensor returns it (torch's binding needs "
        "the argument)",
    ),
    (
        "uint8 all/any",
        ("differ",),
        lambda c, o: (
            "dtype bool vs torch uint8" in str(o.get("detail"))
            and _op(c) in ("all", "any", "row:eq", "row:ne")
        ),
        "torch keeps uint8 for all/any of uint8 (legacy); mytensor returns bool "
        "as for every other dtype, as numpy",
    ),
    (
        "torch pads after cropping",
        ("silent",),
        lambda c, o: (
            _op(c) == "pad" and _has(o, "narrow(): length must be non-negative", side="torch")
        ),
        "F.pad with a negative pad next to a positive one on a small dim: torch crops first "
        "and fails; mytensor pads the net amount",
    ),
    (
        "stricter argument checks",
        ("mt_raises",),
        lambda c, o: _has(o, "label_smoothing must be in", "[randint] range"),
        "label_smoothing must lie in [0, 1] and randint's range must fit int64, whatever the "
        "dtype; torch checks neither on every path",
    ),
    (
        "logsumexp(dim=())",
        ("silent",),
        lambda c, o: _op(c) == "logsumexp" and _has(o, "doesn't match the broadcast", side="torch"),
        "torch's logsumexp with dim=() fails an output-shape check (a torch bug); mytensor "
        "reduces every dim, as sum(dim=()) does in both",
    ),
    (
        "one Ellipsis",
        ("mt_raises",),
        lambda c, o: _has(o, "a single ellipsis"),
        "mytensor allows one Ellipsis per index, as NumPy; torch accepts several",
    ),
    (
        "Adam with eps=0",
        ("differ",),
        lambda c, o: _op(c) in ("Adam", "AdamW") and "eps=0.0" in _expr(c),
        "eps=0 with a zero or subnormal gradient divides 0 by 0: -inf or nan depends on the "
        "order of the update's operations",
    ),
    (
        "torch's own backward limit",
        ("silent",),
        lambda c, o: _has(
            o, "grad_input must be contiguous", "adaptive_avg_pool2d_backward", side="torch"
        ),
        "torch's nll_loss2d backward rejects a non-contiguous grad; not a mytensor issue",
    ),
    (
        "float edge numerics",
        ("differ",),
        lambda c, o: (
            _huge_values(c)
            and _op(c)
            in (
                "conv2d",
                "BatchNorm1d",
                "BatchNorm2d",
                "row:conv2d",
                "batch_norm",
                "row:batch_norm",
                "row:var",
                "var",
                "std",
                "row:nll_loss",
                "nll_loss",
                "row:cross_entropy",
                "Sequential",
                "linear",
                "matmul",
                "AdamW",
                "Adam",
                "row:matmul",
                "row:linear",
                "row:logsumexp",
                "logsumexp",
            )
            + _COMPOSED_ISSUE_14
        ),
        "inputs at |x| >= 1e15, inf or nan: the order of a sum or a fused formula decides between "
        "inf, nan and a large finite value (both frameworks are right to IEEE rounding)",
    ),
]

ALLOWED += [
    (
        "copy_ between partially overlapping strided views",
        ("differ",),
        lambda c, o: _op(c) == "overlap" and ".copy_(" in _expr(c),
        "x[:, 1:].copy_(x[:, :-1]) on a 2-D tensor: torch's overlap check misses it and copies "
        "element by element in memory order (the result depends on that order; for 1-D views it "
        "raises); mytensor detects the overlap and copies the source first",
    ),
    (
        "masked_fill_ into an expanded tensor",
        ("mt_raises",),
        lambda c, o: (
            _op(c) == "masked_fill_" and _has(o, "more than one element of the written-to tensor")
        ),
        "torch only warns (deprecated) and writes through the stride-0 dims; mytensor raises, as "
        "for every other in-place write into an expanded tensor",
    ),
    (
        "linear with a bias of another dtype",
        ("mt_raises",),
        lambda c, o: _op(c) in ("linear", "row:linear") and _has(o, "one dtype"),
        "torch's 1-D-input path (matmul + add) promotes a bias of another dtype while its 2-D "
        "path (addmm) raises; mytensor requires one dtype on every path",
    ),
    (
        "allocation above the fuzz worker's memory cap",
        ("mt_raises",),
        lambda c, o: _has(o, "[cpu allocator] out of memory") and _has(o, "GiB)"),
        "a CPU worker may hold 4 GiB above its start-up size and the case's torch result is still "
        "alive: a GiB-sized tensor then gets a clean OutOfMemoryError naming the size",
    ),
    (
        "NumPy allocation above the fuzz worker's memory cap",
        ("bad_error",),
        lambda c, o: (
            o.get("mt_exc") == "MemoryError"
            and _has(o, "Unable to allocate")
            and any(
                isinstance(v, (tuple, list))
                and v
                and all(isinstance(n, int) for n in v)
                and int(np.prod(v, dtype=np.float64)) >= 1 << 30
                for v in c.get("args", {}).values()
            )
        ),
        "as above, when mytensor's GiB-sized result fits and NumPy's small buffer for comparing "
        "it then crosses the 4 GiB cap (seen once a merge of issue #14 shifted the slice's cases)",
    ),
]


def _cuda(case) -> bool:
    return str(case.get("device", "cpu")).startswith("cuda")


ALLOWED += [
    (
        "torch's CUDA clamp checks bounds differently from its CPU clamp",
        ("mt_raises", "silent"),
        lambda c, o: (
            _cuda(c)
            and _op(c) in ("clamp", "clamp_", "clip", "clip_")
            and (_has(o, "is outside the range of") or _has(o, "cannot be converted", side="torch"))
        ),
        "on CUDA torch accepts clamp(max=-7) of uint8 but refuses int32.clamp(min=-2**63); its "
        "CPU clamp does the opposite; mytensor checks as torch's CPU clamp on both devices",
    ),
    (
        "batch_norm with eps=0",
        ("silent",),
        lambda c, o: _has(o, "eps must be positive", side="torch"),
        "torch 2.11 refuses eps=0 (torch 2.15 accepts it); mytensor follows 2.15 and computes "
        "x / sqrt(var), inf where the variance is 0",
    ),
    (
        "CUDA index values are checked by the kernel",
        ("silent",),
        lambda c, o: _cuda(c) and _op(c) in ("index_select", "gather") and _empty_input(c),
        "a CUDA index is checked on the device, without a host sync, by the kernel that reads it; "
        "an empty result runs no kernel, so nothing is reported",
    ),
]
ALLOWED.append(
    (
        "validation torch skips (targets)",
        ("mt_raises",),
        lambda c, o: _empty_input(c) and _has(o, "targets must be int64"),
        "mytensor checks the target dtype even when the input is empty; torch returns early",
    )
)

ALLOWED += [
    (
        "bool scalar base of pow",
        ("differ",),
        lambda c, o: _op(c) == "pow" and "s = False" in _expr_and_args(c),
        "d/dx False ** x: torch's pow_backward_exponent masks a zero base only when the Scalar "
        "equals 0.0, which a bool False does not, so it gives 0 * log(0) = NaN; mytensor gives 0 "
        "as for the base 0",
    ),
    (
        "nested list mixing floats and negative ints into uint8",
        ("mt_raises",),
        lambda c, o: _op(c) == "tensor" and _has(o, "cannot be converted to type uint8"),
        "torch checks each element by its Python type (-3 wraps to 253, -3.0 overflows); mytensor "
        "reads a mixed list as one float64 array, so -3 is checked as -3.0 and raises cleanly",
    ),
    (
        "gradient of a sum of batch-norm outputs",
        ("differ",),
        lambda c, o: _bn_training(c) and "grad[0]" in str(o.get("detail")),
        "in training mode the sum of a normalised output does not depend on x: the exact input "
        "gradient is 0 and both libraries return float rounding noise (larger when |mean| >> "
        "std), which differs",
    ),
]

ALLOWED.append(
    (
        "sign of var's infinite gradient with no degrees of freedom",
        ("differ",),
        lambda c, o: (
            _op(c) in ("var", "std", "row:var", "row:std")
            and "grad" in str(o.get("detail"))
            and "inf" in str(o.get("detail"))
        ),
        "with correction >= N the gradient is 2 / 0 * (x - mean): mytensor's inf has the sign of "
        "x - mean, torch's does not follow it; both are inf where x != mean and NaN at the mean",
    )
)

ALLOWED.append(
    (
        "a timeout in torch that does not reproduce alone",
        ("hang",),
        lambda c, o: (
            o.get("detail") == "hang in torch" and (o.get("rerun_alone") or {}).get("kind") == "ok"
        ),
        "PyTorch's side of the case passed the timeout once (a loaded machine: the sanitizer run "
        "on 2 shared cores) and the case ran clean when re-run alone in a fresh worker",
    )
)

# Known bugs being fixed on a branch: (name, kinds, predicate, reason). Empty on main, so that the
# CI slice fails on any finding that is not ALLOWED with a reason.
ALLOWED.append(
    (
        "hardswish gradient at NaN",
        ("differ",),
        lambda c, o: (
            _op(c) in ("hardswish", "Hardswish", "row:hardswish")
            and "grad" in str(o.get("detail", ""))
            and any(s["data"].dtype.kind == "f" and np.isnan(s["data"]).any() for s in c["inputs"])
        ),
        "PyTorch's hardswish backward at a NaN input gives NaN on its vectorised CPU path and the "
        "upstream gradient on its scalar path (strided inputs); mytensor gives NaN (issue #14)",
    )
)


KNOWN: list = []

# New findings reported to the lead and not fixed yet; empty on main for the same reason.
NEW: list = []


def classify(case: dict, outcome: dict) -> tuple[str, str]:
    """("ok" | "allowed" | "known" | "fail", reason)."""
    kind = outcome["kind"]
    if kind in ("ok", "both_raise"):
        return "ok", ""
    if kind == "torch_crash":  # the reference died; mytensor's side ran alone without dying
        return "allowed", f"PyTorch itself crashed ({outcome['detail']}); mytensor: {outcome['mt']}"
    for table, label in ((ALLOWED, "allowed"), (KNOWN, "known"), (NEW, "new")):
        for name, kinds, pred, reason in table:
            if kind in kinds and pred(case, outcome):
                return label, f"{name}: {reason}"
    return "fail", ""
