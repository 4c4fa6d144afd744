"""The CIFAR-10 example end to end on the CPU: a short training of the reference CNN on real
CIFAR-10 (--cifar-dir / MYTENSOR_CIFAR10_DIR) or, where absent, on a small learnable synthetic set
in the official file layout; the loss must fall and accuracy end far above chance. Plus resume,
output format and the comparison table."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import re
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                        "cifar10")


def _load(name: str):
    sys.path.insert(0, EXAMPLES)
    try:
        spec = importlib.util.spec_from_file_location(f"cifar10_{name}",
                                                      os.path.join(EXAMPLES, f"{name}.py"))
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


LINE = re.compile(r"^Epoch (\d+): train_loss=\d+\.\d{4}, train_acc=\d\.\d{4}, "
                  r"test_loss=\d+\.\d{4}, test_acc=\d\.\d{4}, train_time=\d+\.\d{2}s, "
                  r"eval_time=\d+\.\d{2}s, epoch_time=\d+\.\d{2}s$")


def test_training_learns(training_data, tmp_path, capsys):
    data_dir, real = training_data
    script = _load("train_cifar10")
    log = tmp_path / "log.json"
    flags = ["--data-dir", data_dir, "--device", "cpu", "--epochs", "2", "--batch-size", "64",
             "--lr", "1e-3", "--log-json", str(log), "--plot", str(tmp_path / "curves.png")]
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


def test_resume_continues_exactly(tmp_path, capsys):
    """Epoch 1, checkpoint, then epoch 2 from the checkpoint = two epochs in one go."""
    data_dir = write_synthetic_cifar(tmp_path / "d", n_train=320, n_test=64)
    script = _load("train_cifar10")
    base = ["--data-dir", data_dir, "--device", "cpu", "--batch-size", "64", "--subset", "192",
            "--threads", "1"]
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
    with pytest.raises(SystemExit):
        config.parse_args("x", "cpu", ["--epochs", "0"])
    mt_src = open(os.path.join(EXAMPLES, "train_cifar10.py")).read()
    pt_src = open(os.path.join(EXAMPLES, "train_cifar10_pytorch.py")).read()
    assert "config.parse_args(" in mt_src and "config.parse_args(" in pt_src
    assert "import torch" not in open(os.path.join(EXAMPLES, "config.py")).read()


def test_compare_table(tmp_path, capsys):
    compare = _load("compare")

    def log(device, times, accs):
        return {"device": device, "total_time": sum(times) + len(times),
                "epochs": [dict(epoch=i + 1, train_time=t, epoch_time=t + 1, test_acc=a)
                           for i, (t, a) in enumerate(zip(times, accs))]}

    paths = []
    for name, payload in [("m", log("cpu", [4.0, 2.0, 2.2], [0.5, 0.6, 0.7])),
                          ("p", log("cpu", [2.0, 1.0, 1.0], [0.55, 0.62, 0.69]))]:
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(payload))
    compare.main(["--only-table", str(paths[0]), str(paths[1])])
    out = capsys.readouterr().out
    assert "2.00x" in out and "total" in out and "0.7000" in out and "median 2.." in out
    assert compare.per_run(["--save", "c.st", "--plot=x.png", "--lr", "1"], "mytensor") == [
        "--save", "c-mytensor.st", "--plot=x-mytensor.png", "--lr", "1"]
