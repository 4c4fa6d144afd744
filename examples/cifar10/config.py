"""The CIFAR-10 experiment shared by train_cifar10.py (mytensor) and train_cifar10_pytorch.py
(PyTorch): the reference CNN, the hyper-parameters, the command line and the output format.

Imports neither framework: `build_model` takes the framework's `nn` namespace, so both scripts
build the same network by construction.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

# ---- the network ---------------------------------------------------------------------------------
# Conv2d(3x3, padding 1, no bias) -> BatchNorm2d -> ReLU blocks; "M" is MaxPool2d(2).
BLOCKS = [32, 32, "M", 64, 64, "M", 128, 128, "M"]
HIDDEN = 256
NUM_CLASSES = 10
FLAT_FEATURES = 128 * 4 * 4  # 128 channels of 4x4 after three poolings of 32x32 images

# ---- the data ------------------------------------------------------------------------------------
# Channel mean and std of the CIFAR-10 training images (the official release's figures).
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
CROP_PADDING = 4

# ---- the defaults --------------------------------------------------------------------------------
DEFAULTS = dict(optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0, epochs=10,
                batch_size=128, seed=0)


def build_model(nn):
    """The reference CNN from either framework's `nn` (torch.nn or mytensor.nn), with that
    framework's default initialisation."""
    layers, channels = [], 3
    for block in BLOCKS:
        if block == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        layers += [nn.Conv2d(channels, block, 3, padding=1, bias=False), nn.BatchNorm2d(block),
                   nn.ReLU()]
        channels = block
    layers += [nn.Flatten(), nn.Linear(FLAT_FEATURES, HIDDEN), nn.ReLU(),
               nn.Linear(HIDDEN, NUM_CLASSES)]
    return nn.Sequential(*layers)


def make_optimizer(optim, params, args):
    """Adam, AdamW or SGD (with momentum) from either framework's `optim`."""
    if args.optimizer == "adam":
        return optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    if args.optimizer == "adamw":
        return optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    return optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)


# ---- the command line ----------------------------------------------------------------------------
def parse_args(description: str, default_device: str, argv=None) -> argparse.Namespace:
    """The flags, identical in both scripts."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--optimizer", choices=["adam", "adamw", "sgd"], default=DEFAULTS["optimizer"])
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="learning rate")
    p.add_argument("--momentum", type=float, default=DEFAULTS["momentum"], help="SGD momentum")
    p.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"])
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    p.add_argument("--no-augment", action="store_true",
                   help="train without random crops and flips")
    p.add_argument("--device", default=default_device,
                   help=f"cpu or cuda[:N] (default here: {default_device})")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    p.add_argument("--data-dir", default=os.environ.get("MYTENSOR_CIFAR10_DIR", "data"),
                   help="folder holding (or to receive) cifar-10-batches-py/ "
                        "(default: $MYTENSOR_CIFAR10_DIR, else ./data)")
    p.add_argument("--download", action="store_true",
                   help="download the official archive if the files are missing")
    p.add_argument("--subset", type=int, default=None, metavar="N",
                   help="train on the first N training images (quick runs)")
    p.add_argument("--test-subset", type=int, default=None, metavar="N",
                   help="evaluate on the first N test images (quick runs)")
    p.add_argument("--save", metavar="PATH", help="write a checkpoint after every epoch")
    p.add_argument("--resume", metavar="PATH", help="continue from a checkpoint")
    p.add_argument("--log-json", metavar="PATH", help="write the per-epoch figures as JSON")
    p.add_argument("--plot", metavar="PNG", help="draw loss and accuracy curves")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default: the framework's default)")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "subset", "test_subset"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.lr <= 0:
        p.error(f"--lr must be positive, got {args.lr}")
    return args


# ---- output --------------------------------------------------------------------------------------
def epoch_line(record: dict) -> str:
    """One epoch in the report's format."""
    return (f"Epoch {record['epoch']}: train_loss={record['train_loss']:.4f}, "
            f"train_acc={record['train_acc']:.4f}, test_loss={record['test_loss']:.4f}, "
            f"test_acc={record['test_acc']:.4f}, train_time={record['train_time']:.2f}s, "
            f"eval_time={record['eval_time']:.2f}s, epoch_time={record['epoch_time']:.2f}s")


def total_line(seconds: float) -> str:
    return f"Total training time: {seconds:.2f}s"


def progress(iterable, total: int, desc: str):
    """A tqdm bar on an interactive terminal (on stderr); the bare iterable otherwise, so that
    logs hold only the epoch lines."""
    if not sys.stderr.isatty():
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


def info(message: str) -> None:
    """Run details go to stderr; stdout holds only the epoch and total lines."""
    print(message, file=sys.stderr, flush=True)


def write_json(path: str, payload: dict) -> None:
    """Atomically (temporary file + rename), so a crash mid-write keeps the previous log."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=2)
    os.replace(tmp, path)


def plot(path: str, history: list[dict], title: str) -> None:
    """Loss and accuracy curves (train and test, per epoch) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "acc", "accuracy")):
        ax.plot(epochs, [r[f"train_{key}"] for r in history], "o-", label="train")
        ax.plot(epochs, [r[f"test_{key}"] for r in history], "s-", label="test")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
