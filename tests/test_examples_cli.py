"""The command line of the CIFAR-10 examples (examples/cifar10), as a user meets it (issue #11):
compare.py --help, defaults in --help, --subset limiting the evaluation too, --resume refusing
checkpoints that cannot continue the run, a failed download, and checkpoints written atomically.
CPU only, on a few synthetic images in the official layout; nothing is downloaded."""

from __future__ import annotations

import os
import urllib.error

import pytest

from tests.test_train_cifar10 import _load, write_synthetic_cifar

TWINS = ["train_cifar10", "train_cifar10_pytorch"]


@pytest.fixture
def twin(request):
    if request.param == "train_cifar10_pytorch":
        pytest.importorskip("torch")
    return _load(request.param)


def _device(script):
    if script.FRAMEWORK == "pytorch":
        import torch

        return torch.device("cpu")
    import mytensor as mt

    return mt.device("cpu")


@pytest.fixture
def data_dir(tmp_path):
    return write_synthetic_cifar(tmp_path / "data", n_train=50, n_test=40)


# ---- --help -------------------------------------------------------------------------------------
def test_compare_help_prints_its_own_help(capsys):
    """issue #11: compare.py --help passed --help to both scripts, then crashed with
    FileNotFoundError on their missing logs."""
    compare = _load("compare")
    with pytest.raises(SystemExit) as exc:
        compare.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: compare.py")
    assert "--only-table" in out and "flags forwarded to both" in out
    for flag in ("--epochs", "--batch-size", "--subset", "--resume", "--data-dir", "--device"):
        assert flag in out, flag
    assert "(default: 128)" in out  # the forwarded flags' defaults too


def test_compare_checks_flags_before_running(capsys, monkeypatch):
    """A bad flag fails at once, before either script starts."""
    compare = _load("compare")
    monkeypatch.setattr(compare, "run", lambda *a: pytest.fail("a script was started"))
    for argv in (["--epochs", "0"], ["--bogus"], ["--only-table", "a.json", "b.json", "--lr", "1"]):
        with pytest.raises(SystemExit) as exc:
            compare.main(argv)
        assert exc.value.code == 2, argv
    assert "--epochs must be positive" in capsys.readouterr().err


@pytest.mark.parametrize("name", TWINS + ["compare"])
def test_help_shows_defaults(name, capsys):
    """issue #11: --help showed no defaults."""
    if name == "train_cifar10_pytorch":
        pytest.importorskip("torch")
    with pytest.raises(SystemExit) as exc:
        _load(name).main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # undo the line wrapping
    for fragment in (
        "(default: adam)",
        "(default: 0.001)",
        "(default: 10)",
        "(default: 128)",
        "(default: 0)",
        "(default: $MYTENSOR_CIFAR10_DIR if set, else ./data",
    ):
        assert fragment in out, fragment
    assert "(default: None)" not in out and "(default: False)" not in out


# ---- --subset limits the evaluation too ---------------------------------------------------------
@pytest.mark.parametrize("twin", TWINS, indirect=True)
def test_subset_limits_the_test_set(twin, data_dir):
    """issue #11: --subset N shrank the training set but still evaluated every test image. Now
    the first max(1, N // 5) test images, unless --test-subset says otherwise; the same in both
    twins (config.parse_args)."""
    config = _load("config")
    base = ["--data-dir", data_dir, "--batch-size", "8"]
    cases = [
        ([], 50, 40),
        (["--subset", "20"], 20, 4),
        (["--subset", "3"], 3, 1),
        (["--subset", "20", "--test-subset", "7"], 20, 7),
        (["--test-subset", "5"], 50, 5),
    ]
    for flags, n_train, n_test in cases:
        args = config.parse_args("x", "cpu", base + flags)
        train, test = twin.load_data(args, _device(twin))
        assert (len(train.labels), len(test.labels)) == (n_train, n_test), flags


# ---- --resume -----------------------------------------------------------------------------------
def _checkpoint(script, path, flags, epoch=1):
    """A checkpoint of `script` after `epoch`, written by its own save_checkpoint (no training)."""
    config = _load("config")
    args = config.parse_args("x", "cpu", flags)
    device = _device(script)
    model = script.make_model(args, device)
    optim = script.torch.optim if script.FRAMEWORK == "pytorch" else script.mt.optim
    optimizer = config.make_optimizer(optim, model.parameters(), args)
    script.save_checkpoint(str(path), model, optimizer, epoch, [{"epoch": epoch}], args)
    return args


@pytest.mark.parametrize("twin", TWINS, indirect=True)
def test_resume_at_or_past_epochs_says_so(twin, data_dir, tmp_path, capsys):
    """issue #11: a checkpoint already at --epochs printed only "Total training time: 0.00s"."""
    ckpt = tmp_path / "ckpt"
    base = ["--data-dir", data_dir, "--device", "cpu", "--batch-size", "8"]
    _checkpoint(twin, ckpt, base, epoch=3)
    for epochs in ("3", "2"):
        with pytest.raises(SystemExit) as exc:
            twin.main(base + ["--epochs", epochs, "--resume", str(ckpt)])
        message = str(exc.value.code)
        assert f"already at epoch 3 >= --epochs {epochs}" in message, message
        assert "nothing to train" in message and "--epochs 4 or more" in message
    assert "Total training time" not in capsys.readouterr().out


@pytest.mark.parametrize("twin", TWINS, indirect=True)
def test_resume_refuses_other_hyper_parameters(twin, data_dir, tmp_path):
    """issue #11: a different --batch-size was accepted silently (and a different --lr was
    silently replaced by the checkpoint's, as optimizer.load_state_dict restores it)."""
    ckpt = tmp_path / "ckpt"
    base = ["--data-dir", data_dir, "--device", "cpu", "--epochs", "2"]
    _checkpoint(twin, ckpt, base + ["--batch-size", "8"])
    with pytest.raises(SystemExit) as exc:
        twin.main(base + ["--batch-size", "16", "--resume", str(ckpt)])
    message = str(exc.value.code)
    assert "was trained with --batch-size 8, but this run has --batch-size 16" in message, message
    assert "drop --resume" in message
    with pytest.raises(SystemExit) as exc:
        twin.main(
            base
            + ["--batch-size", "8", "--lr", "0.01", "--optimizer", "sgd", "--resume", str(ckpt)]
        )
    message = str(exc.value.code)
    assert "--optimizer adam, --lr 0.001" in message and "--optimizer sgd, --lr 0.01" in message
    # Flags that do not define the run may change (evaluation size, threads, logs).
    args = _load("config").parse_args(
        "x",
        "cpu",
        base + ["--batch-size", "8", "--test-subset", "3", "--threads", "1", "--resume", str(ckpt)],
    )
    assert twin.read_checkpoint(str(ckpt), _device(twin), args)["epoch"] == 1


@pytest.mark.parametrize("twin", TWINS, indirect=True)
def test_resume_missing_or_unreadable_checkpoint(twin, data_dir, tmp_path, capsys):
    """issue #11: a missing checkpoint gave a raw traceback; now one line naming the path."""
    missing = tmp_path / "nope.ckpt"
    with pytest.raises(SystemExit) as exc:
        twin.main(["--data-dir", data_dir, "--resume", str(missing)])
    assert exc.value.code == 2
    assert f"--resume: no checkpoint file at {missing}" in capsys.readouterr().err
    junk = tmp_path / "junk.ckpt"
    for content in (b"not a checkpoint at all", b"junk\n", b""):
        junk.write_bytes(content)
        with pytest.raises(SystemExit) as exc:
            twin.main(["--data-dir", data_dir, "--device", "cpu", "--resume", str(junk)])
        message = str(exc.value.code)
        assert f"--resume: cannot read {junk}" in message and "\n" not in message, content


# ---- a failed download --------------------------------------------------------------------------
def test_failed_download_cleans_up_and_names_the_alternatives(tmp_path, monkeypatch):
    """issue #11: a failed download left an empty ./data/ and did not mention --data-dir or
    MYTENSOR_CIFAR10_DIR."""

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    script = _load("train_cifar10")
    root = tmp_path / "data"
    with pytest.raises(RuntimeError) as exc:
        script.main(["--data-dir", str(root), "--download", "--device", "cpu"])
    message = str(exc.value)
    for fragment in (
        "could not download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "Temporary failure in name resolution",
        "--data-dir",
        "MYTENSOR_CIFAR10_DIR",
    ):
        assert fragment in message, fragment
    assert not root.exists()  # the attempt created it, so it removed it
    assert os.listdir(tmp_path) == []


# ---- checkpoints are written atomically ---------------------------------------------------------
@pytest.mark.parametrize("twin", TWINS, indirect=True)
def test_failed_save_keeps_the_previous_checkpoint(twin, data_dir, tmp_path, monkeypatch):
    """issue #11: the checkpoint is written to a temporary file in the same folder and renamed
    over the old one, so a save that fails midway (disk full, here) leaves the previous
    checkpoint loadable and no stray file."""
    folder = tmp_path / "ckpts"
    folder.mkdir()
    ckpt = folder / "ckpt"
    flags = ["--data-dir", data_dir, "--device", "cpu", "--epochs", "5", "--batch-size", "8"]
    args = _checkpoint(twin, ckpt, flags, epoch=1)

    def broken_save(obj, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    framework = twin.torch if twin.FRAMEWORK == "pytorch" else twin.mt
    monkeypatch.setattr(framework, "save", broken_save)
    with pytest.raises(OSError, match="No space left"):
        _checkpoint(twin, ckpt, flags, epoch=2)
    monkeypatch.undo()
    assert os.listdir(folder) == ["ckpt"]
    assert twin.read_checkpoint(str(ckpt), _device(twin), args)["epoch"] == 1
