"""The CIFAR-10 example end to end on the CPU: a short training of the reference CNN on real
CIFAR-10 (--cifar-dir / MYTENSOR_CIFAR10_DIR) or, where absent, on a small learnable synthetic set
in the official file layout; the loss must fall and accuracy end far above chance. Plus resume,
output format, the comparison table, and the twin mode: both scripts start from the same weights,
see the same batches, and so train to the same losses."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import re
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "cifar10"
)


def _load(name: str):
    sys.path.insert(0, EXAMPLES)
    try:
        spec = importlib.util.spec_from_file_location(
            f"cifar10_{name}", os.path.join(EXAMPLES, f"{name}.py")
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(EXAMPLES)


def write_synthetic_cifar(root, n_train=1000, n_test=300, seed=0):
    """A learnable stand-in in the official layout: each class is a smooth random colour
    pattern (so crops and flips keep it recognisable) plus pixel noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (10, 3, 4, 4))
    templates = coarse.repeat(8, axis=2).repeat(8, axis=3)  # (10, 3, 32, 32), low frequency

    def make(n):
        labels = rng.integers(0, 10, n)
        images = templates[labels] * 0.7 + rng.uniform(0, 255 * 0.3, (n, 3, 32, 32))
        return images.clip(0, 255).astype(np.uint8).reshape(n, 3072), labels.tolist()

    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    per = n_train // 5
    for i in range(5):
        data, labels = make(per)
        with open(os.path.join(folder, f"data_batch_{i + 1}"), "wb") as f:
            pickle.dump({b"data": data, b"labels": labels}, f)
    data, labels = make(n_test)
    with open(os.path.join(folder, "test_batch"), "wb") as f:
        pickle.dump({b"data": data, b"labels": labels}, f)
    return str(root)


@pytest.fixture
def training_data(request, tmp_path):
    """(data dir, is_real): real CIFAR-10 when configured, else the synthetic set."""
    root = request.config.getoption("--cifar-dir")
    if root and os.path.isdir(os.path.join(root, "cifar-10-batches-py")):
        return root, True
    return write_synthetic_cifar(tmp_path / "synthetic", n_train=640, n_test=200), False


LINE = re.compile(
    r"^Epoch (\d+): train_loss=\d+\.\d{4}, train_acc=\d\.\d{4}, "
    r"test_loss=\d+\.\d{4}, test_acc=\d\.\d{4}, train_time=\d+\.\d{2}s, "
    r"eval_time=\d+\.\d{2}s, epoch_time=\d+\.\d{2}s$"
)


@pytest.mark.slow
def test_training_learns(training_data, tmp_path, capsys):
    data_dir, real = training_data
    script = _load("train_cifar10")
    log = tmp_path / "log.json"
    flags = [
        "--data-dir",
        data_dir,
        "--device",
        "cpu",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--lr",
        "1e-3",
        "--log-json",
        str(log),
        "--plot",
        str(tmp_path / "curves.png"),
    ]
    # Real data: 20 steps on 1280 images (about 30 s on 2 cores) reach ~35% (chance: 10%);
    # the synthetic set is easy enough to learn with augmentation on.
    flags += ["--subset", "1280", "--test-subset", "500", "--no-augment"] if real else []
    history = script.main(flags)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 3 and all(LINE.match(line) for line in out[:2]), out
    assert re.match(r"^Total training time: \d+\.\d{2}s$", out[2])
    first, last = history[0], history[-1]
    assert last["train_loss"] < first["train_loss"] - 0.2, history
    floor = 0.25 if real else 0.6
    assert last["train_acc"] > floor and last["test_acc"] > floor, history
    logged = json.loads(log.read_text())
    assert logged["framework"] == "mytensor" and len(logged["epochs"]) == 2
    assert (tmp_path / "curves.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.parametrize("mode", [[], ["--framework-rng"]], ids=["twin", "framework-rng"])
def test_resume_continues_exactly(tmp_path, capsys, mode):
    """Epoch 1, checkpoint, then epoch 2 from the checkpoint = two epochs in one go."""
    data_dir = write_synthetic_cifar(tmp_path / "d", n_train=320, n_test=64)
    script = _load("train_cifar10")
    base = [
        "--data-dir",
        data_dir,
        "--device",
        "cpu",
        "--batch-size",
        "64",
        "--subset",
        "192",
        "--threads",
        "1",
        *mode,
    ]
    straight = script.main(base + ["--epochs", "2"])
    ckpt = str(tmp_path / "ckpt.safetensors")
    script.main(base + ["--epochs", "1", "--save", ckpt])
    resumed = script.main(base + ["--epochs", "2", "--resume", ckpt])
    assert [r["epoch"] for r in resumed] == [1, 2]
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert resumed[1][key] == straight[1][key], key
    capsys.readouterr()


def test_missing_data_message(tmp_path, capsys):
    script = _load("train_cifar10")
    with pytest.raises(RuntimeError, match="dataset not found.*--download"):
        script.main(["--data-dir", str(tmp_path), "--device", "cpu"])


def test_flags_are_identical_in_both_scripts():
    config = _load("config")
    a = config.parse_args("x", "cpu", ["--subset", "10", "--optimizer", "sgd"])
    assert a.subset == 10 and a.optimizer == "sgd" and a.batch_size == 128 and a.lr == 1e-3
    assert a.framework_rng is False  # the twin mode is the default
    assert config.parse_args("x", "cpu", ["--framework-rng"]).framework_rng is True
    with pytest.raises(SystemExit):
        config.parse_args("x", "cpu", ["--epochs", "0"])
    with pytest.raises(SystemExit):
        config.parse_args("x", "cpu", ["--seed", "-1"])
    mt_src = open(os.path.join(EXAMPLES, "train_cifar10.py")).read()
    pt_src = open(os.path.join(EXAMPLES, "train_cifar10_pytorch.py")).read()
    assert "config.parse_args(" in mt_src and "config.parse_args(" in pt_src
    assert "import torch" not in open(os.path.join(EXAMPLES, "config.py")).read()


def test_compare_table(tmp_path, capsys):
    compare = _load("compare")

    def log(device, times, accs):
        return {
            "device": device,
            "total_time": sum(times) + len(times),
            "epochs": [
                dict(epoch=i + 1, train_time=t, epoch_time=t + 1, test_acc=a)
                for i, (t, a) in enumerate(zip(times, accs))
            ],
        }

    paths = []
    for name, payload in [
        ("m", log("cpu", [4.0, 2.0, 2.2], [0.5, 0.6, 0.7])),
        ("p", log("cpu", [2.0, 1.0, 1.0], [0.55, 0.62, 0.69])),
    ]:
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(payload))
    compare.main(["--only-table", str(paths[0]), str(paths[1])])
    out = capsys.readouterr().out
    assert "2.00x" in out and "total" in out and "0.7000" in out and "median 2.." in out
    assert "unknown RNG mode" in out  # logs without their flags
    mt_log, pt_log = (json.loads(p.read_text()) for p in paths)
    mt_log["args"] = pt_log["args"] = {"framework_rng": False, "seed": 3}
    assert "[shared init and data plan, seed 3]" in compare.table(mt_log, pt_log)
    pt_log["args"] = {"framework_rng": True, "seed": 3}
    assert "MISMATCHED" in compare.table(mt_log, pt_log)
    assert compare.per_run(["--save", "c.st", "--plot=x.png", "--lr", "1"], "mytensor") == [
        "--save",
        "c-mytensor.st",
        "--plot=x-mytensor.png",
        "--lr",
        "1",
    ]
    assert compare.per_run(["--framework-rng"], "pytorch") == ["--framework-rng"]


# ---- the twin mode: identical weights, identical batches ---------------------------------------
def test_initial_state_fits_both_frameworks():
    """config.initial_state has exactly the names, shapes and dtypes of both frameworks' state
    dicts, PyTorch's default distributions, and both scripts load it unchanged."""
    torch = pytest.importorskip("torch")
    import mytensor as mt

    config = _load("config")
    state = config.initial_state(0)
    pt_ref = config.build_model(torch.nn).state_dict()
    mt_ref = config.build_model(mt.nn).state_dict()
    assert list(state) == list(pt_ref) == list(mt_ref)
    for name, value in state.items():
        assert value.shape == tuple(pt_ref[name].shape) == tuple(mt_ref[name].shape), name
        assert str(value.dtype) == str(pt_ref[name].dtype).removeprefix("torch."), name
    for name, module in config.build_model(torch.nn).named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            bound = 1 / np.sqrt(module.weight[0].numel())  # 1 / sqrt(fan_in)
            w = state[f"{name}.weight"]
            assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound, name
            assert abs(w.mean()) < 0.1 * bound and abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound
    assert all(
        np.array_equal(a, b) for a, b in zip(state.values(), config.initial_state(0).values())
    )
    assert not np.array_equal(state["0.weight"], config.initial_state(1)["0.weight"])

    mt_script, pt_script = _load("train_cifar10"), _load("train_cifar10_pytorch")
    args = config.parse_args("x", "cpu", [])
    mt_state = mt_script.make_model(args, mt.device("cpu")).state_dict()
    pt_state = pt_script.make_model(args, torch.device("cpu")).state_dict()
    for name, value in state.items():
        np.testing.assert_array_equal(mt_state[name].numpy(), value, err_msg=name)
        np.testing.assert_array_equal(pt_state[name].numpy(), value, err_msg=name)
    # --framework-rng: each framework's own initialisation, so the two differ.
    args = config.parse_args("x", "cpu", ["--framework-rng"])
    own = mt_script.make_model(args, mt.device("cpu")).state_dict()["0.weight"].numpy()
    assert not np.array_equal(own, state["0.weight"])


@pytest.mark.parametrize("flags", [[], ["--no-augment"]], ids=["augment", "no-augment"])
def test_twin_loaders_yield_identical_batches(training_data, flags):
    """Epoch 1's first two training batches (and epoch 2's first) are the same tensors in both
    scripts; the plan changes from epoch to epoch."""
    torch = pytest.importorskip("torch")
    import mytensor as mt

    data_dir, _ = training_data
    config = _load("config")
    args = config.parse_args(
        "x",
        "cpu",
        ["--data-dir", data_dir, "--subset", "200", "--batch-size", "64", "--seed", "7", *flags],
    )
    mt_train, mt_test = _load("train_cifar10").load_data(args, mt.device("cpu"))
    pt_train, pt_test = _load("train_cifar10_pytorch").load_data(args, torch.device("cpu"))
    firsts = []
    for epoch in (1, 2):
        config.set_epoch_plan(mt_train, args, epoch)
        config.set_epoch_plan(pt_train, args, epoch)
        pairs = list(zip(mt_train, pt_train))[: 2 if epoch == 1 else 1]
        for (mx, my), (px, py) in pairs:
            assert tuple(mx.shape) == tuple(px.shape) == (64, 3, 32, 32)
            np.testing.assert_allclose(mx.numpy(), px.numpy(), rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(my.numpy(), py.numpy())
        firsts.append(pairs[0][0][1].numpy())
    assert not np.array_equal(firsts[0], firsts[1])  # a new order every epoch
    (mx, my), (px, py) = next(iter(mt_test)), next(iter(pt_test))
    np.testing.assert_allclose(mx.numpy(), px.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(my.numpy(), py.numpy())


def test_twin_runs_train_alike(training_data, capsys):
    """Same weights and batches: one short epoch gives the same losses in both frameworks, up
    to floating-point differences (a few 1e-4 here; different seeds differ by ~1e-1)."""
    pytest.importorskip("torch")
    data_dir, _ = training_data
    flags = [
        "--data-dir",
        data_dir,
        "--device",
        "cpu",
        "--epochs",
        "1",
        "--subset",
        "256",
        "--test-subset",
        "128",
        "--batch-size",
        "64",
    ]
    mt_run = _load("train_cifar10").main(flags)[0]
    pt_run = _load("train_cifar10_pytorch").main(flags)[0]
    assert abs(mt_run["train_loss"] - pt_run["train_loss"]) < 0.01, (mt_run, pt_run)
    assert abs(mt_run["test_loss"] - pt_run["test_loss"]) < 0.02, (mt_run, pt_run)
    capsys.readouterr()
