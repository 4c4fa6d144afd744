"""Every layer against its torch.nn twin: same weights (through load_state_dict), same input;
outputs, input and parameter gradients and buffers compared; constructor checks."""

from __future__ import annotations

import inspect

import mytensor as mt
import numpy as np
import pytest
import torch
from mytensor import nn

from tests.nn.parity import check_module, state_to_numpy


def _x(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize(
    "args,kwargs,shape",
    [
        ((5, 3), {}, (4, 5)),
        ((5, 3), {"bias": False}, (2, 6, 5)),
        ((7, 1), {}, (7,)),
    ],
)
def test_linear(args, kwargs, shape, device):
    check_module(nn.Linear(*args, **kwargs), torch.nn.Linear(*args, **kwargs), _x(*shape), device)


@pytest.mark.parametrize(
    "args,kwargs,shape",
    [
        ((3, 4, 3), {"padding": 1, "bias": False}, (2, 3, 8, 8)),
        ((2, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0)}, (1, 2, 7, 6)),
        ((4, 4, 3), {"dilation": 2, "groups": 2, "padding": 2}, (2, 4, 9, 9)),
        ((3, 5, 3), {"padding": "same"}, (1, 3, 6, 5)),
        ((3, 5, 1), {"padding": "valid"}, (1, 3, 4, 4)),
    ],
)
def test_conv2d(args, kwargs, shape, device):
    check_module(
        nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs), _x(*shape), device, atol=1e-4
    )


@pytest.mark.parametrize(
    "cls,shape,kwargs",
    [
        ("BatchNorm2d", (4, 3, 5, 5), {}),
        ("BatchNorm2d", (2, 3, 4, 4), {"momentum": None}),
        ("BatchNorm2d", (3, 2, 3, 3), {"affine": False, "eps": 1e-3}),
        ("BatchNorm1d", (8, 5), {"momentum": 0.3}),
        ("BatchNorm1d", (4, 3, 6), {}),
        ("BatchNorm1d", (6, 4), {"track_running_stats": False}),
        pytest.param(
            "BatchNorm2d",
            (2, 3, 2, 2),
            {"bias": False},
            marks=pytest.mark.skipif(
                "bias" not in inspect.signature(torch.nn.BatchNorm2d.__init__).parameters,
                reason="this PyTorch's BatchNorm has no bias= argument (added after 2.11)",
            ),
        ),
    ],
)
def test_batchnorm_train_then_eval(cls, shape, kwargs, device):
    c = shape[1]
    mt_bn, th_bn = getattr(nn, cls)(c, **kwargs), getattr(torch.nn, cls)(c, **kwargs)
    # Three training steps update the running stats; then eval normalises with them.
    check_module(mt_bn, th_bn, _x(*shape) * 2 + 1, device, steps=3)
    for i in range(3):
        x = _x(*shape, seed=i + 10)
        mo = mt_bn.eval()(mt.tensor(x, device=device))
        to = th_bn.eval()(torch.tensor(x))
        np.testing.assert_allclose(
            mo.detach().cpu().numpy(), to.detach().numpy(), atol=1e-5, rtol=1e-4
        )
    if kwargs.get("track_running_stats", True):
        assert int(mt_bn.num_batches_tracked.item()) == 3
        np.testing.assert_allclose(
            mt_bn.running_var.cpu().numpy(), th_bn.running_var.numpy(), rtol=1e-5
        )


def test_batchnorm_eval_backward(device):
    bn, tbn = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        tbn.running_mean.uniform_(-1, 1)
        tbn.running_var.uniform_(0.5, 2)
        tbn.weight.uniform_(0.5, 2)
    check_module(bn, tbn, _x(2, 3, 4, 4), device, train=False)


@pytest.mark.parametrize(
    "mt_layer,th_layer",
    [
        (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
        (lambda: nn.GELU(), lambda: torch.nn.GELU()),
        (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
        (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
        (lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2)),
        (lambda: nn.MaxPool2d(3, stride=2, padding=1), lambda: torch.nn.MaxPool2d(3, 2, 1)),
        (lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2)),
        (
            lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
            lambda: torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
        ),
        (lambda: nn.AdaptiveAvgPool2d(1), lambda: torch.nn.AdaptiveAvgPool2d(1)),
        (lambda: nn.AdaptiveAvgPool2d((3, 2)), lambda: torch.nn.AdaptiveAvgPool2d((3, 2))),
        (lambda: nn.Flatten(), lambda: torch.nn.Flatten()),
        (lambda: nn.Flatten(0, 2), lambda: torch.nn.Flatten(0, 2)),
        (lambda: nn.Identity(54), lambda: torch.nn.Identity(54)),
        (lambda: nn.Dropout(0.0), lambda: torch.nn.Dropout(0.0)),
    ],
    ids=lambda f: repr(f()) if callable(f) else "",
)
def test_parameter_free_layers(mt_layer, th_layer, device):
    check_module(mt_layer(), th_layer(), _x(2, 3, 7, 6), device)


def test_dropout():
    x = mt.ones(4000)
    d = nn.Dropout(0.25)
    y = d(x).numpy()
    kept = y != 0
    assert 0.70 < kept.mean() < 0.80
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert d.eval()(x) is x or np.array_equal(d(x).numpy(), x.numpy())


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"label_smoothing": 0.1},
        {"reduction": "sum"},
        {"reduction": "none"},
        {"ignore_index": 2},
    ],
)
def test_cross_entropy_loss(kwargs, device):
    target = np.array([0, 2, 4, 2, 1], np.int64)
    check_module(
        nn.CrossEntropyLoss(**kwargs),
        torch.nn.CrossEntropyLoss(**kwargs),
        _x(5, 5),
        device,
        target=target,
    )


def test_sequential_and_modulelist_parity(device):
    def build(nn_):
        return nn_.Sequential(
            nn_.Conv2d(3, 4, 3, padding=1, bias=False),
            nn_.BatchNorm2d(4),
            nn_.ReLU(),
            nn_.MaxPool2d(2),
            nn_.Flatten(),
            nn_.Linear(36, 5),
        )

    torch.manual_seed(0)
    check_module(build(nn), build(torch.nn), _x(3, 3, 6, 6), device, atol=1e-4, steps=2)


def test_linear_after_flatten_hints_in_features():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(100, 10))
    with pytest.raises(
        mt.ShapeError,
        match=r"in_features = 100, got shape \(2, 288\).*"
        r"Linear\(288, 10\)",
    ):
        model(mt.zeros(2, 3, 8, 8))


@pytest.mark.parametrize(
    "make,fragment",
    [
        (lambda: nn.Linear(0, 3), "in_features must be a positive integer, got 0"),
        (lambda: nn.Linear(3, -1), "out_features must be a positive integer, got -1"),
        (lambda: nn.Conv2d(3, 4, 0), r"kernel_size must be positive, got \(0, 0\)"),
        (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
        (lambda: nn.Conv2d(4, 6, 3, groups=4), "out_channels must be divisible by groups"),
        (lambda: nn.Conv2d(3, 4, 3, stride=0), r"stride must be positive, got \(0, 0\)"),
        (lambda: nn.Conv2d(3, 4, 3, padding=-1), r"padding must be non-negative, got \(-1, -1\)"),
        (lambda: nn.Conv2d(3, 4, 3, padding="full"), "invalid padding string 'full'"),
        (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), "not supported for strided"),
        (lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"), "padding_mode='reflect'"),
        (lambda: nn.BatchNorm2d(0), "num_features must be a positive integer, got 0"),
        (lambda: nn.BatchNorm2d(3, eps=0), "eps must be positive, got 0"),
        (lambda: nn.BatchNorm2d(3, momentum=1.5), r"momentum must be in \[0, 1\] or None, got 1.5"),
        (lambda: nn.Dropout(1.5), "between 0 and 1, but got 1.5"),
        (lambda: nn.MaxPool2d(2, padding=2), "padding should be at most half of the kernel size"),
        (lambda: nn.MaxPool2d(0), "kernel_size and stride must be positive"),
        (lambda: nn.MaxPool2d(2, dilation=2), "dilation=2 is not supported"),
        (lambda: nn.AvgPool2d(2, ceil_mode=True), "ceil_mode=True"),
        (lambda: nn.AdaptiveAvgPool2d(0), "output_size must be a positive int"),
        (lambda: nn.GELU("fast"), "approximate must be 'none' or 'tanh', got 'fast'"),
        (lambda: nn.CrossEntropyLoss(reduction="avg"), "'avg' is not a valid value for reduction"),
        (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), "label_smoothing must be between"),
        (lambda: nn.CrossEntropyLoss(weight=mt.ones(3)), "class weights"),
    ],
)
def test_constructor_checks(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()


@pytest.mark.parametrize(
    "layer,x,fragment",
    [
        (lambda: nn.Conv2d(3, 4, 3), mt.zeros(1, 2, 5, 5), r"expected input \(N, 3, H, W\)"),
        (lambda: nn.BatchNorm2d(3), mt.zeros(2, 3, 4), "expected 4D input, got 3D input"),
        (lambda: nn.BatchNorm1d(3), mt.zeros(2, 4), "expected 3 channels in dim 1"),
    ],
)
def test_forward_shape_checks(layer, x, fragment):
    with pytest.raises(mt.ShapeError, match=fragment):
        layer()(x)


@pytest.mark.parametrize(
    "make",
    [
        lambda nn_: nn_.Linear(300, 200),
        lambda nn_: nn_.Linear(10, 5, bias=False),
        lambda nn_: nn_.Conv2d(64, 128, 3),
        lambda nn_: nn_.Conv2d(8, 16, (5, 3), groups=4),
        lambda nn_: nn_.BatchNorm2d(7),
        lambda nn_: nn_.BatchNorm1d(5, affine=False),
    ],
)
def test_default_init_matches_torch(make):
    """Same keys, shapes and dtypes; weights and biases from PyTorch's distribution:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ with a=sqrt(5)); BN ones and zeros."""
    ours, theirs = make(nn), make(torch.nn)
    ts, ms = theirs.state_dict(), ours.state_dict()
    assert list(ms) == list(ts)
    fan_in = None
    if "weight" in ts and ts["weight"].ndim >= 2:
        w = ts["weight"]
        fan_in = w.shape[1] * int(np.prod(w.shape[2:]))
    for k in ts:
        assert ms[k].shape == tuple(ts[k].shape), k
        assert ms[k].dtype.name == str(ts[k].dtype).replace("torch.", ""), k
        a = ms[k].numpy().astype(np.float64)
        if fan_in is None:  # batch norm: deterministic
            np.testing.assert_array_equal(a, ts[k].numpy(), err_msg=k)
            continue
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(a).max() <= bound, k
        if a.size >= 100:
            assert np.abs(a).max() > 0.9 * bound, k
            assert abs(a.std() - bound / np.sqrt(3)) < 0.1 * bound / np.sqrt(3), k
            assert abs(a.mean()) < 0.1 * bound, k


def test_state_dict_round_trip_with_torch():
    """A PyTorch state dict (as NumPy) loads into the twin, and the twin's loads back."""
    torch.manual_seed(0)
    build = lambda nn_: nn_.Sequential(  # noqa: E731
        nn_.Conv2d(3, 4, 3),
        nn_.BatchNorm2d(4),  # noqa: E731
        nn_.Flatten(),
        nn_.Linear(4, 2),
    )
    ours, theirs = build(nn), build(torch.nn)
    theirs[1].running_mean.fill_(0.5)
    theirs[1].num_batches_tracked.fill_(7)
    ours.load_state_dict(state_to_numpy(theirs))
    assert int(ours[1].num_batches_tracked.item()) == 7
    back = build(torch.nn)
    back.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    )
    for (k, a), b in zip(theirs.state_dict().items(), back.state_dict().values()):
        assert torch.equal(a, b), k
    ours.load_state_dict(theirs.state_dict())  # torch tensors are accepted as they are
