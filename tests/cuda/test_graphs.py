"""CUDA graphs (mt.cuda.make_graphed_step, mt.cuda.CUDAGraph): a graphed training step equals the
eager one step for step, and every way a replay could silently go wrong raises GraphCaptureError.

Every test but the last needs a GPU; without one they skip (MYTENSOR_REQUIRE_CUDA=1 turns that
into a failure at start-up, see tests/conftest.py).
"""

from __future__ import annotations

import gc

import mytensor as mt
import mytensor.nn as nn
import mytensor.nn.functional as F
import numpy as np
import pytest
from mytensor.optim import SGD, Adam, AdamW
from mytensor.optim.lr_scheduler import OneCycleLR, StepLR

cuda = pytest.mark.skipif(
    not mt.cuda.is_available(),
    reason="CUDA is not available (no GPU, or mytensor built without CUDA)",
)
GraphCaptureError = mt.cuda.GraphCaptureError


class Net(nn.Module):
    """A small CNN with every layer kind of the CIFAR path: conv, batchnorm, relu, pool, linear."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)
        self.drop = nn.Dropout(p) if p > 0 else None

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        x = x.flatten(1)
        if self.drop is not None:
            x = self.drop(x)
        return self.fc(x)


def _batches(n: int, batch: int = 8):
    rng = np.random.default_rng(0)
    return [
        (
            mt.tensor(rng.standard_normal((batch, 3, 8, 8)).astype(np.float32), device="cuda"),
            mt.tensor(rng.integers(0, 10, batch), device="cuda"),
        )
        for _ in range(n)
    ]


def _model(p: float = 0.0) -> Net:
    mt.manual_seed(1)
    return Net(p).to("cuda")


def _train(
    graphed: bool,
    make_opt,
    *,
    steps: int = 6,
    p: float = 0.0,
    sched_inside=None,
    sched_outside=None,
    warmup: int = 2,
    verify: bool = False,
):
    """Losses, learning rates and final parameters of `steps` steps from one initialisation."""
    model = _model(p)
    opt = make_opt(model.parameters())
    inside = sched_inside(opt) if sched_inside else None
    outside = sched_outside(opt) if sched_outside else None

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if inside is not None:
            inside.step()
        return loss

    fn = mt.cuda.make_graphed_step(step, warmup=warmup, verify=verify) if graphed else step
    mt.manual_seed(7)  # dropout masks
    losses, lrs = [], []
    for x, y in _batches(steps):
        losses.append(float(fn(x, y)))
        if outside is not None:
            outside.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    params = [p.detach().cpu().numpy() for p in model.parameters()]
    buffers = [b.detach().cpu().numpy() for b in model.buffers()]
    return losses, lrs, params, buffers, opt.state_dict(), mt.get_rng_state()


def _assert_same_training(a, b, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    losses_a, lrs_a, params_a, buffers_a, state_a, rng_a = a
    losses_b, lrs_b, params_b, buffers_b, state_b, rng_b = b
    np.testing.assert_allclose(losses_a, losses_b, rtol=rtol, atol=atol)
    assert lrs_a == lrs_b  # the same Python arithmetic in both
    for pa, pb in zip(params_a + buffers_a, params_b + buffers_b):
        np.testing.assert_allclose(pa, pb, rtol=rtol, atol=atol)
    steps_a = {k: v.get("step") for k, v in state_a["state"].items()}
    steps_b = {k: v.get("step") for k, v in state_b["state"].items()}
    assert steps_a == steps_b
    assert rng_a == rng_b


# ---- equality with eager ------------------------------------------------------------------------


@cuda
@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: Adam(ps, lr=1e-2),
        lambda ps: AdamW(ps, lr=1e-2, weight_decay=0.1, amsgrad=True),
        lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
        lambda ps: SGD(ps, lr=0.05),
    ],
    ids=["adam", "adamw-amsgrad", "sgd-nesterov", "sgd-plain"],
)
def test_graphed_training_equals_eager(make_opt):
    eager = _train(False, make_opt)
    graphed = _train(True, make_opt)
    _assert_same_training(eager, graphed)
    # host step counters advanced by the replays
    assert graphed[4]["state"].get(0, {}).get("step", 6) == 6


@cuda
@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize(
    "make_sched",
    [
        lambda opt: StepLR(opt, step_size=2, gamma=0.5),
        lambda opt: OneCycleLR(opt, max_lr=0.05, total_steps=10),
    ],
    ids=["steplr", "onecycle"],
)
@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: Adam(ps, lr=1e-2),
        lambda ps: SGD(ps, lr=0.05, momentum=0.9),
    ],
    ids=["adam", "sgd"],
)
def test_schedulers_inside_and_outside_the_step(where, make_sched, make_opt):
    kw = {"sched_inside" if where == "inside" else "sched_outside": make_sched}
    eager = _train(False, make_opt, steps=8, **kw)
    graphed = _train(True, make_opt, steps=8, **kw)
    _assert_same_training(eager, graphed)
    assert len({tuple(lr) for lr in graphed[1]}) > 1  # the schedule did change the lr


@cuda
def test_dropout_draws_fresh_masks_matching_eager():
    make_opt = lambda ps: Adam(ps, lr=1e-2)  # noqa: E731
    _assert_same_training(_train(False, make_opt, p=0.5), _train(True, make_opt, p=0.5))

    x = mt.ones(4096, device="cuda")
    step = lambda x: F.dropout(x, 0.5)  # noqa: E731
    mt.manual_seed(3)
    eager = [step(x).cpu().numpy() for _ in range(5)]
    eager_rng = mt.get_rng_state()
    mt.manual_seed(3)
    graphed_step = mt.cuda.make_graphed_step(step, warmup=1)
    graphed = [graphed_step(x).cpu().numpy() for _ in range(5)]
    for e, g in zip(eager, graphed):
        np.testing.assert_array_equal(e, g)
    assert not np.array_equal(graphed[3], graphed[4])  # replays 3 and 4 drew different masks
    assert mt.get_rng_state() == eager_rng


@cuda
def test_outputs_are_static_and_inputs_are_copied():
    g = mt.cuda.make_graphed_step(lambda x, y: (x * 2 + y, {"sum": (x * y).sum()}), warmup=1)
    x, y = mt.ones(3, device="cuda"), mt.full((3,), 2.0, device="cuda")
    g(x, y)
    out, extra = g(x, y)  # the capture call
    assert out.cpu().numpy().tolist() == [4.0, 4.0, 4.0]
    out2, extra2 = g(mt.full((3,), 3.0, device="cuda"), y)
    assert out2 is out  # the same static tensor, overwritten
    assert out.cpu().numpy().tolist() == [8.0, 8.0, 8.0]
    assert float(extra2["sum"]) == 18.0
    assert g.capture_time is not None and g.capture_time > 0


@cuda
def test_low_level_cuda_graph():
    x = mt.zeros(5, device="cuda")
    graph = mt.cuda.CUDAGraph()
    with graph.capture():
        y = x * 3 + 1
    x.copy_(mt.arange(5, dtype=mt.float32).to("cuda"))
    graph.replay()
    assert y.cpu().numpy().tolist() == [1.0, 4.0, 7.0, 10.0, 13.0]
    graph.reset()
    with pytest.raises(GraphCaptureError, match="holds no graph"):
        graph.replay()


# ---- safety errors ------------------------------------------------------------------------------


def _graphed_model_step(warmup: int = 1, **kw):
    model = _model()
    opt = Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return mt.cuda.make_graphed_step(step, warmup=warmup, **kw), model, opt


def _captured_step():
    """A graphed model step already captured (one warm-up call, then the capture): (graphed step,
    model, optimizer, x, y)."""
    g, model, opt = _graphed_model_step()
    x, y = _batches(1)[0]
    g(x, y)
    g(x, y)
    return g, model, opt, x, y


@cuda
def test_shape_dtype_device_changes_raise():
    g, _, _, x, y = _captured_step()
    with pytest.raises(
        GraphCaptureError,
        match=r"argument 'x' changed shape since capture: captured "
        r"\(8, 3, 8, 8\), got \(4, 3, 8, 8\)",
    ):
        g(x[:4], y)
    with pytest.raises(GraphCaptureError, match=r"argument 'x' changed dtype .*float64"):
        g(x.double(), y)
    with pytest.raises(GraphCaptureError, match=r"argument 'y' changed device since capture"):
        g(x, y.cpu())
    g(x, y)  # still replays after the refusals


@cuda
def test_non_tensor_argument_change_raises():
    g = mt.cuda.make_graphed_step(lambda x, scale: x * scale, warmup=1)
    x = mt.ones(2, device="cuda")
    g(x, 1.5)
    assert g(x, 1.5).cpu().numpy().tolist() == [1.5, 1.5]
    with pytest.raises(
        GraphCaptureError, match=r"argument 'scale' changed from 1\.5 at capture to 2\.0"
    ):
        g(x, 2.0)


@cuda
@pytest.mark.parametrize(
    "read, message",
    [
        (lambda t: t.item(), r"\.item\(\) reads a CUDA tensor on the host inside a captured step"),
        (lambda t: t.numpy(), r"\.numpy\(\) reads a CUDA tensor on the host"),
        (lambda t: t.tolist(), r"\.tolist\(\) reads a CUDA tensor on the host"),
        (lambda t: float(t), r"float\(\) reads a CUDA tensor on the host"),
        (lambda t: repr(t), r"printing \(repr\) reads a CUDA tensor"),
        (lambda t: t.cpu(), r"a device-to-host copy .* inside a captured step"),
        (
            lambda t: mt.tensor([1.0], device="cuda"),
            r"a host-to-device copy .* inside a captured "
            r"step",
        ),
        (lambda t: mt.cuda.synchronize(), r"cuda\.synchronize\(\) inside a captured step"),
        (lambda t: mt.randperm(4, device="cuda"), r"randperm inside a captured step"),
        (lambda t: mt.get_rng_state(), r"get_rng_state inside a captured step"),
    ],
    ids=[
        "item",
        "numpy",
        "tolist",
        "float",
        "repr",
        "cpu",
        "host-to-device",
        "synchronize",
        "randperm",
        "get_rng_state",
    ],
)
def test_host_work_inside_the_step_raises(read, message):
    def step(x):
        y = (x * 2).sum()
        read(y)
        return y

    g = mt.cuda.make_graphed_step(step, warmup=1)
    x = mt.ones(3, device="cuda")
    assert float(g(x)) == 6.0  # warm-up: eager, host reads are fine
    with pytest.raises(GraphCaptureError, match=message):
        g(x)
    # The capture was abandoned: the stream and a new capture work.
    assert float((x + 1).sum()) == 6.0
    g2 = mt.cuda.make_graphed_step(lambda x: (x * 2).sum(), warmup=0)
    assert float(g2(x)) == 6.0


@cuda
def test_optimizer_hyper_parameter_change_raises():
    g, _, opt, x, y = _captured_step()
    opt.param_groups[0]["lr"] = 1e-3  # read from a slot: fine
    g(x, y)
    opt.param_groups[0]["eps"] = 1e-6
    with pytest.raises(
        GraphCaptureError,
        match=r"Adam param_groups\[0\]\['eps'\] changed from 1e-08 at capture to "
        r"1e-06",
    ):
        g(x, y)


@cuda
def test_replaced_optimizer_state_raises():
    g, _, opt, x, y = _captured_step()
    p = opt.param_groups[0]["params"][0]
    opt.state[p]["exp_avg"] = opt.state[p]["exp_avg"].clone()  # the graph updates the old one
    with pytest.raises(GraphCaptureError, match=r"was replaced since the capture"):
        g(x, y)


@cuda
def test_module_train_eval_flip_raises():
    g, model, _, x, y = _captured_step()
    model.eval()
    with pytest.raises(
        GraphCaptureError,
        match=r"module Net was in train mode when the step was captured and is now "
        r"in eval mode",
    ):
        g(x, y)
    model.train()
    g(x, y)


@cuda
def test_grad_mode_change_raises():
    g = mt.cuda.make_graphed_step(lambda x: x * 2, warmup=0)
    x = mt.ones(2, device="cuda")
    g(x)
    with mt.no_grad(), pytest.raises(GraphCaptureError, match=r"grad mode was on at capture"):
        g(x)


@cuda
def test_optimizer_state_created_inside_capture_raises():
    g, _, _ = _graphed_model_step(warmup=0)
    x, y = _batches(1)[0]
    with pytest.raises(GraphCaptureError, match=r"would be created inside the captured step"):
        g(x, y)


@cuda
def test_accumulating_into_pre_capture_grads_raises():
    model = _model()
    opt = SGD(model.parameters(), lr=0.1)

    def step(x, y):  # no zero_grad: backward adds to the .grad of the previous call
        F.cross_entropy(model(x), y).backward()
        opt.step()

    g = mt.cuda.make_graphed_step(step, warmup=1)
    x, y = _batches(1)[0]
    g(x, y)
    with pytest.raises(GraphCaptureError, match=r"backward accumulated into a \.grad"):
        g(x, y)


@cuda
def test_returning_a_python_value_raises():
    g = mt.cuda.make_graphed_step(lambda x: (x.sum(), 3), warmup=0)
    with pytest.raises(GraphCaptureError, match=r"the step returned output\[1\] = 3"):
        g(mt.ones(2, device="cuda"))


@cuda
def test_verify_passes_on_a_correct_step():
    g, _, _ = _graphed_model_step(verify=True)
    x, y = _batches(1)[0]
    g(x, y)
    g(x, y)
    g(x, y)


@cuda
def test_verify_catches_a_python_value_baked_into_the_graph():
    calls = [0]

    def step(x):
        calls[0] += 1  # a Python counter used as a constant: the graph keeps the capture's value
        return x * float(calls[0])

    g = mt.cuda.make_graphed_step(step, warmup=1, verify=True)
    x = mt.ones(2, device="cuda")
    g(x)
    with pytest.raises(
        GraphCaptureError,
        match=r"verify: the replayed step differs from the "
        r"eager one in output",
    ):
        g(x)


# ---- memory -------------------------------------------------------------------------------------


@cuda
def test_replays_keep_memory_flat_and_the_pool_is_released():
    g, model, opt = _graphed_model_step()
    x, y = _batches(1)[0]
    for _ in range(3):
        g(x, y)
    mt.cuda.synchronize()
    allocated = mt.cuda.memory_allocated()
    for _ in range(200):
        g(x, y)
    mt.cuda.synchronize()
    assert mt.cuda.memory_allocated() == allocated
    # Measured relative to this graph, so that graphs other tests left behind do not matter.
    gc.collect()
    graphs_with, _, live_with = mt._C.graphs.pool_stats(0)
    assert graphs_with >= 1 and live_with > 0  # the grads live in the graph's pool
    del g
    opt.zero_grad()
    gc.collect()
    graphs_after, _, live_after = mt._C.graphs.pool_stats(0)
    assert graphs_after == graphs_with - 1  # destroyed, its free blocks back in the cache
    assert live_after < live_with  # the grads it allocated were freed


# ---- without CUDA -------------------------------------------------------------------------------


def test_cpu_tensors_or_no_cuda_raise_a_clear_error():
    g = mt.cuda.make_graphed_step(lambda x: x * 2, warmup=0)
    with pytest.raises(
        mt.DeviceError, match=r"CUDA graphs need a CUDA device|argument 'x' is on cpu"
    ):
        g(mt.ones(2))
    with pytest.raises(ValueError, match=r"warmup must be an integer >= 0"):
        mt.cuda.make_graphed_step(lambda x: x, warmup=-1)


def test_slots_outside_a_capture_raise():
    p = mt.zeros(3)
    with pytest.raises(
        GraphCaptureError,
        match=r"\[adam_step\] lr_slot is only valid while a CUDA "
        r"graph is being captured",
    ):
        mt._C.adam_step(
            [p._impl],
            [p._impl],
            [p._impl],
            [p._impl],
            [],
            0.1,
            0.9,
            0.999,
            1e-8,
            0.0,
            1,
            False,
            False,
            False,
            lr_slot=0,
        )
    with pytest.raises(GraphCaptureError, match=r"\[sgd_step\] momentum_slot is only valid"):
        mt._C.sgd_step(
            [p._impl], [p._impl], [], 0.1, 0.0, 0.0, 0.0, False, False, False, momentum_slot=0
        )
    assert not mt._C.graphs.is_capturing()
