"""Autograd semantics: accumulation, graph release, grad mode, detach, broadcasting, depth,
in-place detection and the errors PyTorch raises in the same situations."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest


def test_leaf_grad_accumulates_across_backward_calls(device):
    x = mt.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 3)


def test_fan_in_gradients_add(device):
    x = mt.tensor([2.0], device=device, requires_grad=True)
    y = x * 3.0
    z = y * y + y  # two paths through y
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 * 6.0 * 3 + 3])


def test_same_tensor_used_twice_in_one_op(device):
    x = mt.tensor([1.5, -2.0], device=device, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])


def test_second_backward_without_retain_graph_raises(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (x.exp()).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_backward_on_non_scalar_needs_gradient(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    y.backward(mt.tensor([1.0, 10.0], device=device))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_backward_on_tensor_without_grad_raises(device):
    x = mt.tensor([1.0, 2.0], device=device)
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


def test_no_grad_records_nothing_and_restores_mode(device):
    x = mt.tensor([1.0], device=device, requires_grad=True)
    with mt.no_grad():
        y = x * 2
        assert not mt.is_grad_enabled()
        with mt.enable_grad():
            z = x * 2
    assert mt.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad


def test_no_grad_as_decorator(device):
    @mt.no_grad()
    def f(t):
        return t * 2

    x = mt.tensor([1.0], device=device, requires_grad=True)
    assert f(x).grad_fn is None
    assert mt.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_storage(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert d._impl.shares_storage(y._impl)
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_broadcast_gradients_reduce_to_input_shapes(device):
    a = mt.tensor(np.ones((3, 1)), device=device, requires_grad=True)
    b = mt.tensor(np.arange(4.0), device=device, requires_grad=True)
    (a * b + b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 6.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 6.0))  # rows x (a + 1)


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = mt.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):  # far past Python's default recursion limit of 1000
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**5000], rtol=1e-4)


def test_inplace_change_of_saved_tensor_is_detected(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 2
    z = y.exp()  # saves its output
    with mt.no_grad():
        z.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises(device):
    x = mt.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1.0)
    with mt.no_grad():
        x.add_(1.0)
    np.testing.assert_allclose(x.detach().numpy(), [2.0, 3.0])


def test_unused_branches_and_non_differentiable_outputs(device):
    x = mt.tensor([1.0, -1.0], device=device, requires_grad=True)
    mask = x > 0  # bool: no grad
    assert not mask.requires_grad
    y = mt.where(mask, x, x * 0.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0])


def test_retain_grad_on_intermediate(device):
    x = mt.tensor([3.0], device=device, requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [12.0])
    np.testing.assert_allclose(x.grad.numpy(), [24.0])


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating point"):
        mt.tensor([1, 2], requires_grad=True)


def test_gradcheck_reports_a_wrong_gradient():
    from mytensor.autograd.function import Function

    class BadSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return mt._C.mul(x, x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2 * g * x

    x = mt.tensor(np.linspace(0.5, 1.5, 4), dtype=mt.float64, requires_grad=True)
    with pytest.raises(AssertionError, match="gradient of input 0 differs at index"):
        mt.testing.gradcheck(BadSquare.apply, [x], name="bad_square")


def test_wrong_gradient_shape_from_a_function_is_reported():
    from mytensor.autograd.function import Function

    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return mt._C.clone(x)

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[BrokenBackward\] returned an invalid gradient"):
        Broken.apply(x).sum().backward()


def test_forward_sees_impls_and_apply_wraps_them():
    # Function.apply is the Tensor/impl boundary (issue #11): forward gets TensorImpls, and
    # returning anything else raises, naming the Function.
    from mytensor.autograd.function import Function

    seen = []

    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(type(x))
            ctx.save_for_backward(x)
            return mt._C.add(x, x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            seen.append(type(x))
            return g * 2.0

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = Twice.apply(x)
    assert isinstance(y, mt.Tensor) and y.grad_fn is not None
    y.sum().backward()
    assert seen == [mt._C.TensorImpl, mt.Tensor]
    assert x.grad.tolist() == [2.0, 2.0]

    class ReturnsTensor(Function):
        @staticmethod
        def forward(ctx, x):
            return mt.Tensor._make(mt._C.clone(x))

    with pytest.raises(TypeError, match=r"\[ReturnsTensor\] forward must return a TensorImpl"):
        ReturnsTensor.apply(x)


@pytest.mark.parametrize("detached_first", [False, True])
def test_saved_inputs_map_back_by_position_when_two_tensors_share_storage(detached_first):
    # x and x.detach() hold one native impl: forward must still save each as itself, or a
    # create_graph backward would differentiate through the detached operand (issue #11).
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    xd = x.detach()
    y = xd * x if detached_first else x * xd
    y.sum().backward(create_graph=True)
    assert x.grad.tolist() == [1.0, 2.0]
    assert not x.grad.requires_grad  # d/dx (x * const) = const: no graph behind it
