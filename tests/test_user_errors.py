"""Wrong programs users really write: each raises a typed exception at the line that made the
mistake, naming the op and the offending shapes/dtypes/devices (with a hint where one helps), and
none crashes the interpreter. Op-level error rows live in tests/ops/test_errors*.py; these are
whole small programs (model + data + loss + optimizer + checkpoint mistakes)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import mytensor as mt
import numpy as np
import pytest

F = mt.nn.functional


# ---- the programs -----------------------------------------------------------------------------
def linear_after_flatten_wrong_in_features():
    model = mt.nn.Sequential(
        mt.nn.Conv2d(3, 8, 3), mt.nn.ReLU(), mt.nn.Flatten(), mt.nn.Linear(8 * 32 * 32, 10)
    )  # forgot the conv shrinks 32 -> 30
    model(mt.randn(2, 3, 32, 32))


def matmul_inner_dims():
    x, w = mt.randn(4, 3), mt.randn(5, 2)
    return x @ w


def matmul_batch_dims():
    return mt.randn(2, 4, 3) @ mt.randn(3, 3, 5)


def linear_int_input():
    mt.nn.Linear(3, 2)(mt.tensor([[1, 2, 3]]))  # forgot .float()


def conv2d_channel_mismatch():
    mt.nn.Conv2d(3, 16, 3)(mt.randn(2, 1, 28, 28))  # grayscale into an RGB model


def conv2d_unbatched_wrong():
    mt.nn.Conv2d(3, 16, 3)(mt.randn(32, 32, 3))  # HWC instead of CHW


def conv2d_kernel_larger_than_input():
    mt.nn.Conv2d(3, 8, 5)(mt.randn(1, 3, 3, 3))


def maxpool_window_too_large():
    mt.nn.MaxPool2d(4)(mt.randn(1, 8, 2, 2))  # one pooling too many


def avgpool_window_too_large():
    F.avg_pool2d(mt.randn(1, 8, 3, 3), 4)


def batchnorm_channel_mismatch():
    mt.nn.BatchNorm2d(16)(mt.randn(2, 8, 4, 4))


def batchnorm_single_sample_training():
    mt.nn.BatchNorm1d(4)(mt.randn(1, 4))


def cross_entropy_target_out_of_range():
    F.cross_entropy(mt.randn(4, 10), mt.tensor([0, 1, 2, 10]))  # labels 1..10, not 0..9


def cross_entropy_float_target():
    F.cross_entropy(mt.randn(4, 10), mt.tensor([0.0, 1.0, 2.0, 3.0]))


def cross_entropy_target_shape():
    F.cross_entropy(mt.randn(4, 10), mt.tensor([0, 1, 2]))  # last batch dropped one label


def cross_entropy_one_hot_int_target():
    F.cross_entropy(mt.randn(4, 10), mt.zeros(4, 10, dtype=mt.int64))


def cat_mismatch():
    mt.cat([mt.randn(2, 3), mt.randn(2, 4)], dim=0)  # meant dim=1


def cat_bad_dim():
    mt.cat([mt.randn(2, 3), mt.randn(2, 3)], dim=2)


def stack_mismatch():
    mt.stack([mt.randn(2, 3), mt.randn(3, 2)])


def view_non_contiguous():
    mt.randn(2, 3).t().view(-1)  # reshape() would copy


def broadcast_failure():
    return mt.randn(4, 3) + mt.randn(4)  # meant x + b[:, None]


def softmax_bad_dim():
    mt.randn(2, 3).softmax(dim=2)


def sum_bad_dim():
    mt.randn(2, 3).sum(dim=-3)


def flatten_bad_dim():
    mt.randn(2, 3).flatten(3)


def index_out_of_range():
    return mt.randn(2, 3)[:, 3]


def negative_index_out_of_range():
    return mt.randn(2, 3)[-3]


def requires_grad_on_int():
    mt.tensor([1, 2, 3], requires_grad=True)


def mean_of_int():
    mt.tensor([1, 2, 3]).mean()  # e.g. accuracy = (pred == y).long().mean()


def index_select_float_index():
    idx = mt.tensor([0.0, 2.0])  # computed with a division
    mt.index_select(mt.randn(5, 3), 0, idx)


def getitem_float_index():
    return mt.randn(5, 3)[mt.tensor([0.0, 1.0])]


def index_select_out_of_range():
    mt.index_select(mt.randn(5, 3), 0, mt.tensor([0, 7]))


def backward_twice():
    x = mt.randn(3, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    loss.backward()


def backward_without_requires_grad():
    w = mt.randn(3)  # forgot requires_grad=True
    (w * 2).sum().backward()


def backward_non_scalar():
    (mt.randn(3, requires_grad=True) * 2).backward()


def inplace_on_saved_tensor():
    w = mt.randn(3, requires_grad=True)
    x = mt.randn(3)
    loss = (w * x).sum()  # Mul saves x
    x.mul_(2)  # ... which is then normalised in place
    loss.backward()


def inplace_under_no_grad_on_saved_output():
    x = mt.randn(3, requires_grad=True)
    y = x.exp()  # Exp saves its output
    with mt.no_grad():
        y.mul_(2)
    y.sum().backward()


def inplace_on_leaf():
    w = mt.randn(3, requires_grad=True)
    w.sub_(0.1)  # a hand-written SGD step outside mt.no_grad()


def numpy_of_requires_grad():
    mt.randn(2, requires_grad=True).numpy()


def item_of_vector():
    mt.randn(3).item()


def optimizer_no_parameters():
    mt.optim.SGD([], lr=0.1)


def optimizer_negative_lr():
    mt.optim.SGD(mt.nn.Linear(2, 2).parameters(), lr=-0.1)


def adam_bad_beta():
    mt.optim.Adam(mt.nn.Linear(2, 2).parameters(), betas=(0.9, 1.5))


def optimizer_given_a_tensor():
    mt.optim.SGD(mt.randn(2, requires_grad=True), lr=0.1)


def _linear_state():
    return mt.nn.Linear(3, 2).state_dict()


def load_state_dict_missing_key():
    sd = _linear_state()
    del sd["bias"]
    mt.nn.Linear(3, 2).load_state_dict(sd)


def load_state_dict_extra_key():
    mt.nn.Linear(3, 2).load_state_dict({**_linear_state(), "scale": mt.ones(1)})


def load_state_dict_wrong_shape():
    mt.nn.Linear(2, 3).load_state_dict(_linear_state())  # in/out swapped


def load_state_dict_prefixed_keys():
    sd = {f"module.{k}": v for k, v in _linear_state().items()}  # saved from a wrapper
    mt.nn.Linear(3, 2).load_state_dict(sd)


def dropout_bad_p():
    mt.nn.Dropout(1.5)


def device_typo():
    mt.randn(2, device="gpu")


CASES = [
    # (program, exception type, regex the message must match)
    (
        linear_after_flatten_wrong_in_features,
        mt.ShapeError,
        r"\[Linear\] .*in_features = 8192, got shape \(2, 7200\).*use Linear\(7200, 10\)",
    ),
    (
        matmul_inner_dims,
        mt.ShapeError,
        r"\[matmul\] inner dims differ: a is \(4, 3\), b is \(5, 2\)",
    ),
    (
        matmul_batch_dims,
        mt.ShapeError,
        r"\[matmul\] batch dims \(2,\) and \(3,\) cannot be broadcast.*\(2, 4, 3\).*\(3, 3, 5\)",
    ),
    (linear_int_input, mt.DTypeError, r"\[linear\] .*got input int64 .*convert with \.float\(\)"),
    (
        conv2d_channel_mismatch,
        mt.ShapeError,
        r"\[Conv2d\] expected input \(N, 3, H, W\), got shape \(2, 1, 28, 28\)",
    ),
    (conv2d_unbatched_wrong, mt.ShapeError, r"\[Conv2d\] expected input .*got shape \(32, 32, 3\)"),
    (
        conv2d_kernel_larger_than_input,
        mt.ShapeError,
        r"\[conv2d\] kernel \(5, 5\) is larger than the padded input \(3, 3\)",
    ),
    (
        maxpool_window_too_large,
        mt.ShapeError,
        r"\[max_pool2d\] kernel \(4, 4\) is larger than the padded input \(2, 2\)",
    ),
    (
        avgpool_window_too_large,
        mt.ShapeError,
        r"\[avg_pool2d\] kernel \(4, 4\) is larger than the padded input \(3, 3\)",
    ),
    (
        batchnorm_channel_mismatch,
        mt.ShapeError,
        r"\[BatchNorm2d\] expected 16 channels in dim 1, got input of shape \(2, 8, 4, 4\)",
    ),
    (
        batchnorm_single_sample_training,
        ValueError,
        r"\[batch_norm\] Expected more than 1 value per channel when training.*\(1, 4\)",
    ),
    (
        cross_entropy_target_out_of_range,
        IndexError,
        r"\[cross_entropy\] target 10 is out of bounds for 10 classes",
    ),
    (
        cross_entropy_float_target,
        mt.DTypeError,
        r"\[cross_entropy\] class-index targets must be int64, got float32",
    ),
    (
        cross_entropy_target_shape,
        mt.ShapeError,
        r"\[cross_entropy\] expected target of shape \(4,\) for logits of shape \(4, 10\), "
        r"got target of shape \(3,\)",
    ),
    (
        cross_entropy_one_hot_int_target,
        mt.ShapeError,
        r"\[cross_entropy\] expected target of shape \(4,\).*got target of shape \(4, 10\)",
    ),
    (
        cat_mismatch,
        mt.ShapeError,
        r"\[cat\] sizes must match except in dim 0: tensor 0 has shape \(2, 3\), "
        r"tensor 1 has shape \(2, 4\)",
    ),
    (cat_bad_dim, IndexError, r"\[cat\] dim 2 is out of range for a tensor with 2 dimensions"),
    (stack_mismatch, mt.ShapeError, r"\[stack\] .*\(2, 3\) at entry 0 and \(3, 2\) at entry 1"),
    (
        view_non_contiguous,
        mt.ShapeError,
        r"\[view\] a tensor of shape \(3, 2\) with strides \(1, 3\) cannot be viewed as \(6,\).*"
        r"use reshape\(\) or contiguous\(\)",
    ),
    (
        broadcast_failure,
        mt.ShapeError,
        r"\[add\] shapes \(4, 3\) and \(4,\) cannot be broadcast together \(dim 1: 3 vs 4\)",
    ),
    (softmax_bad_dim, IndexError, r"\[softmax\] dim 2 is out of range .*\[-2, 1\]"),
    (sum_bad_dim, IndexError, r"\[sum\] dim -3 is out of range .*2 dimensions"),
    (flatten_bad_dim, IndexError, r"\[flatten\] dim 3 is out of range .*2 dimensions"),
    (index_out_of_range, IndexError, r"\[select\] index 3 is out of bounds for dim 1 with size 3"),
    (
        negative_index_out_of_range,
        IndexError,
        r"\[select\] index -3 is out of bounds for dim 0 with size 2",
    ),
    (
        requires_grad_on_int,
        RuntimeError,
        r"\[requires_grad_\] only floating point tensors can require gradients, got .*int64",
    ),
    (
        mean_of_int,
        mt.DTypeError,
        r"\[mean\] input dtype must be floating point, got int64.*\.float\(\)",
    ),
    (
        index_select_float_index,
        mt.DTypeError,
        r"\[index_select\] expected index of dtype int64 or int32, got float32",
    ),
    (getitem_float_index, IndexError, r"\[getitem\] .*must be integer or bool, got .*float32"),
    (
        index_select_out_of_range,
        IndexError,
        r"\[index_select\] index 7 is out of range for dim 0 of size 5",
    ),
    (
        backward_twice,
        RuntimeError,
        r"\[Sum\] Trying to backward through the graph a second time.*"
        r"retain_graph=True",
    ),
    (
        backward_without_requires_grad,
        RuntimeError,
        r"\[backward\] this tensor does not require grad and has no grad_fn.*requires_grad=True",
    ),
    (
        backward_non_scalar,
        RuntimeError,
        r"\[backward\] grad can be implicitly created only for scalar outputs.*shape \(3,\)",
    ),
    (
        inplace_on_saved_tensor,
        RuntimeError,
        r"\[Mul\] .*modified by an in-place operation: saved tensor 1 of shape \(3,\) is at "
        r"version (\d+); expected version (?!\1)\d+",
    ),
    (
        inplace_under_no_grad_on_saved_output,
        RuntimeError,
        r"\[Exp\] .*modified by an in-place operation.*version \d+; expected version \d+.*clone\(\)",  # noqa: E501
    ),
    (
        inplace_on_leaf,
        RuntimeError,
        r"\[sub_\] a leaf Variable that requires grad.*mt\.no_grad\(\)",
    ),
    (numpy_of_requires_grad, RuntimeError, r"\[numpy\] .*requires grad.*detach\(\)\.numpy\(\)"),
    (item_of_vector, ValueError, r"\[item\] a tensor with 3 elements.*shape \(3,\)"),
    (optimizer_no_parameters, ValueError, r"optimizer got an empty parameter list"),
    (optimizer_negative_lr, ValueError, r"Invalid learning rate: -0\.1"),
    (adam_bad_beta, ValueError, r"Invalid beta parameter at index 1: 1\.5"),
    (
        optimizer_given_a_tensor,
        TypeError,
        r"params argument given to the optimizer should be an iterable .*got Tensor",
    ),
    (
        load_state_dict_missing_key,
        RuntimeError,
        r"Error\(s\) in loading state_dict for Linear:\s+Missing key\(s\) in state_dict: \"bias\"",
    ),
    (load_state_dict_extra_key, RuntimeError, r"Unexpected key\(s\) in state_dict: \"scale\""),
    (
        load_state_dict_wrong_shape,
        RuntimeError,
        r"size mismatch for weight: copying a param with shape \(2, 3\) from checkpoint, "
        r"the shape in current model is \(3, 2\)",
    ),
    (
        load_state_dict_prefixed_keys,
        RuntimeError,
        r"Missing key\(s\) in state_dict: \"weight\", \"bias\".\s+Unexpected key\(s\) in "
        r"state_dict: \"module\.weight\", \"module\.bias\"",
    ),
    (
        dropout_bad_p,
        ValueError,
        r"\[Dropout\] dropout probability has to be between 0 and 1, "
        r"but got 1\.5",
    ),
    (device_typo, ValueError, r"\[device\] expected 'cpu' or 'cuda\[:N\]', got 'gpu'"),
]


@pytest.mark.parametrize("program, error, message", CASES, ids=[c[0].__name__ for c in CASES])
def test_wrong_program(program, error, message):
    with pytest.raises(error, match=message):
        program()


# ---- files: checkpoints and data ---------------------------------------------------------------
def _checkpoint(tmp_path) -> bytes:
    model = mt.nn.Linear(4, 3)
    opt = mt.optim.Adam(model.parameters())
    path = tmp_path / "good.safetensors"
    mt.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    return path.read_bytes()


def _truncate(data: bytes) -> bytes:
    return data[:-17]


def _corrupt_header(data: bytes) -> bytes:
    return data[:8] + b"#" * 16 + data[24:]  # a bad sector in the JSON header


def _empty(data: bytes) -> bytes:
    return b""


def _header_only(data: bytes) -> bytes:
    (n,) = np.frombuffer(data[:8], "<u8")
    return data[: 8 + int(n) // 2]  # killed while writing the header


FILE_CASES = [
    (
        _truncate,
        r"\[load\] ckpt\.safetensors is truncated: tensor .* ends at byte \d+ .*holds only",
    ),
    (_corrupt_header, r"\[load\] ckpt\.safetensors is corrupt: its header is not valid JSON"),
    (_empty, r"\[load\] ckpt\.safetensors is truncated or not a safetensors file: 0 bytes"),
    (
        _header_only,
        r"\[load\] ckpt\.safetensors is truncated or not a safetensors file: "
        r"the header claims \d+ bytes",
    ),
]


@pytest.mark.parametrize("damage, message", FILE_CASES, ids=[c[0].__name__[1:] for c in FILE_CASES])
def test_damaged_checkpoint(tmp_path, damage, message):
    path = tmp_path / "ckpt.safetensors"
    path.write_bytes(damage(_checkpoint(tmp_path)))
    with pytest.raises(ValueError, match=message):
        mt.load(path)


def _write_cifar(root) -> str:
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (20, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, 20).tolist(),
        }
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(batch, f)
    return folder


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda b: b[: len(b) // 2],
            r"\[CIFAR10\] .*data_batch_3 is truncated or corrupt.*download or "
            r"extract it again",
        ),
        (
            lambda b: pickle.dumps({b"data": np.zeros((20, 100), np.uint8), b"labels": [0] * 20}),
            r"\[CIFAR10\] data_batch_3 is corrupt: b'data' should be a uint8 array",
        ),
        (
            lambda b: pickle.dumps({b"data": np.zeros((20, 3072), np.uint8), b"labels": [11] * 20}),
            r"\[CIFAR10\] data_batch_3 is corrupt: labels must be integers in \[0, 10\)",
        ),
    ],
    ids=["truncated", "wrong_image_size", "bad_labels"],
)
def test_corrupted_cifar_batch(tmp_path, damage, message):
    folder = _write_cifar(tmp_path)
    path = os.path.join(folder, "data_batch_3")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(damage(data))
    with pytest.raises(RuntimeError, match=message):
        mt.data.datasets.CIFAR10(str(tmp_path), train=True)


# ---- devices ------------------------------------------------------------------------------------
@pytest.mark.skipif(mt.cuda.is_available(), reason="tests a build/machine without CUDA")
@pytest.mark.parametrize(
    "program, op",
    [
        (lambda: mt.randn(2, device="cuda"), r"(full|randn|empty)"),
        (lambda: mt.randn(2).cuda(), "to"),
        (lambda: mt.nn.Linear(2, 2).to("cuda"), "to"),
    ],
    ids=["create_on_cuda", "tensor_cuda", "module_to_cuda"],
)
def test_cuda_request_without_cuda(program, op):
    with pytest.raises(mt.DeviceError, match=rf"\[{op}\] .*(without CUDA|no CUDA device)"):
        program()


# ---- the interpreter survives --------------------------------------------------------------------
SURVIVOR = textwrap.dedent("""
    import mytensor as mt
    big = mt.zeros(2048, 2048)  # 16 MiB
    for bad in (lambda: mt.index_select(big, 1, mt.tensor([0, 5000])),
                lambda: big[:, 4096],
                lambda: big @ mt.ones(3, 3)):
        try:
            bad()
        except (IndexError, ValueError) as e:
            print(type(e).__name__, e)
    print("alive", float((big + 1).sum()))
    mt.index_select(big, 0, mt.tensor([2 ** 40]))  # uncaught: a traceback, not a crash
""")


def test_interpreter_survives_bad_index_on_large_tensor():
    proc = subprocess.run(
        [sys.executable, "-c", SURVIVOR], capture_output=True, text=True, timeout=120
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1, (proc.returncode, proc.stderr)  # < 0 would be a signal
    assert lines[0].startswith("IndexError [index_select] index 5000 is out of range for dim 1"), (
        lines
    )
    assert lines[1].startswith("IndexError [select] index 4096 is out of bounds for dim 1"), lines
    assert lines[2].startswith("ShapeError [matmul] inner dims differ"), lines
    assert lines[3] == f"alive {2048.0 * 2048.0}", lines
    assert "IndexError: [index_select] index 1099511627776 is out of range" in proc.stderr
