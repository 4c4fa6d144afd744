"""The test oracle: run the same inputs through mytensor and PyTorch and compare everything."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import torch

_TORCH_DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.int64,
    "int32": torch.int32,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


def to_mt(array: np.ndarray, device: str, layout: str = "contiguous", requires_grad=False):
    """A mytensor tensor holding `array`, laid out as asked: "contiguous", "transposed" (a view
    whose last two dims are swapped in memory) or "sliced" (every other element of a larger
    buffer along the last dim)."""
    if layout == "transposed" and array.ndim >= 2:
        base = mt.tensor(np.ascontiguousarray(np.swapaxes(array, -1, -2)), device=device)
        t = base.transpose(-1, -2)
        assert not t.is_contiguous() or min(array.shape[-2:]) <= 1
    elif layout == "sliced" and array.ndim >= 1:
        wide = np.zeros(array.shape[:-1] + (array.shape[-1] * 2,), dtype=array.dtype)
        wide[..., ::2] = array
        t = mt.tensor(wide, device=device)[..., ::2]
    else:
        t = mt.tensor(array, device=device)
    if requires_grad:
        t = t.detach().requires_grad_(True)
    return t


def _np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return t.detach().cpu().numpy()


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def assert_close(actual, expected, atol, rtol, what: str) -> None:
    a, e = _np(actual), _np(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
    if e.dtype == np.bool_ or np.issubdtype(e.dtype, np.integer):
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=what)


def assert_matches_torch(
    mt_fn,
    torch_fn,
    arrays,
    device: str,
    *,
    grad_inputs=(),
    layouts=None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    name: str = "op",
    mt_kwargs: dict | None = None,
) -> None:
    """Runs mt_fn and torch_fn on the same inputs; compares shape, dtype, values, then the
    gradients of every input index in `grad_inputs` (upstream gradient: fixed random values)."""
    layouts = layouts or ["contiguous"] * len(arrays)
    mt_in = [
        to_mt(a, device, lay, requires_grad=i in grad_inputs)
        for i, (a, lay) in enumerate(zip(arrays, layouts))
    ]
    th_in = [torch.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(arrays)]
    mt_out = _flat(mt_fn(*mt_in, **(mt_kwargs or {})))
    th_out = _flat(torch_fn(*th_in))
    assert len(mt_out) == len(th_out), f"{name}: {len(mt_out)} outputs vs torch's {len(th_out)}"
    for k, (m, t) in enumerate(zip(mt_out, th_out)):
        assert m.shape == tuple(t.shape), f"{name} output {k}: shape {m.shape} != {tuple(t.shape)}"
        assert m.dtype.name == str(t.dtype).replace("torch.", ""), (
            f"{name} output {k}: dtype {m.dtype} != {t.dtype}"
        )
        assert m.device.type == device, f"{name} output {k}: on {m.device}, expected {device}"
        assert_close(m, t, atol, rtol, f"{name} output {k} values")
    if not grad_inputs:
        return
    rng = np.random.default_rng(1)
    diff_out = [(m, t) for m, t in zip(mt_out, th_out) if t.requires_grad]
    upstream = [rng.standard_normal(tuple(t.shape)).astype(_np(t).dtype) for _, t in diff_out]
    th_grads = torch.autograd.grad(
        [t for _, t in diff_out],
        [th_in[i] for i in grad_inputs],
        grad_outputs=[torch.tensor(u) for u in upstream],
        allow_unused=True,
    )
    total = None
    for (m, _), u in zip(diff_out, upstream):
        term = (m * mt.tensor(u, device=device)).sum()
        total = term if total is None else total + term
    total.backward()
    for i, tg in zip(grad_inputs, th_grads):
        mg = mt_in[i].grad
        if tg is None:
            assert mg is None or np.allclose(_np(mg), 0), f"{name}: grad of input {i} should be 0"
            continue
        assert mg is not None, f"{name}: input {i} got no gradient"
        assert mg.dtype is mt_in[i].dtype, f"{name}: grad {i} dtype {mg.dtype}"
        assert_close(mg, tg, atol * 10, rtol * 10, f"{name} grad of input {i}")


def torch_dtype(name: str):
    return _TORCH_DTYPES[name]
