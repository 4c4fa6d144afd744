"""CIFAR-10 (Krizhevsky, 2009) from the official "python version" files, with an optional
download of the official archive (md5-checked)."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import pickle
import shutil
import tarfile
import urllib.error
import urllib.request
import zlib

import numpy as np

from mytensor.data.dataset import Dataset

_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _Refused(pickle.UnpicklingError):
    pass


class _BatchUnpickler(pickle.Unpickler):
    """Unpickling defines the official format, so the batch files are unpickled, but only
    dicts, lists, bytes, strings, numbers and NumPy arrays may come out: any other class or
    function a file names (the way a malicious pickle runs code) is refused."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol 2 writes bytes from Python 3: bytes out, no code
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise _Refused(
                f"refusing to load {module}.{name}: CIFAR-10 batch files hold only dicts, "
                "lists, bytes and NumPy arrays"
            )
        if name == "_reconstruct":
            return _numpy_reconstruct()
        if module == "_codecs":
            import codecs

            return codecs.encode
        return getattr(np, name)


def load_batch(path: str) -> tuple[np.ndarray, list[int]]:
    """Reads one official batch file: (data uint8 (n, 3072), labels)."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            entry = _BatchUnpickler(io.BytesIO(f.read()), encoding="bytes").load()
    except _Refused as e:
        raise RuntimeError(
            f"[CIFAR10] {path} is not a CIFAR-10 batch file: {e}; delete "
            "cifar-10-batches-py and download or extract it again"
        ) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
    ) as e:
        raise RuntimeError(
            f"[CIFAR10] {path} is truncated or corrupt ({type(e).__name__}: {e}); "
            "delete cifar-10-batches-py and download or extract it again"
        ) from None
    if not isinstance(entry, dict):
        raise RuntimeError(
            f"[CIFAR10] {name} is corrupt: expected a dict, got {type(entry).__name__}"
        )
    data = entry.get(b"data", entry.get("data"))
    labels = entry.get(b"labels", entry.get("labels"))
    if labels is None:
        labels = entry.get(b"fine_labels")
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3072
    ):
        got = (
            f"{data.dtype} array of shape {data.shape}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise RuntimeError(
            f"[CIFAR10] {name} is corrupt: b'data' should be a uint8 array of "
            f"shape (n, 3072), got {got}"
        )
    if not isinstance(labels, list) or len(labels) != data.shape[0]:
        raise RuntimeError(
            f"[CIFAR10] {name} is corrupt: expected {data.shape[0]} labels, got "
            f"{len(labels) if isinstance(labels, list) else type(labels).__name__}"
        )
    if any(not isinstance(v, int) or not 0 <= v < 10 for v in labels):
        raise RuntimeError(f"[CIFAR10] {name} is corrupt: labels must be integers in [0, 10)")
    return data, labels


class CIFAR10(Dataset):
    """The CIFAR-10 images (32x32 RGB, 10 classes; 50,000 train and 10,000 test).

    Reads ``root/cifar-10-batches-py/`` in the official "python version" layout (data_batch_1
    to data_batch_5, test_batch). ``ds[i]`` is ``(image, label)``: the image an HWC uint8 array
    (through `transform` if given), as torchvision's CIFAR10 gives a PIL image.

    Args:
        root: the folder holding (or to receive) cifar-10-batches-py/.
        train: the training set (default) or the test set.
        transform: applied to each image (e.g. transforms.Compose([...ToTensor()...])).
        target_transform: applied to each label.
        download: fetch the official archive if the files are missing, check its md5 and
            extract it into root.

    Attributes:
        data: uint8 array (N, 32, 32, 3).
        targets: list of N labels.
        classes: the class names.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    test_list = ["test_batch"]

    def __init__(
        self,
        root,
        train: bool = True,
        transform=None,
        target_transform=None,
        download: bool = False,
    ) -> None:
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        missing = self._missing()
        if missing:
            raise RuntimeError(
                f"[CIFAR10] dataset not found: {self.folder} lacks {', '.join(missing)}. Pass "
                f"download=True (--download) to fetch {self.url}. {self._local_copy_hint()}"
            )
        datas, targets = [], []
        for name in self.train_list if train else self.test_list:
            data, labels = load_batch(os.path.join(self.folder, name))
            datas.append(data)
            targets.extend(labels)
        self.data = np.vstack(datas).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.data = np.ascontiguousarray(self.data)
        self.targets = targets
        self.classes = list(_CLASSES)

    @property
    def folder(self) -> str:
        return os.path.join(self.root, self.base_folder)

    def _missing(self) -> list[str]:
        return [
            n
            for n in self.train_list + self.test_list
            if not os.path.isfile(os.path.join(self.folder, n))
        ]

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (
            f"Dataset CIFAR10\n    Number of datapoints: {len(self)}\n    Root location: "
            f"{self.root}\n    Split: {split}"
        )

    # ---- download -------------------------------------------------------------------------------
    def _local_copy_hint(self) -> str:
        return (
            f"To use a copy you already have, pass its folder as root (the example scripts: "
            f"--data-dir DIR, or set MYTENSOR_CIFAR10_DIR=DIR), where DIR/{self.base_folder}/ "
            "holds data_batch_1..5 and test_batch; or get the archive elsewhere and put it at "
            f"{os.path.join(self.root, self.filename)}, where download=True (--download) "
            "checks and extracts it without network access"
        )

    def download(self) -> None:
        """Fetches and extracts the official archive unless the batch files are present. A failed
        attempt removes what it created (the folders, the downloaded archive, the extracted
        folder) and leaves anything that was there before as it was."""
        if not self._missing():
            return
        created = _makedirs(self.root)
        archive = os.path.join(self.root, self.filename)
        folder_existed = os.path.isdir(self.folder)
        fetched = False
        try:
            if not (os.path.isfile(archive) and _md5(archive) == self.tgz_md5):
                self._fetch(archive)
                fetched = True
            _extract(archive, self.root)
        except BaseException:
            if not folder_existed:
                shutil.rmtree(self.folder, ignore_errors=True)
            if fetched:
                _unlink(archive)
            for folder in reversed(created):  # innermost first; only if left empty
                try:
                    os.rmdir(folder)
                except OSError:
                    break
            raise

    def _fetch(self, archive: str) -> None:
        part = archive + ".part"
        try:
            with urllib.request.urlopen(self.url, timeout=60) as response, open(part, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            _unlink(part)
            cause = e.reason if isinstance(e, urllib.error.URLError) else e
            raise RuntimeError(
                f"[CIFAR10] could not download {self.url}: {type(cause).__name__}: {cause}. "
                f"{self._local_copy_hint()}"
            ) from None
        except BaseException:
            _unlink(part)
            raise
        digest = _md5(part)
        if digest != self.tgz_md5:
            _unlink(part)
            raise RuntimeError(
                f"[CIFAR10] the download from {self.url} is corrupt: md5 {digest}, "
                f"expected {self.tgz_md5}; try again. {self._local_copy_hint()}"
            )
        os.replace(part, archive)


def _makedirs(path: str) -> list[str]:
    """os.makedirs(path, exist_ok=True); returns the folders it created, outermost first."""
    missing = []
    head = os.path.abspath(path)
    while not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    os.makedirs(path, exist_ok=True)
    return missing[::-1]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _md5(path: str) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _extract(archive: str, root: str) -> None:
    """Extracts the tar.gz, refusing members that would land outside root (or links)."""
    base = os.path.realpath(root)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for m in members:
                target = os.path.realpath(os.path.join(base, m.name))
                if not (m.isfile() or m.isdir()) or os.path.commonpath([base, target]) != base:
                    raise RuntimeError(
                        f"[CIFAR10] refusing to extract {m.name!r} from {archive}: "
                        "not a plain file inside the target folder"
                    )
            tar.extractall(base, members=members)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise RuntimeError(
            f"[CIFAR10] {archive} is corrupt or truncated ({e}); delete it and download again"
        ) from None
    except OSError as e:
        raise RuntimeError(f"[CIFAR10] could not extract {archive} into {root}: {e}") from None
