"""Module parity helper: copy a torch module's state into the mytensor twin, run forward and
backward on the same input in both, compare outputs, input grads, parameter grads and buffers."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import torch


def state_to_numpy(module: torch.nn.Module) -> dict:
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def check_module(
    mt_module,
    torch_module,
    x: np.ndarray,
    device: str = "cpu",
    atol=1e-5,
    rtol=1e-4,
    train: bool = True,
    steps: int = 1,
    target=None,
):
    """Returns (mt output, torch output) of the last step after checking everything."""
    mt_module.load_state_dict(state_to_numpy(torch_module))
    mt_module.to(device)
    mt_module.train(train)
    torch_module.train(train)
    rng = np.random.default_rng(7)
    for step in range(steps):
        mx = mt.tensor(x, device=device, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        mo = mt_module(mx) if target is None else mt_module(mx, mt.tensor(target, device=device))
        to = torch_module(tx) if target is None else torch_module(tx, torch.tensor(target))
        np.testing.assert_allclose(
            mo.detach().cpu().numpy(),
            to.detach().numpy(),
            atol=atol,
            rtol=rtol,
            err_msg=f"output, step {step}",
        )
        upstream = rng.standard_normal(tuple(to.shape)).astype(x.dtype)
        (mo * mt.tensor(upstream, device=device)).sum().backward()
        (to * torch.tensor(upstream)).sum().backward()
        np.testing.assert_allclose(
            mx.grad.cpu().numpy(),
            tx.grad.numpy(),
            atol=atol * 10,
            rtol=rtol * 10,
            err_msg=f"input grad, step {step}",
        )
    mt_params = dict(mt_module.named_parameters())
    for name, tp in torch_module.named_parameters():
        mp = mt_params[name]
        assert (mp.grad is None) == (tp.grad is None), name
        if tp.grad is not None:
            np.testing.assert_allclose(
                mp.grad.cpu().numpy(),
                tp.grad.numpy(),
                atol=atol * 10,
                rtol=rtol * 10,
                err_msg=f"grad of {name}",
            )
    mt_buffers = dict(mt_module.named_buffers())
    for name, tb in torch_module.named_buffers():
        np.testing.assert_allclose(
            mt_buffers[name].cpu().numpy(),
            tb.numpy(),
            atol=atol,
            rtol=rtol,
            err_msg=f"buffer {name}",
        )
    return mo, to
