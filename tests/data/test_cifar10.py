"""CIFAR10: reading the official python layout (written here in miniature), refusing corrupt,
truncated or malicious files, and the download path (md5 check, extraction, no network)."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import urllib.error

import mytensor as mt
import numpy as np
import pytest
from mytensor.data.datasets import CIFAR10


def _write_batches(folder, per_batch=4, seed=0):
    """The official layout: pickled dicts with b"data" uint8 (n, 3072) and b"labels"."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    out = {}
    for name in CIFAR10.train_list + CIFAR10.test_list:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(
                {
                    b"batch_label": name.encode(),
                    b"labels": labels,
                    b"data": data,
                    b"filenames": [b"x.png"] * per_batch,
                },
                f,
                protocol=2,
            )
        out[name] = (data, labels)
    return out


def test_reads_official_layout(tmp_path):
    written = _write_batches(tmp_path / "cifar-10-batches-py")
    train = CIFAR10(tmp_path, train=True)
    test = CIFAR10(str(tmp_path), train=False)
    assert len(train) == 20 and len(test) == 4
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype == np.uint8
    data, labels = written["data_batch_2"]
    img, label = train[5]  # second image of data_batch_2
    np.testing.assert_array_equal(img, data[1].reshape(3, 32, 32).transpose(1, 2, 0))
    assert label == labels[1]
    assert test.targets == written["test_batch"][1]
    assert train.classes[0] == "airplane" and "Split: Train" in repr(train)


def test_transform_pipeline(tmp_path):
    from mytensor.data import transforms as T

    _write_batches(tmp_path / "cifar-10-batches-py")
    ds = CIFAR10(
        tmp_path,
        train=False,
        transform=T.Compose([T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))]),
        target_transform=lambda y: y + 100,
    )
    x, y = ds[0]
    assert x.shape == (3, 32, 32) and x.dtype is mt.float32 and y >= 100
    expected = (ds.data[0].transpose(2, 0, 1) / np.float32(255) - 0.5) / 0.25
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(RuntimeError, match="dataset not found.*cifar-10-batches-py.*download=True"):
        CIFAR10(tmp_path)


def test_truncated_file(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_batches(folder)
    raw = (folder / "data_batch_3").read_bytes()
    for cut in (len(raw) // 2, len(raw) - 1, 10, 0):
        (folder / "data_batch_3").write_bytes(raw[:cut])
        with pytest.raises(RuntimeError, match="data_batch_3 is truncated or corrupt"):
            CIFAR10(tmp_path)


def test_malicious_pickle_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_batches(folder)

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(RuntimeError, match="refusing to load .*system"):
        CIFAR10(tmp_path, train=False)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "entry,fragment",
    [
        ([1, 2], "expected a dict"),
        ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, r"shape \(n, 3072\)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "expected 2 labels"),
        ({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, r"labels must be integers in"),
    ],
)
def test_wrong_contents(tmp_path, entry, fragment):
    folder = tmp_path / "cifar-10-batches-py"
    _write_batches(folder)
    (folder / "test_batch").write_bytes(pickle.dumps(entry))
    with pytest.raises(RuntimeError, match=fragment):
        CIFAR10(tmp_path, train=False)


def _archive(tmp_path):
    """A tar.gz in the official archive's layout; returns (path, md5)."""
    src = tmp_path / "src"
    _write_batches(src / "cifar-10-batches-py")
    path = tmp_path / "archive.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return path, hashlib.md5(path.read_bytes()).hexdigest()


def test_download_checks_md5_and_extracts(tmp_path, monkeypatch):
    archive, md5 = _archive(tmp_path)
    monkeypatch.setattr(CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5)
    ds = CIFAR10(tmp_path / "root", train=False, download=True)
    assert len(ds) == 4
    assert (tmp_path / "root" / CIFAR10.filename).exists()
    CIFAR10(tmp_path / "root", download=True)  # present: nothing fetched again


def test_download_rejects_bad_md5(tmp_path, monkeypatch):
    archive, _ = _archive(tmp_path)
    monkeypatch.setattr(CIFAR10, "url", archive.as_uri())
    with pytest.raises(RuntimeError, match="is corrupt: md5"):
        CIFAR10(tmp_path / "root", download=True)
    assert not (tmp_path / "root").exists()  # no partial file, and the folder it made is gone


def test_download_without_network(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(RuntimeError, match="could not download.*cifar-10-python.tar.gz.*extract"):
        CIFAR10(tmp_path, download=True)


def _offline(*args, **kwargs):
    raise urllib.error.URLError("Temporary failure in name resolution")


def test_failed_download_removes_only_what_it_created(tmp_path, monkeypatch):
    """issue #11: a failed download left an empty ./data/ behind and named neither --data-dir
    nor MYTENSOR_CIFAR10_DIR. Now the folders it made go, what was there stays, and the error
    names the URL, the cause and the ways to use a local copy."""
    monkeypatch.setattr("urllib.request.urlopen", _offline)
    root = tmp_path / "a" / "b" / "data"
    with pytest.raises(RuntimeError) as exc:
        CIFAR10(root, download=True)
    message = str(exc.value)
    for fragment in (
        CIFAR10.url,
        "Temporary failure in name resolution",
        "--data-dir",
        "MYTENSOR_CIFAR10_DIR",
        "cifar-10-batches-py",
        str(root / CIFAR10.filename),
    ):
        assert fragment in message, fragment
    assert os.listdir(tmp_path) == []  # a/, b/ and data/ were made by the attempt: all gone
    # A folder that was there (with the user's files) is left as it was.
    mine = tmp_path / "mine"
    (mine / "cifar-10-batches-py").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(RuntimeError, match="could not download"):
        CIFAR10(mine, download=True)
    assert sorted(os.listdir(mine)) == ["cifar-10-batches-py", "notes.txt"]
    assert os.listdir(mine / "cifar-10-batches-py") == []


def test_download_failing_midway_leaves_nothing(tmp_path, monkeypatch):
    """The connection drops after some bytes: the partial file and the new folder go."""

    class Dropped(io.BytesIO):
        def read(self, *args):
            if self.tell():
                raise ConnectionResetError(104, "Connection reset by peer")
            return super().read(*args)

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: Dropped(b"x" * 100))
    with pytest.raises(RuntimeError, match="could not download.*Connection reset by peer"):
        CIFAR10(tmp_path / "root", download=True)
    assert os.listdir(tmp_path) == []


def test_failed_extraction_removes_the_download_not_a_local_archive(tmp_path, monkeypatch):
    """Extraction stops midway (disk full): the half-extracted folder goes, and so does the
    archive if this attempt fetched it; an archive the user put there is kept."""
    archive, md5 = _archive(tmp_path)
    monkeypatch.setattr(CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5)

    def disk_full(self, path=".", members=None, **kwargs):
        for member in members[:3]:
            self.extract(member, path)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "extractall", disk_full)
    with pytest.raises(RuntimeError, match="could not extract.*No space left"):
        CIFAR10(tmp_path / "root", download=True)
    assert not (tmp_path / "root").exists()
    local = tmp_path / "local"
    local.mkdir()
    (local / CIFAR10.filename).write_bytes(archive.read_bytes())
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("no download"))
    with pytest.raises(RuntimeError, match="could not extract"):
        CIFAR10(local, download=True)
    assert os.listdir(local) == [CIFAR10.filename]


def test_local_archive_used_without_network(tmp_path, monkeypatch):
    archive, md5 = _archive(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    (root / CIFAR10.filename).write_bytes(archive.read_bytes())
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5)
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("no download"))
    assert len(CIFAR10(root, train=False, download=True)) == 4


def test_archive_with_escaping_member_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    monkeypatch.setattr(CIFAR10, "url", path.as_uri())
    monkeypatch.setattr(CIFAR10, "tgz_md5", hashlib.md5(path.read_bytes()).hexdigest())
    with pytest.raises(RuntimeError, match="refusing to extract"):
        CIFAR10(tmp_path / "root", download=True)
    assert not (tmp_path / "escaped").exists()


def test_real_cifar10(cifar_dir):
    train = CIFAR10(cifar_dir, train=True)
    test = CIFAR10(cifar_dir, train=False)
    assert train.data.shape == (50000, 32, 32, 3) and len(test) == 10000
    assert sorted(set(train.targets)) == list(range(10))
    assert np.bincount(test.targets).tolist() == [1000] * 10
