"""Training steps of whole models, mytensor against PyTorch in one process (issue #12): the same
weights, the same fixed batch, cross-entropy, each configuration a row.

    uv run python benchmarks/bench_models.py [--models resnet18,cnn] [--steps 30]
        [--configs torch-eager,torch-graph,...] [--device cuda]

Models: ResNet-18 for CIFAR (3x3 stem, BasicBlock stages 64-128-256-512, batch 256, SGD lr 0.1,
momentum 0.9, Nesterov, weight decay 5e-4), the reference CNN of bench_train_step.py (batch
128, Adam 1e-3) and a wide VGG-style net (`vgg`: 128-128-256-256-512-512-512 3x3 conv-BN-ReLU
layers, batch 512, SGD as ResNet-18); both frameworks' models come from one function of the `nn`
namespace, and the PyTorch weights are copied into mytensor's. TF32 is on for convolutions and
matmul in both.
Configurations (CUDA graphs capture forward, backward and optimizer step on a static batch):

    torch-eager           PyTorch eager
    torch-graph           PyTorch, the whole step as one torch.cuda.graph
    torch-cl-graph        the same with channels_last model and input
    torch-bf16-cl-graph   the same under bf16 autocast
    mt-eager              mytensor eager
    mt-graph              mytensor, the whole step as one graph (mt.cuda.make_graphed_step)

Reported: median ms per step after warm-up, steps/s, and the ratio to PyTorch's best fp32
configuration of that model (bf16 is not a like-for-like baseline). On the CPU the graph
configurations are skipped with the reason: `--device cpu --steps 2 --models cnn` is a smoke test.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys

import mytensor as mt
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench_train_step import reference_cnn  # noqa: E402
from common import provenance, table, time_fn  # noqa: E402

CONFIGS = [
    "torch-eager",
    "torch-graph",
    "torch-cl-graph",
    "torch-bf16-cl-graph",
    "mt-eager",
    "mt-graph",
]
FP32_TORCH = ("torch-eager", "torch-graph", "torch-cl-graph")  # the baseline: the best of these


def resnet18(nn, num_classes: int = 10):
    """ResNet-18 for 32x32 inputs: a 3x3 stem conv (64), four stages of two BasicBlocks (64, 128,
    256, 512 channels; strides 1, 2, 2, 2), adaptive average pooling, a 512 -> 10 linear layer."""

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu2 = nn.ReLU()
            self.shortcut = (
                nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
                )
                if stride != 1 or cin != cout
                else nn.Identity()
            )

        def forward(self, x):
            out = self.relu1(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu2(out + self.shortcut(x))

    layers = [nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    cin = 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def vgg_wide(nn, num_classes: int = 10):
    """A wide VGG-style net for 32x32 inputs: 3x3 conv + batch-norm + ReLU blocks of 128, 128,
    256, 256, 512, 512, 512 channels with 2x2 max-pooling after the 2nd, 4th, 6th and 7th,
    adaptive average pooling, a 512 -> 10 linear layer (arithmetic-bound: 7 wide layers)."""
    layers, cin = [], 3
    for item in [128, 128, "M", 256, 256, "M", 512, 512, "M", 512, "M"]:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        layers += [nn.Conv2d(cin, item, 3, padding=1, bias=False), nn.BatchNorm2d(item), nn.ReLU()]
        cin = item
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def _sgd(opt_mod, params, **extra):
    return opt_mod.SGD(
        params,
        lr=0.1,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        **_accepted(opt_mod.SGD, extra),
    )


def _adam(opt_mod, params, **extra):
    return opt_mod.Adam(params, lr=1e-3, **_accepted(opt_mod.Adam, extra))


def _accepted(cls, kw: dict) -> dict:
    """The keyword arguments `cls` takes (torch's SGD has no `capturable`: nothing to capture)."""
    names = inspect.signature(cls).parameters
    return {k: v for k, v in kw.items() if k in names}


# name: (builder of the network from an `nn` namespace, batch size, optimizer factory)
MODELS = {
    "resnet18": (resnet18, 256, _sgd),
    "cnn": (reference_cnn, 128, _adam),
    "vgg": (vgg_wide, 512, _sgd),
}


def _batch(batch_size: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch_size, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch_size).astype(np.int64)
    return x, y


def _torch_model(build, dev: str):
    torch.manual_seed(0)  # every configuration starts from the same weights
    return build(torch.nn).to(dev).train()


def torch_step(name: str, dev: str, config: str, batch_size: int):
    """A PyTorch training step for `config`, and the function that synchronises its device."""
    build, _, make_opt = MODELS[name]
    model = _torch_model(build, dev)
    x, y = _batch(batch_size)
    tx, ty = torch.tensor(x, device=dev), torch.tensor(y, device=dev)
    channels_last = "-cl-" in config
    bf16 = "-bf16-" in config
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        tx = tx.contiguous(memory_format=torch.channels_last)
    graph = config.endswith("-graph")
    opt = make_opt(torch.optim, model.parameters(), capturable=graph)

    def step():
        opt.zero_grad(set_to_none=not graph)  # a graph keeps its .grad buffers
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16, cache_enabled=False):
            loss = torch.nn.functional.cross_entropy(model(tx), ty)
        loss.backward()
        opt.step()
        return loss

    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    if not graph:
        return step, sync
    # Warm up on a side stream (optimizer state, cuDNN autotuning), then capture the whole step
    # on the same static batch; replaying the graph is the step.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        step()
    return g.replay, sync


def mt_step(name: str, dev: str, config: str, batch_size: int):
    """A mytensor training step for `config` (weights copied from the PyTorch model)."""
    build, _, make_opt = MODELS[name]
    tmodel = _torch_model(build, "cpu")
    model = build(mt.nn)
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    model.to(dev).train()
    opt = make_opt(mt.optim, model.parameters())
    x, y = _batch(batch_size)
    mx, my = mt.tensor(x, device=dev), mt.tensor(y, device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = mt.nn.functional.cross_entropy(model(mx), my)
        loss.backward()
        opt.step()
        return loss

    sync = mt.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    if config == "mt-graph":
        return mt.cuda.make_graphed_step(step), sync
    return step, sync


def skip_reason(config: str, dev: str) -> str:
    if config.endswith("-graph") and not dev.startswith("cuda"):
        return "CUDA graphs need --device cuda"
    if config.startswith("mt-") and dev.startswith("cuda") and not mt.cuda.is_available():
        return "mytensor was built without CUDA"
    return ""


def set_tf32(on: bool) -> None:
    torch.backends.cudnn.allow_tf32 = on
    torch.backends.cuda.matmul.allow_tf32 = on
    mt.backends.cudnn.allow_tf32 = on
    mt.backends.cuda.matmul.allow_tf32 = on


def main(argv=None) -> list[tuple]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--models", default="resnet18,cnn,vgg", help="comma-separated: " + ",".join(MODELS)
    )
    p.add_argument(
        "--configs", default=",".join(CONFIGS), help="comma-separated: " + ",".join(CONFIGS)
    )
    p.add_argument("--steps", type=int, default=30, help="timed steps per configuration")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (graphs: replays)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch-size", type=int, help="instead of each model's own (smoke tests)")
    args = p.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    configs = [c for c in args.configs.split(",") if c]
    for m in models:
        if m not in MODELS:
            p.error(f"unknown model {m!r}; choose from {', '.join(MODELS)}")
    for c in configs:
        if c not in CONFIGS:
            p.error(f"unknown config {c!r}; choose from {', '.join(CONFIGS)}")

    print(provenance())
    set_tf32(True)
    rows = []
    for name in models:
        batch = args.batch_size or MODELS[name][1]
        ms = {}
        for config in configs:
            reason = skip_reason(config, args.device)
            if reason:
                ms[config] = reason
                print(f"{name} {config}: skipped ({reason})")
                continue
            make = mt_step if config.startswith("mt-") else torch_step
            fn, sync = make(name, args.device, config, batch)
            ms[config] = 1e3 * time_fn(fn, sync, warmup=args.warmup, reps=args.steps, min_time=0)
            print(f"{name} {config}: {ms[config]:.2f} ms/step", flush=True)
            del fn
        fp32 = [ms[c] for c in FP32_TORCH if isinstance(ms.get(c), float)]
        best = min(fp32) if fp32 else None
        for config in configs:
            v = ms[config]
            if isinstance(v, str):
                rows.append((name, batch, config, "-", "-", "-", v))
                continue
            ratio = f"{v / best:.2f}" if best else "-"
            rows.append((name, batch, config, f"{v:.2f}", f"{1e3 / v:.1f}", ratio, ""))
    headers = ("model", "batch", "config", "ms/step", "steps/s", "x best torch fp32", "note")
    print(f"device {args.device}, {args.steps} timed steps after {args.warmup} warm-up, TF32 on")
    print(table(rows, headers))
    return rows


if __name__ == "__main__":
    main()
