"""``mytensor.testing``: numerical gradient checks and comparisons."""

import numpy as _np

from mytensor._tensor import Tensor


def gradcheck(
    fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, name: str | None = None
) -> bool:
    """Checks fn's analytic gradients against central differences, in float64.

    Every input that requires grad must be float64. The output is reduced with a fixed random
    weighting (so every output element matters), and each input element is perturbed by +-eps.

    Raises:
        AssertionError: naming the op, the argument and the first failing index.
    """
    from mytensor.autograd.grad_mode import no_grad
    from mytensor.creation import tensor

    name = name or getattr(fn, "__name__", "fn")
    inputs = list(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in diff:
        if inputs[i].dtype.name != "float64":
            raise TypeError(
                f"[gradcheck] input {i} of {name} must be float64, got {inputs[i].dtype}"
            )
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    outs = [o for o in outs if isinstance(o, Tensor) and o.requires_grad]
    rng = _np.random.default_rng(0)
    weights = [rng.standard_normal(o.shape) for o in outs]

    def objective(*xs) -> float:
        with no_grad():
            res = fn(*xs)
            res = res if isinstance(res, (tuple, list)) else (res,)
            res = [r for r in res if isinstance(r, Tensor) and r.dtype.is_floating_point]
            return float(sum(_np.sum(r.detach().cpu().numpy() * w) for r, w in zip(res, weights)))

    for x in inputs:
        if isinstance(x, Tensor):
            x.grad = None
    total = None
    for o, w in zip(outs, weights):
        term = (o * tensor(w, dtype=o.dtype, device=o.device)).sum()
        total = term if total is None else total + term
    if total is None:
        raise ValueError(f"[gradcheck] {name} produced no output that requires grad")
    total.backward()

    for i in diff:
        x = inputs[i]
        analytic = _np.zeros(x.shape) if x.grad is None else x.grad.detach().cpu().numpy()
        base = x.detach().cpu().numpy().astype(_np.float64)
        numeric = _np.zeros_like(base)
        flat = base.reshape(-1)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = objective(*_replace(inputs, i, tensor(base, dtype=x.dtype, device=x.device)))
            flat[k] = orig - eps
            minus = objective(*_replace(inputs, i, tensor(base, dtype=x.dtype, device=x.device)))
            flat[k] = orig
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        bad = ~_np.isclose(analytic, numeric, atol=atol, rtol=rtol)
        if bad.any():
            idx = tuple(int(j) for j in _np.argwhere(bad)[0])
            raise AssertionError(
                f"[gradcheck] {name}: gradient of input {i} differs at index {idx}: analytic "
                f"{analytic[idx]:.8g}, numeric {numeric[idx]:.8g} "
                f"({int(bad.sum())} of {bad.size} elements differ)"
            )
    return True


def _replace(seq, i, value):
    out = list(seq)
    out[i] = value
    return out
