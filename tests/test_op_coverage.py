"""The op list cannot drift: every native op has an op-table row, and every row with gradients
is differentiable through a Function."""

from __future__ import annotations

import mytensor as mt

from tests.ops.op_table import COMPOSED, ROWS

# _C functions that are not tensor ops (runtime, metadata, helpers used by autograd itself).
NOT_OPS = {
    "cuda_is_compiled",
    "cuda_is_available",
    "cuda_device_count",
    "cuda_synchronize",
    "cuda_memory_allocated",
    "cuda_max_memory_allocated",
    "cuda_memory_reserved",
    "cuda_reset_peak_memory_stats",
    "cuda_empty_cache",
    "cuda_sm90_conv_launches",
    "set_allow_tf32",
    "allow_tf32_matmul",
    "allow_tf32_conv",
    "cpu_memory_allocated",
    "cpu_max_memory_allocated",
    "cpu_reset_peak_memory_stats",
    "get_num_threads",
    "set_num_threads",
    "promote_types",
    "itemsize",
    "from_dlpack",
    "broadcast_shapes",
    "result_type",
    "sum_to_shape",
    "manual_seed",
    "get_rng_state",
    "set_rng_state",
    "empty",
    "fill_",
    "check_device_errors",
    "check_convertible",
    "check_inplace_cast",
}


def native_ops() -> set[str]:
    names = set()
    for name in dir(mt._C):
        obj = getattr(mt._C, name)
        if name.startswith("_") or isinstance(obj, type) or not callable(obj):
            continue
        names.add(name)
    return names - NOT_OPS


def test_every_native_op_has_a_row():
    covered = set()
    for row in ROWS:
        covered.add(row.name)
        covered.update(row.covers)
    missing = sorted(native_ops() - covered)
    assert not missing, f"native ops without an op-table row (tests/ops/table_*.py): {missing}"


def test_rows_name_real_ops():
    ops = native_ops()
    unknown = sorted({r.name for r in ROWS} - ops - NOT_OPS - COMPOSED)
    assert not unknown, f"op-table rows naming no _C op: {unknown}"


def test_every_composed_functional_has_a_row():
    assert not COMPOSED & native_ops(), "a COMPOSED name is a _C op: drop it from COMPOSED"
    missing = sorted(COMPOSED - {r.name for r in ROWS})
    assert not missing, f"composed functionals without an op-table row: {missing}"
    for name in COMPOSED:
        assert callable(getattr(mt.nn.functional, name)), name


def test_differentiable_rows_record_a_function():
    for row in ROWS:
        if not row.grad:
            continue
        arrays = row.inputs(row.cases[0], "float64")
        inputs = [mt.tensor(a, requires_grad=i in row.grad) for i, a in enumerate(arrays)]
        out = row.mt(*inputs)
        out = out[0] if isinstance(out, (tuple, list)) else out
        assert out.grad_fn is not None, f"{row.name}: differentiable row produced no grad_fn"
