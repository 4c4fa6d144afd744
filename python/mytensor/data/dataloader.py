"""Loaders: DataLoader (batches of any Dataset; whole-batch gathers for TensorDataset) and
DeviceImageLoader (an image set kept on the device as uint8, each batch shuffled, cropped,
flipped and normalised by one fused kernel, at random or by an explicit per-epoch plan)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from mytensor import _C
from mytensor._device import device as _device
from mytensor._tensor import Tensor
from mytensor.data.dataset import Dataset, TensorDataset


def default_collate(samples: list):
    """Stacks a list of samples into a batch: tensors and arrays are stacked along a new first
    dim, numbers become a tensor, tuples/lists/dicts are collated field by field."""
    from mytensor.creation import from_numpy, tensor
    from mytensor.ops.shape import stack

    first = samples[0]
    if isinstance(first, Tensor):
        return stack(samples, 0)
    if isinstance(first, np.ndarray):
        return from_numpy(np.stack(samples))
    if isinstance(first, bool) or isinstance(first, numbers.Number):
        return tensor(samples)
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError(
                "[default_collate] each sample in a batch must have the same number of fields"
            )
        return (
            type(first)(default_collate(list(f)) for f in zip(*samples))
            if isinstance(first, tuple)
            else [default_collate(list(f)) for f in zip(*samples)]
        )
    return samples


def _permutation(n: int, generator) -> Tensor:
    """A random permutation of range(n): from `generator` (an int seed or a NumPy Generator)
    if given, else from mytensor's global generator (seeded by mt.manual_seed)."""
    from mytensor.creation import from_numpy, randperm

    if generator is None:
        return randperm(n)
    if isinstance(generator, numbers.Integral):
        generator = np.random.default_rng(int(generator))
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"[DataLoader] generator must be an int seed or a numpy.random.Generator, "
            f"got {type(generator).__name__}"
        )
    return from_numpy(generator.permutation(n).astype(np.int64))


def _host_array(value) -> np.ndarray:
    """A NumPy view of a NumPy array, a sequence or a tensor (copied to the host)."""
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _check_batch_size(batch_size, cls: str) -> int:
    if (
        not isinstance(batch_size, numbers.Integral)
        or isinstance(batch_size, bool)
        or batch_size <= 0
    ):
        raise ValueError(
            f"[{cls}] batch_size should be a positive integer value, but got "
            f"batch_size={batch_size!r}"
        )
    return int(batch_size)


class DataLoader:
    """Iterates over a Dataset in batches.

    Args:
        dataset: the samples.
        batch_size: samples per batch (default 1).
        shuffle: a new random order every epoch (default False).
        drop_last: drop the last batch if it is smaller than batch_size.
        collate_fn: merges a list of samples into a batch (default_collate).
        generator: an int seed or a numpy.random.Generator for shuffling; by default
            mytensor's global generator, so ``mt.manual_seed`` makes epochs reproducible.
        num_workers: accepted for PyTorch compatibility (0 only).
        pin_memory: accepted for PyTorch compatibility (False only).

    A TensorDataset is batched with one index_select per tensor (a view when not shuffled);
    other data sets are read sample by sample and collated.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        generator=None,
    ) -> None:
        if sampler is not None or batch_sampler is not None:
            raise ValueError(
                "[DataLoader] sampler and batch_sampler are not supported; use "
                "shuffle= and batch_size="
            )
        if num_workers != 0:
            raise ValueError(f"[DataLoader] num_workers={num_workers} is not supported (only 0)")
        self.dataset = dataset
        self.batch_size = _check_batch_size(batch_size, "DataLoader")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn or default_collate
        if isinstance(generator, numbers.Integral):
            generator = np.random.default_rng(int(generator))
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = _permutation(n, self.generator) if self.shuffle else None
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        host_order = None
        for b in range(len(self)):
            start, stop = b * self.batch_size, min(n, (b + 1) * self.batch_size)
            if fast:
                idx = None if order is None else order[start:stop]
                yield self.dataset._batch(idx, start, stop)
                continue
            if order is not None and host_order is None:
                host_order = order.numpy().tolist()
            ids = range(start, stop) if host_order is None else host_order[start:stop]
            yield self.collate_fn([self.dataset[i] for i in ids])


class DeviceImageLoader:
    """An image data set held on the device as uint8 (N, C, H, W), batched by one fused kernel.

    Each batch is gathered from a per-epoch random permutation, randomly cropped from the image
    zero-padded by `padding` (torchvision's RandomCrop(H, padding=padding)), mirrored with
    probability 1/2 when `flip`, and normalised with `mean` and `std` — all in one
    ``augment_images`` call whose random choices come from mytensor's Philox generator, so a
    seeded run is reproducible (and the same on CPU and CUDA).

    :meth:`set_epoch_plan` replaces those random choices by explicit ones (the sample order and
    each sample's crop offsets and flip), e.g. to feed another framework's twin run exactly the
    same batches.

    Args:
        images: uint8 images, (N, C, H, W) or, with ``channels_last=True``, (N, H, W, C) as
            CIFAR10.data holds them; a NumPy array or a tensor.
        labels: N integer labels.
        batch_size: samples per batch.
        shuffle: a new random order every epoch (default True).
        drop_last: drop the last, smaller batch.
        padding: crop padding (0 turns cropping off).
        flip: random horizontal flips.
        mean: per-channel means subtracted after scaling to [0, 1].
        std: per-channel standard deviations divided by after that.
        device: where the images live and batches are made (default "cpu").
        dtype: dtype of the image batches (default float32).
    """

    def __init__(
        self,
        images,
        labels,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        padding: int = 0,
        flip: bool = False,
        mean=(0.0,),
        std=(1.0,),
        device=None,
        dtype=None,
        channels_last: bool = False,
    ) -> None:
        from mytensor._device import as_device
        from mytensor._dtype import float32
        from mytensor.creation import from_numpy, tensor

        device = as_device(device)
        if isinstance(images, Tensor):
            images = images.detach().cpu().numpy()
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(
                f"[DeviceImageLoader] images must be uint8 of 4 dims, got "
                f"{images.dtype} of shape {images.shape}"
            )
        if channels_last:
            images = images.transpose(0, 3, 1, 2)
        labels = np.asarray(labels.detach().cpu().numpy() if isinstance(labels, Tensor) else labels)
        if labels.shape != (images.shape[0],) or labels.dtype.kind not in "iu":
            raise ValueError(
                f"[DeviceImageLoader] labels must be {images.shape[0]} integers, "
                f"got {labels.dtype} of shape {labels.shape}"
            )
        channels = images.shape[1]
        mean, std = list(mean), list(std)
        if len(mean) == 1:
            mean = mean * channels
        if len(std) == 1:
            std = std * channels
        if len(mean) != channels or len(std) != channels:
            raise ValueError(
                f"[DeviceImageLoader] mean and std need one value per channel "
                f"({channels}), got {len(mean)} and {len(std)}"
            )
        if any(s == 0 for s in std):
            raise ValueError(f"[DeviceImageLoader] std evaluated to zero: {std}")
        if not isinstance(padding, numbers.Integral) or padding < 0:
            raise ValueError(
                f"[DeviceImageLoader] padding must be a non-negative int, got {padding!r}"
            )
        dtype = dtype or float32
        self.batch_size: int = _check_batch_size(batch_size, "DeviceImageLoader")
        self.shuffle: bool = bool(shuffle)
        self.drop_last: bool = bool(drop_last)
        self.padding: int = int(padding)
        self.flip: bool = bool(flip)
        self.device: _device = device
        self.images: Tensor = from_numpy(np.ascontiguousarray(images)).to(device)
        self.labels: Tensor = from_numpy(labels.astype(np.int64)).to(device)
        self.mean: Tensor = tensor(mean, dtype=dtype, device=device)
        self.std: Tensor = tensor(std, dtype=dtype, device=device)
        # (order int64 (N), params int32 (N, 3) or None) on the device, or None
        self._plan: tuple[Tensor, Tensor | None] | None = None

    def set_epoch_plan(self, order, params=None) -> None:
        """Fixes the sample order and, optionally, every crop and flip of the following passes.

        Position i of a pass yields sample ``order[i]``: output pixel (y, x) reads pixel
        ``(y + dy, x + dx)`` of the image zero-padded by `padding`, with ``(dy, dx) =
        params[i, :2]`` each in ``[0, 2 * padding]`` (``padding`` is the unshifted centre), and
        the crop is mirrored when ``params[i, 2]`` is 1 (torchvision's RandomCrop then
        RandomHorizontalFlip, with the choices given). Without `params` the crops
        and flips stay random (Philox). A plan overrides `shuffle` and draws nothing from the
        global generator; it holds for every pass until replaced, and ``set_epoch_plan(None)``
        goes back to random order and augmentation.

        The plan is checked here, on the host, and copied to the device in one transfer, so the
        batches cost no extra copy or synchronisation.

        Args:
            order: N sample indices in ``[0, N)`` (a NumPy array, a sequence or a tensor), or
                None to drop the plan.
            params: int ``(N, 3)``: dy, dx, flip per position of `order`, or None.

        Raises:
            ValueError: a wrong shape or an out-of-range value, naming it.
        """
        from mytensor.creation import from_numpy

        cls = "DeviceImageLoader.set_epoch_plan"
        if order is None:
            if params is not None:
                raise ValueError(f"[{cls}] params given without an order")
            self._plan = None
            return
        n = self.images.shape[0]
        order = _host_array(order)
        if order.shape != (n,) or order.dtype.kind not in "iu":
            raise ValueError(
                f"[{cls}] order must be {n} integers (one per image), got "
                f"{order.dtype} of shape {order.shape}"
            )
        if n and (order.min() < 0 or order.max() >= n):
            bad = int(np.flatnonzero((order < 0) | (order >= n))[0])
            raise ValueError(f"[{cls}] order[{bad}] = {order[bad]} is out of range for {n} images")
        packed = np.empty((n, 4), np.int64)  # one upload: order, dy, dx, flip
        packed[:, 0] = order
        if params is not None:
            params = _host_array(params)
            if params.shape != (n, 3) or params.dtype.kind not in "iu":
                raise ValueError(
                    f"[{cls}] params must be integers of shape ({n}, 3) "
                    f"(dy, dx, flip per sample), got {params.dtype} of shape "
                    f"{params.shape}"
                )
            span = 2 * self.padding
            bad = (
                (params[:, :2] < 0).any(1)
                | (params[:, :2] > span).any(1)
                | ((params[:, 2] != 0) & (params[:, 2] != 1))
            )
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"[{cls}] params[{i}] = {tuple(params[i].tolist())} is out of "
                    f"range: dy and dx must lie in [0, {span}] for padding "
                    f"{self.padding}, flip in {{0, 1}}"
                )
            if not self.flip and params[:, 2].any():
                raise ValueError(f"[{cls}] the plan flips samples but the loader has flip=False")
            packed[:, 1:] = params
        on_device = from_numpy(packed).to(self.device)
        self._plan = (
            on_device[:, 0].contiguous(),
            None if params is None else on_device[:, 1:].int().contiguous(),
        )

    def __len__(self) -> int:
        n = self.images.shape[0]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        from mytensor.creation import arange, get_rng_state, randperm, set_rng_state
        from mytensor.ops._util import native

        n = self.images.shape[0]
        if self._plan is not None:
            order, params = self._plan
        else:
            order = (
                randperm(n, device=self.device) if self.shuffle else arange(n, device=self.device)
            )
            params = None
        for b in range(len(self)):
            start, stop = b * self.batch_size, min(n, (b + 1) * self.batch_size)
            idx = order[start:stop]
            if params is not None:  # rows of a contiguous (N, 3) tensor: a contiguous view
                yield native(
                    _C.augment_images,
                    self.images,
                    self.labels,
                    idx,
                    self.mean,
                    self.std,
                    self.padding,
                    self.flip,
                    0,
                    0,
                    params[start:stop],
                )
                continue
            seed, offset = get_rng_state()
            set_rng_state((seed, offset + idx.shape[0]))  # sample i draws counter offset + i
            yield native(
                _C.augment_images,
                self.images,
                self.labels,
                idx,
                self.mean,
                self.std,
                self.padding,
                self.flip,
                seed,
                offset,
            )
