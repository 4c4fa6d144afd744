"""Datasets: the Dataset protocol, TensorDataset (batches are whole-tensor gathers) and Subset."""

from __future__ import annotations

from mytensor._tensor import Tensor


class Dataset:
    """A map-style data set: ``len(ds)`` samples, ``ds[i]`` the i-th one."""

    def __getitem__(self, index):
        raise NotImplementedError(
            f"[{type(self).__name__}] Dataset subclasses must define __getitem__"
        )

    def __len__(self) -> int:
        raise NotImplementedError(f"[{type(self).__name__}] Dataset subclasses must define __len__")


class TensorDataset(Dataset):
    """Samples are slices of tensors along their first dim: ``ds[i] = (t[i] for t in tensors)``.

    A DataLoader over it gathers a whole batch with one index_select per tensor (or takes a
    view of consecutive samples without shuffling), with no per-sample Python work.

    Args:
        *tensors: tensors with the same first dim.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"[TensorDataset] argument {i} is a {type(t).__name__}, "
                    "expected a mytensor Tensor"
                )
            if t.ndim == 0:
                raise ValueError(
                    f"[TensorDataset] argument {i} is 0-d; tensors need a first (sample) dim"
                )
        n = tensors[0].shape[0]
        for i, t in enumerate(tensors):
            if t.shape[0] != n:
                raise ValueError(
                    f"[TensorDataset] size mismatch between tensors: argument 0 has "
                    f"{n} samples, argument {i} has {t.shape[0]} (shape {t.shape})"
                )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _batch(self, indices: Tensor | None, start: int, stop: int) -> tuple:
        """The samples at `indices` (an int64 tensor), or the slice start:stop when None."""
        if indices is None:
            return tuple(t[start:stop] for t in self.tensors)
        return tuple(t.index_select(0, indices.to(t.device)) for t in self.tensors)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)
