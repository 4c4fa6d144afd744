"""The CUDA-graph hook interface (mytensor.cuda.graph_hooks, issue #11): modules, autograd,
optimizers and schedulers reach a capture only through current_capture() and the Capture
protocol, and the guard helpers raise GraphCaptureError naming what changed.

No GPU needed: a fake capture stands in for CUDAGraph, and the optimizer tests pretend the CPU
parameters are CUDA ones (the capture-side code only asks `is_cuda`).
"""

from __future__ import annotations

import mytensor as mt
import mytensor.nn as nn
import pytest
from mytensor._tensor import Tensor
from mytensor.cuda import graph_hooks
from mytensor.optim import SGD, Adam
from mytensor.optim.lr_scheduler import StepLR

GraphCaptureError = mt.cuda.GraphCaptureError


class FakeCapture:
    """Implements the Capture protocol by recording what is registered with it."""

    def __init__(self) -> None:
        self.slots: list = []
        self.hooks: list = []
        self.guards: list = []
        self.guard_keys: set = set()
        self.registered: list = []
        self.modules: list = []
        self.dropped: list = []

    def add_slot(self, value_fn, *, key=None, is_float: bool = True) -> int:
        self.slots.append((key, value_fn))
        return len(self.slots) - 1

    def add_hook(self, fn) -> None:
        self.hooks.append(fn)

    def add_guard(self, fn, *, key=None) -> None:
        if key is not None:
            if key in self.guard_keys:
                return
            self.guard_keys.add(key)
        self.guards.append(fn)

    def register(self, obj) -> None:
        self.registered.append(obj)

    def note_module(self, module) -> None:
        self.modules.append(module)

    def note_dropped_grads(self, params) -> None:
        self.dropped.append(list(params))

    def check(self) -> None:
        for guard in self.guards:
            guard()


@pytest.fixture
def capture():
    fake = FakeCapture()
    assert graph_hooks.current_capture() is None
    graph_hooks._set_current(fake)
    try:
        yield fake
    finally:
        graph_hooks._set_current(None)


@pytest.fixture
def cuda_like(monkeypatch):
    """CPU tensors report is_cuda, so that the optimizers' capture code runs here."""
    monkeypatch.setattr(Tensor, "is_cuda", property(lambda self: True))


def test_no_capture_outside_a_capture():
    assert graph_hooks.current_capture() is None
    assert not graph_hooks.is_capturing()
    assert mt.cuda.graph_hooks is graph_hooks


def test_current_capture_inside(capture):
    assert graph_hooks.current_capture() is capture
    assert graph_hooks.is_capturing()


def test_modules_report_each_call(capture):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model(mt.ones(1, 2))
    assert [type(m).__name__ for m in capture.modules] == ["Sequential", "Linear", "ReLU"]


def test_zero_grad_reports_dropped_grads_only_when_set_to_none(capture):
    lin = nn.Linear(2, 1)
    for p in lin.parameters():
        p.grad = mt.ones(*p.shape)
    lin.zero_grad(set_to_none=False)
    assert capture.dropped == []
    lin.zero_grad()
    assert [len(ps) for ps in capture.dropped] == [2]
    assert all(p.grad is None for p in lin.parameters())


def test_scheduler_step_registers_a_replay_hook(capture):
    opt = SGD([nn.Parameter(mt.ones(2))], lr=1.0)
    graph_hooks._set_current(None)
    sched = StepLR(opt, step_size=1, gamma=0.5)  # constructed outside: sets the initial lr
    graph_hooks._set_current(capture)
    sched.step()
    assert capture.registered == [sched]
    assert opt.param_groups[0]["lr"] == 1.0  # not advanced at capture ...
    capture.hooks[0]()  # ... but after each replay
    assert opt.param_groups[0]["lr"] == 0.5


# ---- guard helpers ------------------------------------------------------------------------------


def test_guard_values_passes_while_unchanged_and_names_the_change():
    fake = FakeCapture()
    values = {"['eps']": 1e-8, "['nan']": float("nan"), "['amsgrad']": False}
    graph_hooks.guard_values(
        fake, lambda: dict(values), owner="Adam param_groups[0]", hint="make a new step"
    )
    fake.check()  # NaN equals NaN
    values["['amsgrad']"] = 0  # equal but of another type: changed
    with pytest.raises(
        GraphCaptureError,
        match=r"^\[graphs\] Adam param_groups\[0\]\['amsgrad'\] changed from False at capture "
        r"to 0: make a new step$",
    ):
        fake.check()


def test_guard_values_keeps_the_first_guard_of_a_key():
    fake = FakeCapture()
    for _ in range(2):
        graph_hooks.guard_values(fake, lambda: {"x": 1}, owner="o", hint="h", key=("k", 0))
    assert len(fake.guards) == 1


def test_guard_identity_raises_the_entry_message():
    fake = FakeCapture()
    box = {"t": object()}
    captured = box["t"]
    graph_hooks.guard_identity(fake, [(lambda: box["t"], captured, lambda: "[graphs] replaced")])
    fake.check()
    box["t"] = object()
    with pytest.raises(GraphCaptureError, match=r"^\[graphs\] replaced$"):
        fake.check()


def test_same_value():
    assert graph_hooks.same_value(1.5, 1.5)
    assert graph_hooks.same_value(float("nan"), float("nan"))
    assert not graph_hooks.same_value(1, 1.0)
    assert not graph_hooks.same_value((0.9, 0.99), (0.9, 0.999))


# ---- optimizers through the interface -----------------------------------------------------------


def _adam(**kw):
    p = nn.Parameter(mt.ones(3))
    opt = Adam([p], lr=1e-2, **kw)
    p.grad = mt.ones(3)
    opt.step()  # eager: creates the state
    return opt, p


def test_optimizer_guards_baked_hyper_parameters(cuda_like):
    opt, p = _adam()
    fake = FakeCapture()
    slots = opt._capture_group(fake, opt.param_groups[0], [p], ("exp_avg", "exp_avg_sq"))
    assert fake.registered == [opt]
    assert set(slots) == {"lr_slot", "beta1_slot"}
    values = {key[0]: fn() for key, fn in fake.slots}
    assert values == {"lr_slot": 1e-2, "beta1_slot": 0.9}
    fake.check()
    opt.param_groups[0]["lr"] = 1e-3  # read from a slot: fine
    fake.check()
    opt.param_groups[0]["eps"] = 1e-6
    with pytest.raises(
        GraphCaptureError,
        match=r"Adam param_groups\[0\]\['eps'\] changed from 1e-08 at capture to 1e-06: only "
        r"'lr', 'betas\[0\]' are read at every replay; make a new graphed step to change it",
    ):
        fake.check()


def test_optimizer_slot_values_are_validated(cuda_like):
    opt, p = _adam()
    fake = FakeCapture()
    opt._capture_group(fake, opt.param_groups[0], [p], ("exp_avg", "exp_avg_sq"))
    opt.param_groups[0]["lr"] = -1.0
    lr = next(fn for key, fn in fake.slots if key[0] == "lr_slot")
    with pytest.raises(ValueError, match=r"\[Adam\] invalid lr -1\.0 in param_groups\[0\]"):
        lr()


def test_optimizer_guards_the_identity_of_params_and_state(cuda_like):
    opt, p = _adam()
    fake = FakeCapture()
    opt._capture_group(fake, opt.param_groups[0], [p], ("exp_avg", "exp_avg_sq"))
    old = opt.state[p]["exp_avg"]
    opt.state[p]["exp_avg"] = old.clone()
    with pytest.raises(
        GraphCaptureError,
        match=r"Adam: the state 'exp_avg' of a parameter of shape \(3,\) was replaced since "
        r"the capture \(load_state_dict\?\)",
    ):
        fake.check()
    opt.state[p]["exp_avg"] = old
    fake.check()
    p.data = mt.zeros(3)
    with pytest.raises(
        GraphCaptureError,
        match=r"Adam: the data of a parameter of shape \(3,\) was replaced since the capture",
    ):
        fake.check()


def test_optimizer_state_must_exist_before_the_capture(cuda_like):
    p = nn.Parameter(mt.ones(2))
    opt = Adam([p])
    with pytest.raises(
        GraphCaptureError, match=r"the state 'exp_avg' .* would be created inside the captured"
    ):
        opt._capture_group(FakeCapture(), opt.param_groups[0], [p], ("exp_avg",))


def test_optimizer_step_with_cpu_params_in_a_capture_raises(capture):
    p = nn.Parameter(mt.ones(2))
    opt = SGD([p], lr=0.1)
    p.grad = mt.ones(2)
    with pytest.raises(
        GraphCaptureError, match=r"SGD: param_groups\[0\] holds a parameter on cpu inside a"
    ):
        opt.step()


# ---- CUDAGraph's side of the protocol (no native capture needed) --------------------------------


def test_cuda_graph_registration_needs_its_capture():
    graph = mt.cuda.CUDAGraph()
    for call in (
        lambda: graph.add_guard(lambda: None),
        lambda: graph.add_hook(lambda: None),
        lambda: graph.add_slot(lambda: 0.0),
        lambda: graph.register(object()),
    ):
        with pytest.raises(GraphCaptureError, match=r"only possible while this graph is being"):
            call()
    with pytest.raises(GraphCaptureError, match=r"holds no graph"):
        graph.check()


def test_cuda_graph_refuses_a_nested_capture(capture):
    with pytest.raises(GraphCaptureError, match=r"a capture is already in progress"):
        with mt.cuda.CUDAGraph().capture():
            pass


def test_cuda_graph_register_sorts_optimizers_and_schedulers():
    graph = mt.cuda.CUDAGraph()
    opt = SGD([nn.Parameter(mt.ones(2))], lr=1.0)
    sched = StepLR(opt, step_size=1)
    graph_hooks._set_current(graph)  # as CUDAGraph.capture does, without the native capture
    try:
        graph.register(opt)
        graph.register(sched)
        graph.register(opt)
        with pytest.raises(TypeError, match=r"register expects an Optimizer or an LRScheduler"):
            graph.register(object())
    finally:
        graph_hooks._set_current(None)
    assert graph.optimizers == (opt,)
    assert graph.schedulers == (sched,)
    assert graph.modules == ()
