#!/usr/bin/env python3
"""Train the reference CNN on CIFAR-10 with PyTorch: the twin of train_cifar10.py.

    uv run examples/cifar10/train_cifar10_pytorch.py [the same flags as train_cifar10.py]

Same network (config.build_model), hyper-parameters, data, augmentation and output format. As
in the mytensor script, the images stay on the device as uint8 and each batch is augmented
there (here by a few vectorised PyTorch ops), so neither side pays for a host data pipeline.
By default both scripts start from config.initial_state(seed) and apply config.epoch_plan(seed,
epoch): identical weights and batches; --framework-rng uses PyTorch's own generator instead.
"""

from __future__ import annotations

import os
import pickle
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import config  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# The same files through the same reader (official layout, md5-checked download), so both
# scripts see identical data; nothing else of mytensor is used here.
from mytensor.data.datasets import CIFAR10  # noqa: E402

FRAMEWORK = "pytorch"
SCRIPT = os.path.basename(__file__)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def synchronize(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class DeviceLoader:
    """uint8 images on the device; per batch: gather, random crop (zero padding), flip,
    normalise — torchvision's RandomCrop(32, padding) + RandomHorizontalFlip + Normalize. The
    order, crops and flips are random (torch's generator) unless set_epoch_plan fixed them."""

    def __init__(self, images, labels, batch_size, shuffle, padding, flip, device):
        self.images = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        self.images = self.images.to(device)
        self.labels = torch.as_tensor(np.asarray(labels, np.int64)).to(device)
        self.batch_size, self.shuffle, self.padding, self.flip = batch_size, shuffle, padding, flip
        self.device = device
        self.mean = torch.tensor(config.MEAN, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(config.STD, device=device).view(1, 3, 1, 1)
        self.plan = None

    def set_epoch_plan(self, order, params) -> None:
        """The twin of mytensor's DeviceImageLoader.set_epoch_plan: position i yields sample
        order[i], cropped at (dy, dx) = params[i, :2] of the padded image and mirrored when
        params[i, 2]; uploaded once (order, dy, dx, flip packed in one int64 array)."""
        n = len(self.labels)
        if order.shape != (n,) or params.shape != (n, 3):
            raise ValueError(
                f"set_epoch_plan: expected order ({n},) and params ({n}, 3), got "
                f"{order.shape} and {params.shape}"
            )
        packed = np.concatenate([order[:, None], params], axis=1).astype(np.int64)
        packed = torch.from_numpy(packed).to(self.device)
        self.plan = (packed[:, 0], packed[:, 1], packed[:, 2], packed[:, 3] != 0)

    def __len__(self) -> int:
        return (len(self.labels) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n = len(self.labels)
        if self.plan is not None:
            order = self.plan[0]
        else:
            order = (
                torch.randperm(n, device=self.device)
                if self.shuffle
                else torch.arange(n, device=self.device)
            )
        for start in range(0, n, self.batch_size):
            stop = min(n, start + self.batch_size)
            idx = order[start:stop]
            x = self.images[idx].float().div_(255)
            b, c, h, w = x.shape
            if self.padding:
                # Output pixel (y, x) reads padded pixel (y + dy, x + dx), as in augment_images.
                p = self.padding
                padded = F.pad(x, (p, p, p, p))
                if self.plan is not None:
                    dy, dx = self.plan[1][start:stop], self.plan[2][start:stop]
                else:
                    dy = torch.randint(0, 2 * p + 1, (b,), device=self.device)
                    dx = torch.randint(0, 2 * p + 1, (b,), device=self.device)
                rows = (dy[:, None] + torch.arange(h, device=self.device))[:, None, :, None]
                cols = (dx[:, None] + torch.arange(w, device=self.device))[:, None, None, :]
                batch = torch.arange(b, device=self.device)[:, None, None, None]
                chan = torch.arange(c, device=self.device)[None, :, None, None]
                x = padded[batch, chan, rows, cols]
            if self.flip:
                mirror = (
                    self.plan[3][start:stop]
                    if self.plan is not None
                    else torch.rand(b, device=self.device) < 0.5
                )
                x = torch.where(mirror[:, None, None, None], x.flip(3), x)
            yield (x - self.mean) / self.std, self.labels[idx]


def load_data(args, device):
    train = CIFAR10(args.data_dir, train=True, download=args.download)
    test = CIFAR10(args.data_dir, train=False, download=args.download)
    padding, flip = config.augmentation(args)
    train_loader = DeviceLoader(
        train.data[: args.subset],
        train.targets[: args.subset],
        args.batch_size,
        True,
        padding,
        flip,
        device,
    )
    test_loader = DeviceLoader(
        test.data[: args.test_subset],
        test.targets[: args.test_subset],
        args.batch_size,
        False,
        0,
        False,
        device,
    )
    return train_loader, test_loader


def make_model(args, device):
    """The reference CNN on `device`, from config's shared initial weights unless
    --framework-rng (then from PyTorch's default initialisation)."""
    model = config.build_model(torch.nn)
    if not args.framework_rng:
        state = {k: torch.from_numpy(v) for k, v in config.initial_state(args.seed).items()}
        model.load_state_dict(state)
    return model.to(device)


def run_epoch(model, loader, criterion, device, optimizer=None, desc=""):
    """One pass (training when an optimizer is given); figures accumulated on the device."""
    model.train(optimizer is not None)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    count = 0
    with torch.set_grad_enabled(optimizer is not None):
        for x, y in config.progress(loader, len(loader), desc):
            logits = model(x)
            loss = criterion(logits, y)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            loss_sum += loss.detach() * x.shape[0]
            correct += (logits.detach().argmax(1) == y).sum()
            count += x.shape[0]
    return float(loss_sum.item()) / count, int(correct.item()) / count


def save_checkpoint(path, model, optimizer, epoch, history, args) -> None:
    """Atomically (config.atomic_write): a save that fails midway keeps the previous file."""
    rng = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    state = {
        "framework": FRAMEWORK,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "rng": rng,
        "history": history,
        "args": vars(args),
    }
    config.atomic_write(path, lambda tmp: torch.save(state, tmp))


def read_checkpoint(path, device, args) -> dict:
    """The checkpoint at `path`, refused (SystemExit, one line) when it is unreadable, not this
    script's, or cannot continue this run (config.check_resume)."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # torch.load of arbitrary bytes raises KeyError, IndexError, ...
        if isinstance(e, pickle.UnpicklingError):  # its text suggests weights_only=False: no
            why = f"not a checkpoint written by torch.save ({type(e).__name__})"
        else:
            why = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise SystemExit(f"{SCRIPT}: error: --resume: cannot read {path}: {why}") from None
    if not isinstance(ckpt, dict) or ckpt.get("framework") != FRAMEWORK:
        raise SystemExit(f"{SCRIPT}: error: --resume: {path} is not a checkpoint of {SCRIPT}")
    config.check_resume(path, SCRIPT, int(ckpt["epoch"]), ckpt.get("args"), args)
    return ckpt


def restore_checkpoint(ckpt, model, optimizer):
    """Restores model, optimizer and generators; returns (last finished epoch, history)."""
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    torch.set_rng_state(ckpt["rng"]["cpu"].cpu())
    if "cuda" in ckpt["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in ckpt["rng"]["cuda"]])
    return int(ckpt["epoch"]), list(ckpt["history"])


def main(argv=None) -> list[dict]:
    args = config.parse_args(__doc__.splitlines()[0], default_device(), argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    ckpt = read_checkpoint(args.resume, device, args) if args.resume else None
    train_loader, test_loader = load_data(args, device)
    model = make_model(args, device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = config.make_optimizer(torch.optim, model.parameters(), args)
    start, history = 0, []
    if ckpt is not None:
        start, history = restore_checkpoint(ckpt, model, optimizer)
        config.info(f"resumed from {args.resume} after epoch {start}")
    n_params = sum(p.numel() for p in model.parameters())
    config.info(
        f"{FRAMEWORK} {torch.__version__} on {device}: {len(train_loader.labels)} train / "
        f"{len(test_loader.labels)} test images, {n_params} parameters, "
        f"{args.optimizer} lr={args.lr}, batch {args.batch_size}, "
        f"augment={'off' if args.no_augment else 'on'}, {config.rng_mode(args)}"
    )
    total = 0.0
    for epoch in range(start + 1, args.epochs + 1):
        config.set_epoch_plan(train_loader, args, epoch)  # one upload, before the clock starts
        synchronize(device)
        t0 = time.perf_counter()
        train_loss, train_acc = run_epoch(
            model, train_loader, criterion, device, optimizer, desc=f"epoch {epoch}"
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
        config.plot(args.plot, history, f"PyTorch reference CNN on CIFAR-10 ({device})")
    return history


if __name__ == "__main__":
    main()
