"""Data loading: datasets, DataLoader, the device-resident DeviceImageLoader and transforms."""

from mytensor.data import datasets, transforms
from mytensor.data.dataloader import DataLoader, DeviceImageLoader, default_collate
from mytensor.data.dataset import Dataset, Subset, TensorDataset

__all__ = [
    "DataLoader",
    "Dataset",
    "DeviceImageLoader",
    "Subset",
    "TensorDataset",
    "datasets",
    "default_collate",
    "transforms",
]
