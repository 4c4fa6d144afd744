"""mt.save / mt.load: the safetensors format, nested objects, atomic writes, corrupt files."""

from __future__ import annotations

import json
import os
import struct

import mytensor as mt
import numpy as np
import pytest


def _flat():
    return {
        "w": mt.tensor(np.arange(12, dtype=np.float32).reshape(3, 4)),
        "b": mt.tensor(np.array([1.5, -2.0], dtype=np.float64)),
        "n": mt.tensor(7, dtype=mt.int64),
        "mask": mt.tensor([True, False, True]),
        "img": mt.tensor(np.arange(6, dtype=np.uint8).reshape(1, 2, 3)),
        "empty": mt.zeros(0, 3),
    }


def _assert_same(a, b):
    assert a.dtype is b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_flat_round_trip(tmp_path):
    sd = _flat()
    mt.save(sd, tmp_path / "m.safetensors")
    back = mt.load(tmp_path / "m.safetensors")
    assert list(back) == list(sd)
    for k in sd:
        _assert_same(back[k], sd[k])


def test_non_contiguous_tensor(tmp_path):
    t = mt.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)).t()
    mt.save({"t": t}, tmp_path / "t.st")
    _assert_same(mt.load(tmp_path / "t.st")["t"], mt.tensor(t.numpy()))


def test_file_layout_is_safetensors(tmp_path):
    """8-byte little-endian header size, JSON header with dtype/shape/data_offsets, raw data."""
    path = tmp_path / "m.safetensors"
    mt.save({"a": mt.tensor([1.0, 2.0]), "i": mt.tensor([3], dtype=mt.int64)}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8 : 8 + n])
    assert header["a"] == {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    assert header["i"] == {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]}
    assert header["__metadata__"]["format"] == "mytensor"
    assert np.frombuffer(raw[8 + n : 8 + n + 8], "<f4").tolist() == [1.0, 2.0]
    assert np.frombuffer(raw[8 + n + 8 :], "<i8").tolist() == [3]


def test_safetensors_package_compatibility(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "m.safetensors"
    mt.save(_flat(), path)
    loaded = st.load_file(str(path))
    for k, v in _flat().items():
        np.testing.assert_array_equal(loaded[k], v.numpy())
    st.save_file({"x": np.arange(5, dtype=np.float32)}, str(tmp_path / "o.safetensors"))
    assert mt.load(tmp_path / "o.safetensors")["x"].numpy().tolist() == [0, 1, 2, 3, 4]


def test_nested_checkpoint(tmp_path):
    ckpt = {
        "model": {"fc.weight": mt.ones(2, 3), "fc.bias": mt.zeros(2)},
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": mt.full((2, 3), 0.5)}, 1: {"step": 3}},
            "param_groups": [
                {
                    "lr": 1e-3,
                    "betas": (0.9, 0.999),
                    "params": [0, 1],
                    "amsgrad": False,
                    "name": None,
                }
            ],
        },
        "epoch": 4,
        "rng": (12, 345),
        "history": [{"loss": 1.25, "acc": float("nan")}, {"loss": float("inf")}],
        "model.fc.bias": mt.ones(1),  # clashes with the flattened name of model/fc.bias
    }
    mt.save(ckpt, tmp_path / "c.st")
    back = mt.load(tmp_path / "c.st")
    assert back["epoch"] == 4 and back["rng"] == (12, 345)
    assert back["optimizer"]["state"][1] == {"step": 3}
    assert list(back["optimizer"]["state"]) == [0, 1]
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["optimizer"]["param_groups"][0]["name"] is None
    _assert_same(back["optimizer"]["state"][0]["exp_avg"], mt.full((2, 3), 0.5))
    _assert_same(back["model"]["fc.bias"], mt.zeros(2))
    _assert_same(back["model.fc.bias"], mt.ones(1))
    assert np.isnan(back["history"][0]["acc"]) and back["history"][1]["loss"] == float("inf")


def test_unsupported_values(tmp_path):
    with pytest.raises(TypeError, match=r"\[save\] a has type object"):
        mt.save({"a": object()}, tmp_path / "x")
    with pytest.raises(TypeError, match="NumPy array"):
        mt.save({"a": np.ones(2)}, tmp_path / "x")
    with pytest.raises(TypeError, match="keys must be str or int"):
        mt.save({(1, 2): mt.ones(1)}, tmp_path / "x")
    assert not os.listdir(tmp_path)  # nothing half-written left behind


def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.st"
    mt.save({"v": mt.ones(3)}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # e.g. Ctrl-C while the data is being written

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        mt.save({"v": mt.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.st"]  # the temporary file was removed


def _saved(tmp_path):
    path = tmp_path / "m.st"
    mt.save({"a": mt.ones(4), "b": mt.zeros(2, dtype=mt.int64)}, path)
    return path, path.read_bytes()


def test_truncated_file(tmp_path):
    path, raw = _saved(tmp_path)
    for cut in (len(raw) - 3, 12, 5, 0):
        path.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="truncated"):
            mt.load(path)


def test_corrupt_header(tmp_path):
    path, raw = _saved(tmp_path)
    (n,) = struct.unpack("<Q", raw[:8])
    path.write_bytes(raw[:8] + b"{" * n + raw[8 + n :])
    with pytest.raises(ValueError, match="not valid JSON"):
        mt.load(path)
    header = json.loads(raw[8 : 8 + n])
    for bad, fragment in [
        ({"dtype": "F32", "shape": [5], "data_offsets": [0, 16]}, "needs 20 bytes"),
        ({"dtype": "Q9", "shape": [4], "data_offsets": [0, 16]}, "dtype 'Q9'"),
        ({"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}, "bad shape"),
        ({"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "gap"),
    ]:
        h = dict(header, a=bad)
        blob = json.dumps(h).encode()
        path.write_bytes(struct.pack("<Q", len(blob)) + blob + raw[8 + n :])
        with pytest.raises(ValueError, match=fragment):
            mt.load(path)


def test_huge_header_length(tmp_path):
    path = tmp_path / "x.st"
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(ValueError, match="truncated or not a safetensors file"):
        mt.load(path)


def test_model_state_dict_round_trip(tmp_path):
    from mytensor import nn

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    mt.save(model.state_dict(), tmp_path / "m.st")
    loaded = mt.load(tmp_path / "m.st")
    assert list(loaded) == list(model.state_dict())
    assert loaded["1.num_batches_tracked"].dtype is mt.int64
    model.load_state_dict(loaded)


def test_metadata_name_round_trips(tmp_path):
    """issue #10: a tensor named "__metadata__" (the header's reserved entry) was written over the
    metadata, and mt.load then rejected the file it had written; it is now kept losslessly."""
    t = mt.tensor([1.0, -2.0])
    for obj in (
        {"__metadata__": t},
        {"__metadata__": t, "w": mt.ones(2)},
        {"a": {"__metadata__": t}},
        [t, {"__metadata__": t}],
    ):
        mt.save(obj, tmp_path / "m.st")
        back = mt.load(tmp_path / "m.st")
        flat = back["__metadata__"] if isinstance(back, dict) and "a" not in back else None
        if isinstance(obj, dict) and "a" in obj:
            flat = back["a"]["__metadata__"]
        elif isinstance(obj, list):
            assert isinstance(back, list)
            flat = back[1]["__metadata__"]
        _assert_same(flat, t)


def _write_header(path, header: dict, data: bytes = b""):
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + data)


@pytest.mark.parametrize(
    "structure",
    [
        "[1, 2",
        json.dumps({"__dict__": 5}),
        json.dumps({"__dict__": [[1]]}),
        json.dumps({"__dict__": [[[1], 2]]}),
        json.dumps({"__dict__": [5]}),
        json.dumps({"__tuple__": 3}),
        json.dumps({"__float__": "abc"}),
        json.dumps({"__float__": 1.5}),
        json.dumps({"__tensor__": [1]}),
        json.dumps({"__tensor__": "missing"}),
        json.dumps({"bogus": 1}),
        5,
        ["x"],
        "[" * 100000 + "]" * 100000,
        '{"__tuple__": ' * 5000 + "[]" + "}" * 5000,
    ],
)
def test_corrupt_structure_metadata_is_a_value_error(tmp_path, structure):
    """issue #10: corrupt structure metadata raised TypeError / RecursionError, where mt.load's
    docstring promises ValueError."""
    path = tmp_path / "x.st"
    _write_header(path, {"__metadata__": {"format": "mytensor", "structure": structure}})
    with pytest.raises(ValueError, match=r"\[load\].*corrupt"):
        mt.load(path)


def test_metadata_that_is_not_an_object_is_a_value_error(tmp_path):
    path = tmp_path / "x.st"
    _write_header(path, {"__metadata__": "x"})
    with pytest.raises(ValueError, match="__metadata__ is a str"):
        mt.load(path)
    path.write_bytes(struct.pack("<Q", 200002) + b"[" * 100001 + b"]" * 100001)
    with pytest.raises(ValueError, match="corrupt"):
        mt.load(path)


def test_random_truncated_and_mutated_files_raise_value_error(tmp_path):
    """Every corrupt file gives ValueError (or loads): random bytes, every truncation and
    seeded byte mutations of a nested checkpoint."""
    path = tmp_path / "c.st"
    ckpt = {
        "model": {"w": mt.ones(2, 3), "n": mt.tensor(3)},
        "step": 7,
        "lr": float("inf"),
        "hist": (1.5, [mt.zeros(2, dtype=mt.int64)], None),
        "__metadata__": mt.ones(1),
    }
    mt.save(ckpt, path)
    raw = path.read_bytes()
    rng = np.random.default_rng(0)
    blobs = [
        rng.integers(0, 256, rng.integers(0, 64)).astype(np.uint8).tobytes() for _ in range(50)
    ]
    blobs += [raw[:cut] for cut in range(0, len(raw), 7)]
    for _ in range(400):
        b = bytearray(raw)
        for pos in rng.integers(0, len(b), rng.integers(1, 4)):
            b[pos] = int(rng.integers(0, 256))
        blobs.append(bytes(b))
    for blob in blobs:
        path.write_bytes(blob)
        try:
            mt.load(path)
        except ValueError:
            pass
