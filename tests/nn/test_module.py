"""Module mechanics: registration, traversal, modes, devices, state dicts and their errors, repr."""

from __future__ import annotations

import inspect

import mytensor as mt
import numpy as np
import pytest
import torch
from mytensor import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.scale = nn.Parameter(mt.ones(1))
        self.register_buffer("counter", mt.zeros(1, dtype=mt.int64))
        self.register_buffer("scratch", mt.zeros(2), persistent=False)
        self.plain = 3  # neither parameter nor buffer


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 3)])
        self.shared = self.heads[0]  # the same module twice: listed once


def test_named_parameters_and_buffers():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale",
        "block.conv.weight",
        "block.bn.weight",
        "block.bn.bias",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
        "heads.1.bias",
    ]
    assert len(list(net.parameters())) == 8
    assert [n for n, _ in net.named_buffers()] == [
        "block.counter",
        "block.scratch",
        "block.bn.running_mean",
        "block.bn.running_var",
        "block.bn.num_batches_tracked",
    ]
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]
    # "shared" is a second name of heads[0]: a child of its own, listed once by named_modules.
    assert [type(m).__name__ for m in net.children()] == ["Block", "ModuleList", "Linear"]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "block",
        "block.conv",
        "block.bn",
        "heads",
        "heads.0",
        "heads.1",
    ]
    assert net.get_submodule("block.bn") is net.block.bn
    with pytest.raises(AttributeError, match="has no submodule 'nope'"):
        net.get_submodule("block.nope")


def test_state_dict_keys_match_torch_conventions():
    sd = Net().state_dict()
    assert list(sd) == [
        "block.scale",
        "block.counter",
        "block.conv.weight",
        "block.bn.weight",
        "block.bn.bias",
        "block.bn.running_mean",
        "block.bn.running_var",
        "block.bn.num_batches_tracked",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
        "heads.1.bias",
        "shared.weight",
        "shared.bias",
    ]
    assert "block.scratch" not in sd  # non-persistent
    assert sd["block.bn.num_batches_tracked"].dtype is mt.int64
    assert not sd["heads.0.weight"].requires_grad  # detached, sharing storage


def test_attribute_rules():
    net = Net()
    assert net.block.plain == 3
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        _ = net.missing
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        net.block.scale = mt.ones(1)
    net.block.counter = mt.ones(1, dtype=mt.int64)  # a buffer may be replaced by a tensor
    assert int(net.block.counter.item()) == 1
    del net.block.scale
    assert "block.scale" not in dict(net.named_parameters())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mt.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_train_eval_and_zero_grad():
    net = Net()
    assert net.training and net.block.bn.training
    net.eval()
    assert not net.training and not net.block.bn.training and not net.heads[1].training
    net.train()
    assert net.heads[1].training
    for p in net.parameters():
        p.grad = mt.ones_like(p)
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.numpy().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_to_keeps_parameter_objects():
    net = Net()
    params = list(net.parameters())
    opt = mt.optim.SGD(params, lr=0.1)
    net.to(mt.float64)
    assert list(net.parameters()) == params and opt.param_groups[0]["params"][0] is params[0]
    assert all(p.dtype is mt.float64 for p in net.parameters())
    assert net.block.counter.dtype is mt.int64  # integer buffers keep their dtype
    assert net.block.bn.running_mean.dtype is mt.float64
    net.float()
    assert params[0].dtype is mt.float32
    with pytest.raises(TypeError, match="only floating point dtypes"):
        net.to(mt.int32)


def test_load_state_dict_errors():
    net = Net()
    sd = {k: v.numpy() for k, v in net.state_dict().items()}
    bad = dict(sd)
    del bad["block.bn.bias"]
    bad["extra.weight"] = np.zeros(2, np.float32)
    bad["heads.1.weight"] = np.zeros((3, 5), np.float32)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(bad)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "block.bn.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert (
        "size mismatch for heads.1.weight: copying a param with shape (3, 5) from "
        "checkpoint, the shape in current model is (3, 4)."
    ) in msg
    del bad["heads.1.weight"]
    bad["heads.1.weight"] = sd["heads.1.weight"]
    result = net.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["block.bn.bias"] and result.unexpected_keys == ["extra.weight"]
    with pytest.raises(TypeError, match="value of 'heads.0.bias' is a str"):
        net.load_state_dict(dict(sd, **{"heads.0.bias": "oops"}))
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([1, 2])


def test_load_state_dict_copies_values_and_converts_dtype():
    net = Net()
    sd = {k: np.full(v.shape, 0.25, v.numpy().dtype) for k, v in net.state_dict().items()}
    sd["heads.1.bias"] = np.array([1, 2, 3], np.float64)
    net.load_state_dict(sd)
    assert net.heads[1].bias.dtype is mt.float32
    assert net.heads[1].bias.detach().numpy().tolist() == [1, 2, 3]
    assert net.block.bn.weight.requires_grad and net.block.bn.weight.is_leaf


# PyTorch added BatchNorm's keyword-only bias= (and its repr field) after 2.11.
TORCH_BN_BIAS = "bias" in inspect.signature(torch.nn.BatchNorm2d.__init__).parameters


def _torch_like_net(nn_):
    extra = [nn_.BatchNorm2d(2, bias=False)] if TORCH_BN_BIAS else []
    return nn_.Sequential(
        nn_.Conv2d(3, 32, 3, padding=1, bias=False),
        nn_.BatchNorm2d(32),
        nn_.ReLU(),
        nn_.MaxPool2d(2),
        nn_.AvgPool2d(2, 1),
        nn_.Dropout(0.1),
        nn_.AdaptiveAvgPool2d((2, 2)),
        nn_.Flatten(),
        nn_.Linear(128, 10),
        nn_.GELU(),
        nn_.Sigmoid(),
        nn_.Tanh(),
        nn_.Identity(),
        nn_.ModuleList([nn_.Linear(2, 2)]),
        nn_.CrossEntropyLoss(),
        nn_.BatchNorm1d(4, momentum=None, affine=False),
        *extra,
    )


def test_repr_matches_torch():
    ours = repr(_torch_like_net(nn))
    if not TORCH_BN_BIAS:
        ours = ours.replace(", bias=True, track", ", track").replace(
            ", bias=False, track", ", track"
        )
    assert ours == repr(_torch_like_net(torch.nn))


def test_sequential_and_module_list():
    seq = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    assert len(seq) == 3 and isinstance(seq[-1], nn.Sigmoid)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    seq.append(nn.Identity())
    del seq[0]
    assert [type(m).__name__ for m in seq] == ["Tanh", "Sigmoid", "Identity"]
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict([("act", nn.ReLU()), ("out", nn.Identity())]))
    assert [n for n, _ in named.named_children()] == ["act", "out"]
    ml = nn.ModuleList([nn.ReLU()])
    ml.append(nn.Tanh())
    ml.insert(0, nn.Identity())
    ml += [nn.Sigmoid()]
    assert [type(m).__name__ for m in ml] == ["Identity", "ReLU", "Tanh", "Sigmoid"]
    with pytest.raises(IndexError, match="index 7 is out of range for a ModuleList of 4"):
        ml[7]
    with pytest.raises(NotImplementedError, match="has no forward"):
        ml(mt.ones(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        nn.Sequential(3)


def test_parameter():
    p = nn.Parameter(mt.ones(2, 3))
    assert p.requires_grad and p.is_leaf and isinstance(p, mt.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert (p * 2).__class__ is mt.Tensor
    assert not nn.Parameter(mt.ones(1), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="only floating point tensors can require gradients"):
        nn.Parameter(mt.ones(2, dtype=mt.int64))


def test_apply_and_requires_grad():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and "Conv2d" in seen
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
