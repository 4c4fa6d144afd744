#!/usr/bin/env python3
"""Train the reference CNN on CIFAR-10 with mytensor (the PyTorch twin: train_cifar10_pytorch.py).

    uv run examples/cifar10/train_cifar10.py                       # defaults: Adam 1e-3, 10 epochs
    uv run examples/cifar10/train_cifar10.py --data-dir DIR        # DIR/cifar-10-batches-py/
    uv run examples/cifar10/train_cifar10.py --download --subset 5000 --epochs 2

The whole data set lives on the device as uint8; each batch is gathered, cropped (padding 4),
flipped and normalised by one fused kernel (mt.data.DeviceImageLoader). By default the initial
weights and every epoch's order, crops and flips come from config.py (NumPy, --seed), exactly as
in the twin; --framework-rng draws them from mytensor's own generator instead. On CUDA the
training step (forward, loss, backward, Adam) is captured once into a CUDA graph and replayed for
every full batch; --no-graphs runs it eagerly. Prints one line per epoch, then the total time;
--log-json, --plot, --save and --resume as in the twin.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import config  # noqa: E402
import mytensor as mt  # noqa: E402
from mytensor.data import DeviceImageLoader  # noqa: E402
from mytensor.data.datasets import CIFAR10  # noqa: E402

FRAMEWORK = "mytensor"
SCRIPT = os.path.basename(__file__)


def default_device() -> str:
    return "cuda" if mt.cuda.is_available() else "cpu"


def synchronize(device) -> None:
    """Waits for the device so that a clock reading covers the work queued before it."""
    if device.type == "cuda":
        mt.cuda.synchronize(device.index)


def load_data(args, device):
    """(train loader, test loader), with every image on `device` as uint8."""
    train = CIFAR10(args.data_dir, train=True, download=args.download)
    test = CIFAR10(args.data_dir, train=False, download=args.download)
    train_x, train_y = train.data[: args.subset], train.targets[: args.subset]
    test_x, test_y = test.data[: args.test_subset], test.targets[: args.test_subset]
    padding, flip = config.augmentation(args)
    train_loader = DeviceImageLoader(
        train_x,
        train_y,
        args.batch_size,
        shuffle=True,
        padding=padding,
        flip=flip,
        mean=config.MEAN,
        std=config.STD,
        device=device,
        channels_last=True,
    )
    test_loader = DeviceImageLoader(
        test_x,
        test_y,
        args.batch_size,
        shuffle=False,
        mean=config.MEAN,
        std=config.STD,
        device=device,
        channels_last=True,
    )
    return train_loader, test_loader


def make_model(args, device):
    """The reference CNN on `device`, from config's shared initial weights unless
    --framework-rng (then from mytensor's default initialisation)."""
    model = config.build_model(mt.nn)
    if not args.framework_rng:
        model.load_state_dict(config.initial_state(args.seed))
    return model.to(device)


def make_train_step(model, criterion, optimizer):
    """One training step on a batch: forward, loss, backward, optimizer step. Returns the loss and
    the number of correct predictions as device tensors (never read on the host here), so the
    same function runs eagerly or captured into a CUDA graph."""

    def train_step(x, y):
        logits = model(x)
        loss = criterion(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.detach(), (logits.detach().argmax(1) == y).sum()

    return train_step


def run_epoch(model, loader, criterion, device, step=None, desc=""):
    """One pass over `loader`: training when a step function is given, else evaluation. Loss and
    accuracy are accumulated on the device and read once at the end, so the loop never waits
    for the GPU."""
    model.train(step is not None)
    loss_sum = mt.zeros((), device=device)
    correct = mt.zeros((), dtype=mt.int64, device=device)
    count = 0
    with _grad(step is not None):
        for x, y in config.progress(loader, len(loader), desc):
            if step is not None:
                loss, hits = step(x, y)
            else:
                logits = model(x)
                loss, hits = criterion(logits, y), (logits.argmax(1) == y).sum()
            loss_sum.add_(loss * x.shape[0])
            correct.add_(hits)
            count += x.shape[0]
    return float(loss_sum.item()) / count, int(correct.item()) / count


class GraphedTrainStep:
    """The training step replayed as one CUDA graph (mt.cuda.make_graphed_step) for full batches;
    a last, smaller batch of an epoch runs the same step eagerly (a graph is shape-specific)."""

    def __init__(self, step, batch_size: int) -> None:
        self.eager, self.batch_size = step, batch_size
        self.graphed = mt.cuda.make_graphed_step(step)

    def __call__(self, x, y):
        if x.shape[0] == self.batch_size:
            return self.graphed(x, y)
        return self.eager(x, y)

    @property
    def capture_time(self):
        return self.graphed.capture_time


def _grad(enabled: bool):
    return mt.enable_grad() if enabled else mt.no_grad()


def save_checkpoint(path, model, optimizer, epoch, history, args) -> None:
    """Atomically (config.atomic_write): a save that fails midway keeps the previous file."""
    state = {
        "framework": FRAMEWORK,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "rng": list(mt.get_rng_state()),
        "history": history,
        "args": vars(args),
    }
    config.atomic_write(path, lambda tmp: mt.save(state, tmp))


def read_checkpoint(path, device, args) -> dict:
    """The checkpoint at `path`, refused (SystemExit, one line) when it is unreadable, not this
    script's, or cannot continue this run (config.check_resume)."""
    try:
        ckpt = mt.load(path, map_location=device)
    except (OSError, ValueError) as e:
        raise SystemExit(f"{SCRIPT}: error: --resume: cannot read {path}: {e}") from None
    if not isinstance(ckpt, dict) or ckpt.get("framework") != FRAMEWORK:
        raise SystemExit(f"{SCRIPT}: error: --resume: {path} is not a checkpoint of {SCRIPT}")
    config.check_resume(path, SCRIPT, int(ckpt["epoch"]), ckpt.get("args"), args)
    return ckpt


def restore_checkpoint(ckpt, model, optimizer):
    """Restores model, optimizer and generator; returns (last finished epoch, history)."""
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    mt.set_rng_state(ckpt["rng"])
    return int(ckpt["epoch"]), list(ckpt["history"])


def main(argv=None) -> list[dict]:
    args = config.parse_args(__doc__.splitlines()[0], default_device(), argv)
    if args.threads:
        mt._C.set_num_threads(args.threads)
    device = mt.device(args.device)
    mt.manual_seed(args.seed)
    ckpt = read_checkpoint(args.resume, device, args) if args.resume else None
    train_loader, test_loader = load_data(args, device)
    model = make_model(args, device)
    criterion = mt.nn.CrossEntropyLoss()
    optimizer = config.make_optimizer(mt.optim, model.parameters(), args)
    start, history = 0, []
    if ckpt is not None:
        start, history = restore_checkpoint(ckpt, model, optimizer)
        config.info(f"resumed from {args.resume} after epoch {start}")
    n_params = sum(p.numel() for p in model.parameters())
    config.info(
        f"{FRAMEWORK} {mt.__version__} on {device}: {len(train_loader.labels)} train / "
        f"{len(test_loader.labels)} test images, {n_params} parameters, "
        f"{args.optimizer} lr={args.lr}, batch {args.batch_size}, "
        f"augment={'off' if args.no_augment else 'on'}, {config.rng_mode(args)}"
    )
    step = make_train_step(model, criterion, optimizer)
    graphs = device.type == "cuda" and not args.no_graphs
    if graphs:
        step = GraphedTrainStep(step, args.batch_size)
    total = 0.0
    for epoch in range(start + 1, args.epochs + 1):
        config.set_epoch_plan(train_loader, args, epoch)  # one upload, before the clock starts
        synchronize(device)
        t0 = time.perf_counter()
        train_loss, train_acc = run_epoch(
            model, train_loader, criterion, device, step, desc=f"epoch {epoch}"
        )
        synchronize(device)
        t1 = time.perf_counter()
        test_loss, test_acc = run_epoch(model, test_loader, criterion, device, desc="eval")
        synchronize(device)
        t2 = time.perf_counter()
        record = dict(
            epoch=epoch,
            train_loss=train_loss,
            train_acc=train_acc,
            test_loss=test_loss,
            test_acc=test_acc,
            train_time=t1 - t0,
            eval_time=t2 - t1,
            epoch_time=t2 - t0,
        )
        if graphs and epoch == start + 1 and step.capture_time is not None:
            record["graph_capture_time"] = step.capture_time
            config.info(
                f"training step captured as a CUDA graph in {step.capture_time:.3f}s "
                f"(part of epoch {epoch}'s train_time, as are "
                f"{step.graphed.warmup} eager warm-up steps)"
            )
        history.append(record)
        total += record["epoch_time"]
        print(config.epoch_line(record), flush=True)
        if args.save:
            save_checkpoint(args.save, model, optimizer, epoch, history, args)
        if args.log_json:
            config.write_json(
                args.log_json,
                dict(
                    framework=FRAMEWORK,
                    device=str(device),
                    args=vars(args),
                    epochs=history,
                    total_time=total,
                ),
            )
    print(config.total_line(total), flush=True)
    if args.plot and history:
        config.plot(args.plot, history, f"{FRAMEWORK} reference CNN on CIFAR-10 ({device})")
    return history


if __name__ == "__main__":
    main()
