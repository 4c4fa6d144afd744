"""Per-sample transforms with torchvision's names: ToTensor, Normalize, RandomCrop,
RandomHorizontalFlip, Compose. Images are HWC uint8 NumPy arrays before ToTensor (as CIFAR10
returns them) and CHW float tensors after it. Random choices come from mytensor's generator.

For training speed, prefer DeviceImageLoader, which does crop + flip + normalise for a whole
batch in one kernel.
"""

import numbers as _numbers

import numpy as _np

from mytensor._tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip"]


def _randint(high: int, count: int = 1) -> list[int]:
    """`count` integers uniform in [0, high) from mytensor's generator."""
    from mytensor.creation import randint

    return randint(0, high, (count,)).numpy().tolist()


class Compose:
    """Applies transforms in order."""

    def __init__(self, transforms) -> None:
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """HWC uint8 array -> CHW float32 tensor in [0, 1] (a float array is only transposed)."""

    def __call__(self, pic):
        from mytensor.creation import from_numpy

        if isinstance(pic, Tensor):
            return pic
        array = _np.asarray(pic)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3:
            raise ValueError(f"[ToTensor] expected an HWC or HW image, got shape {array.shape}")
        chw = _np.ascontiguousarray(array.transpose(2, 0, 1))
        if chw.dtype == _np.uint8:
            return from_numpy(chw.astype(_np.float32) / _np.float32(255))
        return from_numpy(chw.astype(_np.float32, copy=False))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] for a CHW (or NCHW) float tensor.

    Args:
        mean: one value per channel.
        std: one value per channel.
    """

    def __init__(self, mean, std, inplace: bool = False) -> None:
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]
        if len(self.mean) != len(self.std):
            raise ValueError(
                f"[Normalize] mean and std differ in length: {len(self.mean)} vs {len(self.std)}"
            )
        if any(s == 0 for s in self.std):
            raise ValueError(
                f"[Normalize] std evaluated to zero, leading to division by zero: {self.std}"
            )
        self.inplace = inplace

    def __call__(self, x):
        from mytensor.creation import tensor

        if not isinstance(x, Tensor) or not x.dtype.is_floating_point:
            raise TypeError(
                "[Normalize] expected a float tensor (apply ToTensor first), got "
                f"{type(x).__name__}"
            )
        channels = len(self.mean)
        if x.ndim < 3 or (channels != 1 and x.shape[-3] != channels):
            raise ValueError(
                f"[Normalize] expected (..., {len(self.mean)}, H, W), got shape {x.shape}"
            )
        shape = (len(self.mean), 1, 1)
        mean = tensor(self.mean, dtype=x.dtype, device=x.device).reshape(shape)
        std = tensor(self.std, dtype=x.dtype, device=x.device).reshape(shape)
        return (x - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


def _as_hw(size) -> tuple[int, int]:
    if isinstance(size, _numbers.Integral):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"[RandomCrop] size must be an int or (h, w), got {size!r}")


class RandomCrop:
    """Crops a random (h, w) window, after zero-padding each side by `padding`.

    Works on an HWC array or a CHW tensor.
    """

    def __init__(
        self,
        size,
        padding=None,
        pad_if_needed: bool = False,
        fill=0,
        padding_mode: str = "constant",
    ) -> None:
        self.size = _as_hw(size)
        if padding is None:
            padding = 0
        if not isinstance(padding, _numbers.Integral) or padding < 0:
            raise ValueError(f"[RandomCrop] padding must be a non-negative int, got {padding!r}")
        if padding_mode != "constant" or pad_if_needed:
            raise ValueError(
                "[RandomCrop] only padding_mode='constant' without pad_if_needed is supported"
            )
        self.padding = int(padding)
        self.fill = fill

    def __call__(self, img):
        is_tensor = isinstance(img, Tensor)
        array = img.numpy() if is_tensor else _np.asarray(img)
        hw_axes = (1, 2) if is_tensor else (0, 1)
        p = self.padding
        if p:
            pads = [(0, 0)] * array.ndim
            pads[hw_axes[0]] = pads[hw_axes[1]] = (p, p)
            array = _np.pad(array, pads, constant_values=self.fill)
        h, w = array.shape[hw_axes[0]], array.shape[hw_axes[1]]
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(
                f"[RandomCrop] required crop size {self.size} is larger than the "
                f"(padded) image size {(h, w)}"
            )
        i, j = _randint(h - th + 1)[0], _randint(w - tw + 1)[0]
        if is_tensor:
            from mytensor.creation import from_numpy

            return from_numpy(_np.ascontiguousarray(array[:, i : i + th, j : j + tw]))
        return _np.ascontiguousarray(array[i : i + th, j : j + tw])

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirrors the image left-right with probability p (default 0.5)."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"[RandomHorizontalFlip] p must be in [0, 1], got {p!r}")
        self.p = p

    def __call__(self, img):
        from mytensor.creation import rand

        if float(rand(1).numpy()[0]) >= self.p:
            return img
        if isinstance(img, Tensor):
            return img.flip(-1)
        return _np.ascontiguousarray(_np.asarray(img)[:, ::-1])

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"
