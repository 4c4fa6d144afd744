"""0-d inputs to every op that takes a dim, and empty tensors' contiguity (issue #10): the dim
check of a 0-d tensor accepts 0 and -1, and an op must not then index its empty shape (flip
crashed); a tensor with no elements is contiguous whatever its strides, as in PyTorch (SGD, Adam
and augment_images rejected empty tensors)."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
import torch

F = mt.nn.functional

# (id, fn(lib, x)) where lib is mytensor or torch and x the 0-d tensor 1.5 of that library.
ZERO_D_ROWS = [
    # the shape functions of issue #14
    ("split-0d", lambda m, x: x.split(1)[0]),
    ("chunk-0d", lambda m, x: x.chunk(1)[0]),
    ("unbind-0d", lambda m, x: x.unbind(0)[0]),
    ("narrow-0d", lambda m, x: x.narrow(0, 0, 1)),
    ("movedim-0d", lambda m, x: x.movedim(0, -1)),
    ("movedim-0d-out-of-range", lambda m, x: x.movedim(1, 0)),
    ("unflatten-0d", lambda m, x: x.unflatten(0, (1,))),
    ("roll-0d-flat", lambda m, x: x.roll(3)),
    ("roll-0d-dim", lambda m, x: x.roll(1, 0)),
    ("repeat-0d", lambda m, x: x.repeat(2, 3)),
    ("tile-0d", lambda m, x: x.tile((2,))),
    ("tril-0d", lambda m, x: x.tril()),
    ("flip-0", lambda m, x: x.flip(0)),
    ("flip-neg1", lambda m, x: x.flip(-1)),
    ("flip-none", lambda m, x: x.flip(())),
    ("flip-repeated", lambda m, x: x.flip((0, -1))),
    ("flip-out-of-range", lambda m, x: x.flip(1)),
    ("sum-0", lambda m, x: x.sum(0)),
    ("sum-neg1-keepdim", lambda m, x: x.sum(-1, keepdim=True)),
    ("sum-repeated", lambda m, x: x.sum((0, -1))),
    ("sum-out-of-range", lambda m, x: x.sum(1)),
    ("mean-0", lambda m, x: x.mean(0)),
    ("max-dim", lambda m, x: x.max(dim=0)[0]),
    ("max-dim-indices", lambda m, x: x.max(dim=0)[1]),
    ("min-dim", lambda m, x: x.min(dim=-1)[0]),
    ("amax", lambda m, x: x.amax(0)),
    ("amin", lambda m, x: x.amin(-1)),
    ("argmax", lambda m, x: x.argmax(0)),
    ("argmin", lambda m, x: x.argmin(-1)),
    ("logsumexp", lambda m, x: x.logsumexp(0)),
    ("softmax", lambda m, x: x.softmax(0)),
    ("log_softmax", lambda m, x: x.log_softmax(-1)),
    ("softmax-out-of-range", lambda m, x: x.softmax(1)),
    ("squeeze-0", lambda m, x: x.squeeze(0)),
    ("squeeze-out-of-range", lambda m, x: x.squeeze(1)),
    ("unsqueeze-0", lambda m, x: x.unsqueeze(0)),
    ("unsqueeze-neg1", lambda m, x: x.unsqueeze(-1)),
    ("unsqueeze-out-of-range", lambda m, x: x.unsqueeze(1)),
    ("transpose", lambda m, x: x.transpose(0, -1)),
    ("transpose-out-of-range", lambda m, x: x.transpose(0, 1)),
    ("t", lambda m, x: x.t()),
    ("mT", lambda m, x: x.mT),
    ("T", lambda m, x: x.T),
    ("flatten", lambda m, x: x.flatten(0, -1)),
    ("flatten-out-of-range", lambda m, x: x.flatten(1)),
    ("permute-none", lambda m, x: x.permute(())),
    ("permute-too-many", lambda m, x: x.permute(0)),
    ("expand", lambda m, x: x.expand(3)),
    ("reshape", lambda m, x: x.reshape(1, 1)),
    ("gather-0d-index", lambda m, x: m.gather(x, 0, m.tensor(0))),
    ("gather-out-of-range", lambda m, x: m.gather(x, 1, m.tensor(0))),
    ("index_select", lambda m, x: m.index_select(x, 0, m.tensor([0]))),
    ("index_select-two", lambda m, x: m.index_select(x, 0, m.tensor([0, 0]))),
    ("cat", lambda m, x: m.cat([x, x])),
    ("stack", lambda m, x: m.stack([x, x], -1)),
    ("stack-out-of-range", lambda m, x: m.stack([x], 1)),
    ("getitem-int", lambda m, x: x[0]),
    ("getitem-none", lambda m, x: x[None]),
    ("pad-nothing", lambda m, x: F.pad(x, ()) if m is mt else torch.nn.functional.pad(x, ())),
]


def _run(lib, fn):
    try:
        return fn(lib, lib.tensor(1.5)), None
    except Exception as e:  # noqa: BLE001 - compared with torch's outcome below
        return None, e


@pytest.mark.parametrize("fn", [r[1] for r in ZERO_D_ROWS], ids=[r[0] for r in ZERO_D_ROWS])
def test_zero_d_input_matches_torch(fn):
    """issue #10: mt.tensor(1.0).flip(0) crashed; every op taking a dim handles a 0-d input as
    PyTorch does (same result, or an error where PyTorch raises one: IndexError for a dim out of
    range)."""
    got, err = _run(mt, fn)
    want, want_err = _run(torch, fn)
    if want_err is not None:
        assert err is not None, f"torch raises {want_err!r}, mytensor returned {got}"
        if isinstance(want_err, IndexError):
            assert isinstance(err, IndexError), repr(err)
        return
    assert err is None, f"torch returns {want}, mytensor raised {err!r}"
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_flip_of_a_zero_d_tensor_is_a_copy():
    x = mt.tensor(1.0)
    y = x.flip(0)
    assert y.shape == () and y.item() == 1.0
    y.add_(1.0)
    assert x.item() == 1.0


def test_flip_of_a_zero_d_tensor_has_a_gradient():
    x = mt.tensor(2.0, requires_grad=True)
    (x.flip(0) * 3).backward()
    assert x.grad.item() == 3.0


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: mt.empty(0, 3).t(), (3, 0)),
        (lambda: mt.empty(2, 0, 3).permute(2, 0, 1), (3, 2, 0)),
        (lambda: mt.empty(4, 0)[::2], (2, 0)),
        (lambda: mt.empty(0, 5)[:, 1:], (0, 4)),
        (lambda: mt.ones(1, 3).expand(0, 3), (0, 3)),
    ],
)
def test_empty_tensors_are_contiguous(make, shape):
    """issue #10: an empty multi-dim view reported is_contiguous() == False; PyTorch says True."""
    x = make()
    assert x.shape == shape
    assert x.is_contiguous()
    c = x.contiguous()
    assert c.shape == shape and c.is_contiguous()
    assert x.reshape(-1).shape == (0,)
    assert x.clone().shape == shape


def test_torch_calls_empty_tensors_contiguous():
    assert torch.empty(0, 3).t().is_contiguous()
    assert torch.empty(2, 0, 3).permute(2, 0, 1).is_contiguous()


@pytest.mark.parametrize(
    "opt",
    [
        lambda ps: mt.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: mt.optim.Adam(ps, lr=0.1),
        lambda ps: mt.optim.AdamW(ps, lr=0.1),
    ],
    ids=["sgd", "adam", "adamw"],
)
def test_optimizer_steps_on_an_empty_parameter(device, opt):
    """issue #10: SGD/Adam rejected an empty (non-contiguously strided) parameter."""
    empty = mt.nn.Parameter(mt.empty(0, 3, device=device).t())
    full = mt.nn.Parameter(mt.ones(2, device=device))
    o = opt([empty, full])
    (empty.sum() + full.sum()).backward()
    o.step()
    o.step()
    assert empty.shape == (3, 0)
    assert full.detach().cpu().numpy().max() < 1.0


def test_augment_images_accepts_an_empty_data_set():
    """issue #10: an empty (N=0) image set with permuted strides was "not contiguous"."""
    images = mt.empty(0, 4, 4, 3, dtype=mt.uint8).permute(0, 3, 1, 2)
    assert images.is_contiguous()
    x, y = mt._C.augment_images(
        images._impl,
        mt.empty(0, dtype=mt.int64)._impl,
        mt.empty(0, dtype=mt.int64)._impl,
        mt.zeros(3)._impl,
        mt.ones(3)._impl,
        0,
        False,
        0,
        0,
    )
    assert list(x.shape) == [0, 3, 4, 4] and list(y.shape) == [0]
