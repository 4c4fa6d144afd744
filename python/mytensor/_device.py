"""Devices: ``mt.device("cuda:1")``, mirroring ``torch.device``."""

from __future__ import annotations

from mytensor import _C


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda", 1)``.

    A bare ``"cuda"`` means the first GPU, ``cuda:0``.
    """

    __slots__ = ("type", "index", "_c")
    type: str
    index: int | None

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            other = type
            type, index = other.type, other.index
        if not isinstance(type, str):
            raise TypeError(f"[device] expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        name = type.strip().lower()
        if ":" in name:
            if index is not None:
                raise ValueError(f"[device] index given twice: {type!r} and index={index}")
            name, _, idx = name.partition(":")
            if not idx.isdigit():
                raise ValueError(f"[device] invalid device string {type!r}")
            index = int(idx)
        if name not in ("cpu", "cuda"):
            raise ValueError(f"[device] expected 'cpu' or 'cuda[:N]', got {type!r}")
        if name == "cpu":
            if index not in (None, 0):
                raise ValueError(f"[device] the CPU has no index {index}")
            index = 0
        elif index is None:
            index = 0
        elif index < 0:
            raise ValueError(f"[device] negative device index {index}")
        self.type = name
        self.index = index
        self._c = _C.Device(_C.DeviceType.cuda if name == "cuda" else _C.DeviceType.cpu, index)

    @staticmethod
    def from_c(c_device) -> device:
        """The device of a native ``_C.Device``."""
        if c_device.type == _C.DeviceType.cpu:
            return _CPU
        return device("cuda", c_device.index)

    def __eq__(self, other: object) -> bool:
        if other is self:  # the common case: both are the one cpu device
            return True
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        if self.type == "cpu":
            return "device(type='cpu')"
        return f"device(type='cuda', index={self.index})"

    def __str__(self) -> str:
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"


_CPU = device("cpu")


def as_device(d) -> device:
    """Normalises a string, device or None (-> cpu) to a device."""
    if d is None:
        return _CPU
    if isinstance(d, device):
        return d
    if isinstance(d, int):
        return device("cuda", d)
    return device(d)
