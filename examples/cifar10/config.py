"""The CIFAR-10 experiment shared by train_cifar10.py (mytensor) and train_cifar10_pytorch.py
(PyTorch): the reference CNN, the hyper-parameters, the command line and the output format.

Imports neither framework: `build_model` takes the framework's `nn` namespace, so both scripts
build the same network by construction. By default both runs also start from the same weights
(`initial_state`) and see the same batches (`epoch_plan`), both drawn here with NumPy from the
seed; `--framework-rng` leaves initialisation, shuffling and augmentation to each framework.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np

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
DEFAULTS = dict(
    optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0, epochs=10, batch_size=128, seed=0
)


# Independent NumPy streams for the shared initial weights and the per-epoch data plans.
INIT_STREAM, PLAN_STREAM = 1, 2


def _layers() -> list[tuple[str, tuple]]:
    """The network as (layer kind, sizes) in Sequential order; build_model and initial_state
    both walk it, so the state-dict names cannot drift apart."""
    layers, channels = [], 3
    for block in BLOCKS:
        if block == "M":
            layers.append(("MaxPool2d", (2,)))
            continue
        layers += [("Conv2d", (channels, block)), ("BatchNorm2d", (block,)), ("ReLU", ())]
        channels = block
    layers += [
        ("Flatten", ()),
        ("Linear", (FLAT_FEATURES, HIDDEN)),
        ("ReLU", ()),
        ("Linear", (HIDDEN, NUM_CLASSES)),
    ]
    return layers


def build_model(nn):
    """The reference CNN from either framework's `nn` (torch.nn or mytensor.nn), with that
    framework's default initialisation."""
    make = {
        "Conv2d": lambda cin, cout: nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        "BatchNorm2d": nn.BatchNorm2d,
        "ReLU": nn.ReLU,
        "MaxPool2d": nn.MaxPool2d,
        "Flatten": nn.Flatten,
        "Linear": nn.Linear,
    }
    return nn.Sequential(*[make[kind](*sizes) for kind, sizes in _layers()])


def _check_seed(seed: int) -> int:
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return seed


def initial_state(seed: int) -> dict[str, np.ndarray]:
    """The state dict of build_model's network drawn with NumPy from `seed`, from PyTorch's
    default initialisation distributions: Conv2d and Linear weights kaiming_uniform(a=sqrt(5)),
    i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), Linear biases the same; BatchNorm weight 1, bias 0,
    running mean 0, running variance 1. Float32 (num_batches_tracked int64); load it into either
    framework's model so that both twins start from identical weights."""
    rng = np.random.default_rng([INIT_STREAM, _check_seed(seed)])

    def uniform(shape, fan_in):
        bound = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    state = {}
    for i, (kind, sizes) in enumerate(_layers()):
        if kind == "Conv2d":
            cin, cout = sizes
            state[f"{i}.weight"] = uniform((cout, cin, 3, 3), cin * 9)
        elif kind == "BatchNorm2d":
            (c,) = sizes
            state[f"{i}.weight"] = np.ones(c, np.float32)
            state[f"{i}.bias"] = np.zeros(c, np.float32)
            state[f"{i}.running_mean"] = np.zeros(c, np.float32)
            state[f"{i}.running_var"] = np.ones(c, np.float32)
            state[f"{i}.num_batches_tracked"] = np.array(0, np.int64)
        elif kind == "Linear":
            fin, fout = sizes
            state[f"{i}.weight"] = uniform((fout, fin), fin)
            state[f"{i}.bias"] = uniform((fout,), fin)
    return state


def augmentation(args) -> tuple[int, bool]:
    """(crop padding, flip) of the training batches."""
    return (0, False) if args.no_augment else (CROP_PADDING, True)


def epoch_plan(seed: int, epoch: int, n: int, padding: int, flip: bool):
    """The training batches of one epoch, drawn with NumPy from (seed, epoch) alone, so a resumed
    run continues the same sequence.

    Returns:
        (order, params): order int64 (n), the permutation of the training set; params int32
        (n, 3), for position i of `order` the crop offsets dy, dx in [0, 2 * padding] into the
        zero-padded image and the flip bit (0 when not `flip`). Output pixel (y, x) reads padded
        pixel (y + dy, x + dx), mirrored horizontally when flipped.
    """
    rng = np.random.default_rng([PLAN_STREAM, _check_seed(seed), epoch])
    order = rng.permutation(n).astype(np.int64)
    params = np.zeros((n, 3), np.int32)
    params[:, :2] = rng.integers(0, 2 * padding + 1, (n, 2))
    if flip:
        params[:, 2] = rng.integers(0, 2, n)
    return order, params


def set_epoch_plan(loader, args, epoch: int) -> None:
    """Gives a training loader (either framework's) this epoch's shared plan; nothing under
    --framework-rng, where the loader shuffles and augments with its own generator."""
    if args.framework_rng:
        return
    padding, flip = augmentation(args)
    loader.set_epoch_plan(*epoch_plan(args.seed, epoch, len(loader.labels), padding, flip))


def rng_mode(args) -> str:
    """The run-detail words for how initial weights and batches were drawn."""
    return (
        "each framework's own RNG"
        if args.framework_rng
        else f"shared init and data plan (NumPy, seed {args.seed})"
    )


def make_optimizer(optim, params, args):
    """Adam, AdamW or SGD (with momentum) from either framework's `optim`."""
    if args.optimizer == "adam":
        return optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    if args.optimizer == "adamw":
        return optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    return optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)


# ---- the command line ----------------------------------------------------------------------------
class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows each flag's default, except where there is none to show (None, or an on/off
    switch that is off), and keeps the description's line breaks."""

    def _get_help_string(self, action):
        if action.default is None or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


def add_flags(p, default_device: str | None, log_json: bool = True) -> None:
    """Adds the training flags (identical in both scripts; compare.py forwards them) to `p`, a
    parser or an argument group. default_device None: the default is each script's own."""
    p.add_argument(
        "--optimizer",
        choices=["adam", "adamw", "sgd"],
        default=DEFAULTS["optimizer"],
        help="the optimizer",
    )
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="learning rate")
    p.add_argument(
        "--momentum", type=float, default=DEFAULTS["momentum"], help="momentum of --optimizer sgd"
    )
    p.add_argument(
        "--weight-decay", type=float, default=DEFAULTS["weight_decay"], help="weight decay"
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=DEFAULTS["epochs"],
        help="epochs in all (--resume trains those after the checkpoint's)",
    )
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="batch size")
    p.add_argument("--no-augment", action="store_true", help="train without random crops and flips")
    device_help = "cpu or cuda[:N] (default: cuda when available, else cpu"
    p.add_argument(
        "--device",
        default=default_device,
        help=device_help + (")" if default_device is None else "; here %(default)s)"),
    )
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="random seed (>= 0)")
    p.add_argument(
        "--framework-rng",
        action="store_true",
        help="initialise, shuffle and augment with each framework's own generator "
        "(off: both twins start from the same NumPy-drawn weights and see "
        "the same batches, crops and flips)",
    )
    p.add_argument(
        "--data-dir",
        default=os.environ.get("MYTENSOR_CIFAR10_DIR", "data"),
        metavar="DIR",
        help="folder holding (or to receive) cifar-10-batches-py/ (default: "
        "$MYTENSOR_CIFAR10_DIR if set, else ./data; here %(default)s)",
    )
    p.add_argument(
        "--download",
        action="store_true",
        help="download the official archive if the files are missing",
    )
    p.add_argument(
        "--subset",
        type=int,
        default=None,
        metavar="N",
        help="train on the first N training images, and evaluate on the first "
        "max(1, N // 5) test images (the official 5:1 ratio) unless "
        "--test-subset says otherwise (default: all 50,000 and 10,000)",
    )
    p.add_argument(
        "--test-subset",
        type=int,
        default=None,
        metavar="N",
        help="evaluate on the first N test images (default: all 10,000, or "
        "max(1, N // 5) with --subset N)",
    )
    p.add_argument(
        "--save",
        metavar="PATH",
        help="write a checkpoint after every epoch (atomically: a failed save keeps "
        "the previous file)",
    )
    p.add_argument(
        "--resume",
        metavar="PATH",
        help="continue from a checkpoint up to --epochs; the flags that define the "
        "run ("
        + ", ".join(f"--{n.replace('_', '-')}" for n in RESUME_MUST_MATCH)
        + ") must match the checkpoint's",
    )
    if log_json:
        p.add_argument("--log-json", metavar="PATH", help="write the per-epoch figures as JSON")
    p.add_argument("--plot", metavar="PNG", help="draw loss and accuracy curves")
    p.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: the framework's default)"
    )
    p.add_argument(
        "--no-graphs",
        action="store_true",
        help="mytensor on CUDA: run every training step eagerly instead of replaying "
        "it as one captured CUDA graph (the PyTorch twin always runs eagerly)",
    )


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The checks on the flags' values that need no file (compare.py makes them too)."""
    for name in ("epochs", "batch_size", "subset", "test_subset", "threads"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.lr <= 0:
        p.error(f"--lr must be positive, got {args.lr}")
    if args.seed < 0:
        p.error(f"--seed must be non-negative, got {args.seed}")
    for flag in ("save", "log_json", "plot"):
        path = getattr(args, flag, None)
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder and not os.path.isdir(folder):
            p.error(f"--{flag.replace('_', '-')} {path}: the folder {folder} does not exist")


def parse_args(description: str, default_device: str, argv=None) -> argparse.Namespace:
    """The flags, identical in both scripts. --subset N without --test-subset sets test_subset
    to max(1, N // 5)."""
    p = argparse.ArgumentParser(description=description, formatter_class=HelpFormatter)
    add_flags(p, default_device)
    args = p.parse_args(argv)
    check_args(p, args)
    if args.resume is not None and not os.path.isfile(args.resume):
        p.error(f"--resume: no checkpoint file at {args.resume}")
    if args.subset is not None and args.test_subset is None:
        args.test_subset = max(1, args.subset // 5)
    return args


# ---- checkpoints ---------------------------------------------------------------------------------
# The flags that define the experiment: a resumed run continues the checkpoint's only if they are
# the same (the optimizer's state and its param groups, lr included, come from the checkpoint,
# and the batch plans depend on batch size, seed, subset and augmentation).
RESUME_MUST_MATCH = (
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "batch_size",
    "seed",
    "subset",
    "no_augment",
    "framework_rng",
)


def _flag(name: str, value) -> str:
    flag = "--" + name.replace("_", "-")
    if value is None or value is False:
        return f"no {flag}"
    return flag if value is True else f"{flag} {value}"


def check_resume(path: str, script: str, epoch: int, saved_args, args) -> None:
    """Refuses (SystemExit with the reason and the way out) to resume from a checkpoint that
    cannot continue this run: one already at or past --epochs, or one made with other values of
    the flags that define the run (RESUME_MUST_MATCH)."""
    if isinstance(saved_args, dict):
        names = [
            n
            for n in RESUME_MUST_MATCH
            if n in saved_args and not (n == "momentum" and args.optimizer != "sgd")
        ]
        differ = [n for n in names if saved_args[n] != getattr(args, n)]
        if differ:
            theirs = ", ".join(_flag(n, saved_args[n]) for n in differ)
            ours = ", ".join(_flag(n, getattr(args, n)) for n in differ)
            raise SystemExit(
                f"{script}: error: --resume: {path} was trained with {theirs}, but this run has "
                f"{ours}; pass the checkpoint's values to continue it, or drop --resume to "
                "start a new run"
            )
    if epoch >= args.epochs:
        raise SystemExit(
            f"{script}: error: --resume: {path} is already at epoch {epoch} >= --epochs "
            f"{args.epochs}, so there is nothing to train; pass --epochs {epoch + 1} or more to "
            "continue it"
        )


def atomic_write(path: str, write) -> None:
    """Calls write(tmp) for a temporary file in path's folder, then renames it over `path`: a
    save that fails or is interrupted midway leaves the previous file as it was."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# ---- output --------------------------------------------------------------------------------------
def epoch_line(record: dict) -> str:
    """One epoch in the report's format."""
    return (
        f"Epoch {record['epoch']}: train_loss={record['train_loss']:.4f}, "
        f"train_acc={record['train_acc']:.4f}, test_loss={record['test_loss']:.4f}, "
        f"test_acc={record['test_acc']:.4f}, train_time={record['train_time']:.2f}s, "
        f"eval_time={record['eval_time']:.2f}s, epoch_time={record['epoch_time']:.2f}s"
    )


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

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(payload, f, indent=2)

    atomic_write(path, write)


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
