"""Optimizers (each step one fused native call per parameter group) and learning-rate schedules."""

from mytensor.optim import lr_scheduler
from mytensor.optim.adam import Adam, AdamW
from mytensor.optim.optimizer import Optimizer
from mytensor.optim.sgd import SGD

__all__ = ["Adam", "AdamW", "Optimizer", "SGD", "lr_scheduler"]
