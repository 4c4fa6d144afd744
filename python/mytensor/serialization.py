"""``mt.save`` / ``mt.load``: checkpoints in the safetensors format, written atomically.

No pickle: loading a file runs no code. Nested objects (a training checkpoint holding a model's and
an optimizer's state) are flattened into dotted tensor keys; the structure and every non-tensor
value are kept as JSON in the header's ``__metadata__``.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import struct
import tempfile

import numpy as np

from mytensor import _C
from mytensor._tensor import Tensor

__all__ = ["save", "load"]

# safetensors dtype codes <-> NumPy dtypes (little-endian).
_CODES = {
    "bool": "BOOL",
    "uint8": "U8",
    "int8": "I8",
    "int16": "I16",
    "int32": "I32",
    "int64": "I64",
    "float16": "F16",
    "float32": "F32",
    "float64": "F64",
}
_NUMPY = {
    "BOOL": np.dtype("bool"),
    "U8": np.dtype("uint8"),
    "I8": np.dtype("int8"),
    "I16": np.dtype("<i2"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
_FORMAT = "mytensor"
_METADATA = "__metadata__"  # the safetensors header's reserved entry
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors package's own limit


# ---- flattening ---------------------------------------------------------------------------------
class _Flattener:
    """Turns a nested object into (structure JSON, {key: ndarray}); a tensor becomes
    ``{"__tensor__": key}`` in the structure."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}

    def key(self, path: list[str]) -> str:
        base = ".".join(path) or "tensor"
        key, n = base, 1
        # e.g. {"a.b": x, "a": {"b": y}}; "__metadata__" is the header's own entry, so a tensor
        # of that name is stored under another key (the structure keeps its real name).
        while key in self.tensors or key == _METADATA:
            key, n = f"{base}#{n}", n + 1
        return key

    def visit(self, obj, path: list[str]):
        where = ".".join(path) or "the object"
        if isinstance(obj, Tensor):
            key = self.key(path)
            self.tensors[key] = _to_numpy(obj, where)
            return {"__tensor__": key}
        if isinstance(obj, np.ndarray):
            raise TypeError(f"[save] {where} is a NumPy array; convert it with mt.from_numpy()")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, numbers.Real):
            value = float(obj)
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(
                        f"[save] {where} has a key {k!r} of type "
                        f"{type(k).__name__}; keys must be str or int"
                    )
                items.append([k, self.visit(v, path + [str(k)])])
            return {"__dict__": items}
        if isinstance(obj, (list, tuple)):
            values = [self.visit(v, path + [str(i)]) for i, v in enumerate(obj)]
            return {"__tuple__": values} if isinstance(obj, tuple) else values
        raise TypeError(
            f"[save] {where} has type {type(obj).__name__}, which can't be saved "
            "(tensors, dicts, lists, tuples, numbers, strings and None can)"
        )


def _to_numpy(t: Tensor, where: str) -> np.ndarray:
    if t.dtype.name not in _CODES:
        raise _C.DTypeError(f"[save] {where} has dtype {t.dtype}, which can't be saved yet")
    array = t.detach().cpu().numpy()
    if not array.flags.c_contiguous:
        array = array.copy(order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    return array.astype(array.dtype.newbyteorder("<"), copy=False)


def _is_flat_state_dict(obj) -> bool:
    """A {name: Tensor} dict stored under its own names (not if a name is the header's own
    "__metadata__": that one goes through the structure, which keeps it losslessly)."""
    return isinstance(obj, dict) and all(
        isinstance(k, str) and k != _METADATA and isinstance(v, Tensor) for k, v in obj.items()
    )


def _corrupt(path: str, what: str) -> ValueError:
    return ValueError(f"[load] corrupt file: the structure metadata at {path or 'the root'} {what}")


def _rebuild(node, tensors: dict, path: str):
    """The saved object from its structure JSON; every malformed node raises ValueError."""
    if isinstance(node, list):
        return [_rebuild(v, tensors, f"{path}.{i}") for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        key = node["__tensor__"]
        if not isinstance(key, str) or key not in tensors:
            raise ValueError(
                f"[load] corrupt file: the structure names tensor {key!r}, which "
                "the file does not hold"
            )
        return tensors[key]
    if "__float__" in node:
        text = node["__float__"]
        if not isinstance(text, str) or text not in ("inf", "-inf", "nan"):
            raise _corrupt(path, f"has a bad non-finite float {text!r}")
        return float(text)
    if "__tuple__" in node:
        items = node["__tuple__"]
        if not isinstance(items, list):
            raise _corrupt(path, f"has a tuple that is not a list: {type(items).__name__}")
        return tuple(_rebuild(v, tensors, f"{path}.{i}") for i, v in enumerate(items))
    if "__dict__" in node:
        items = node["__dict__"]
        if not isinstance(items, list):
            raise _corrupt(path, f"has a dict that is not a list of pairs: {type(items).__name__}")
        out = {}
        for item in items:
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], (str, int))
                or isinstance(item[0], bool)
            ):
                raise _corrupt(
                    path,
                    f"has a dict item that is not a [str or int key, value] pair: {str(item)[:80]}",
                )
            out[item[0]] = _rebuild(item[1], tensors, f"{path}.{item[0]}")
        return out
    raise _corrupt(path, f"has an unknown entry {sorted(node)}")


# ---- save ---------------------------------------------------------------------------------------
def save(obj, f) -> None:
    """Saves tensors (or a nested dict/list of tensors and plain values) to a safetensors file.

    A flat ``{name: Tensor}`` dict (a model's ``state_dict()``) is stored under its own names, so
    any safetensors reader loads it. Anything else (an optimizer's state, a training checkpoint)
    is flattened into dotted names with its structure in the header's metadata.

    The file is written to a temporary file in the same folder, flushed to disk and renamed over
    `f`: an interrupted save leaves the previous file intact.

    Args:
        obj: the object to save.
        f: a path (str or os.PathLike).
    """
    path = os.fspath(f)
    flattener = _Flattener()
    if _is_flat_state_dict(obj):
        tensors = {k: _to_numpy(v, k) for k, v in obj.items()}
        metadata = {"format": _FORMAT}
    else:
        structure = flattener.visit(obj, [])
        tensors = flattener.tensors
        metadata = {"format": _FORMAT, "structure": json.dumps(structure)}
    header: dict = {"__metadata__": metadata}
    offset = 0
    for key, array in tensors.items():
        header[key] = {
            "dtype": _CODES[array.dtype.name],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # pad so that the data starts 8-byte aligned
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(struct.pack("<Q", len(blob)))
            out.write(blob)
            for array in tensors.values():
                out.write(array.reshape(-1).data.cast("B") if array.size else b"")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: str) -> None:
    """Makes the rename itself durable (POSIX); a no-op where folders can't be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- load ---------------------------------------------------------------------------------------
def load(f, map_location=None):
    """Loads what :func:`save` wrote (or any safetensors file).

    Args:
        f: a path.
        map_location: device for the tensors ("cpu" when None).

    Returns:
        The saved object; a plain safetensors file gives a ``{name: Tensor}`` dict.

    Raises:
        ValueError: the file is truncated, corrupt or not a safetensors file.
    """
    path = os.fspath(f)
    with open(path, "rb") as fh:
        data = fh.read()
    name = os.path.basename(path)
    if len(data) < 8:
        raise ValueError(
            f"[load] {name} is truncated or not a safetensors file: "
            f"{len(data)} bytes, fewer than the 8-byte header length"
        )
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        raise ValueError(
            f"[load] {name} is truncated or not a safetensors file: the header "
            f"claims {n} bytes but the file has {len(data) - 8} after the length"
        )
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"[load] {name} is corrupt: its header is not valid JSON ({e})") from None
    except RecursionError:
        raise ValueError(f"[load] {name} is corrupt: its header is nested too deeply") from None
    if not isinstance(header, dict):
        raise ValueError(f"[load] {name} is corrupt: the header is not a JSON object")
    metadata = header.pop(_METADATA, None) or {}
    if not isinstance(metadata, dict):
        raise ValueError(
            f"[load] {name} is corrupt: __metadata__ is a "
            f"{type(metadata).__name__}, not a JSON object"
        )
    buffer = memoryview(data)[8 + n :]
    tensors = {}
    spans = []
    for key, entry in header.items():
        array = _read_entry(name, key, entry, buffer)
        spans.append(tuple(entry["data_offsets"]))
        tensors[key] = array
    _check_coverage(name, spans, len(buffer))
    from mytensor._device import as_device
    from mytensor.creation import from_numpy

    device = as_device(map_location)
    out = {}
    for key, array in tensors.items():
        t = from_numpy(array)
        if device.type != "cpu":
            t = t.to(device)
        out[key] = t
    structure = metadata.get("structure")
    if structure is None:
        return out
    if not isinstance(structure, str):
        raise ValueError(
            f"[load] {name} is corrupt: its structure metadata is a "
            f"{type(structure).__name__}, not a JSON string"
        )
    try:
        tree = json.loads(structure)
        return _rebuild(tree, out, "")
    except json.JSONDecodeError as e:
        raise ValueError(
            f"[load] {name} is corrupt: its structure metadata is not valid JSON ({e})"
        ) from None
    except RecursionError:
        raise ValueError(
            f"[load] {name} is corrupt: its structure metadata is nested too deeply to rebuild"
        ) from None


def _read_entry(name: str, key: str, entry, buffer) -> np.ndarray:
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise ValueError(
            f"[load] {name} is corrupt: entry {key!r} lacks dtype, shape or data_offsets"
        )
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if code not in _NUMPY:
        raise ValueError(
            f"[load] {name}: tensor {key!r} has dtype {code!r}, which mytensor "
            f"can't load (supported: {', '.join(_NUMPY)})"
        )
    if (
        not isinstance(shape, list)
        or not all(isinstance(s, int) and s >= 0 for s in shape)
        or not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) for o in offsets)
    ):
        raise ValueError(
            f"[load] {name} is corrupt: bad shape {shape!r} or data_offsets "
            f"{offsets!r} for tensor {key!r}"
        )
    begin, end = offsets
    dtype = _NUMPY[code]
    nbytes = dtype.itemsize * math.prod(shape)
    if not 0 <= begin <= end or end - begin != nbytes:
        raise ValueError(
            f"[load] {name} is corrupt: tensor {key!r} of shape {tuple(shape)} and "
            f"dtype {code} needs {nbytes} bytes but data_offsets are {offsets}"
        )
    if end > len(buffer):
        raise ValueError(
            f"[load] {name} is truncated: tensor {key!r} ends at byte {end} of the "
            f"data but the file holds only {len(buffer)} data bytes"
        )
    array = np.frombuffer(buffer[begin:end], dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)  # owned, writeable, native order


def _check_coverage(name: str, spans, size: int) -> None:
    pos = 0
    for begin, end in sorted(spans):
        if begin != pos:
            raise ValueError(
                f"[load] {name} is corrupt: tensor data overlaps or leaves a gap at byte {pos}"
            )
        pos = end
    if pos != size:
        raise ValueError(f"[load] {name} is corrupt: {size - pos} bytes after the last tensor")
