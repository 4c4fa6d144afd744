"""Bad inputs to matmul, linear, conv2d and pooling raise typed errors naming the op and the
shapes (type + message fragment per case)."""

from __future__ import annotations

import mytensor as mt
import mytensor.nn.functional as F
import pytest
from mytensor import _C


def r(*shape, dtype=mt.float32):
    return mt.zeros(*shape, dtype=dtype)


# ---- matmul and linear ---------------------------------------------------------------------
def test_matmul_inner_dims():
    with pytest.raises(
        mt.ShapeError, match=r"\[matmul\] inner dims differ: a is \(4, 3\), b is \(5, 2\)"
    ):
        mt.matmul(r(4, 3), r(5, 2))


def test_matmul_vector_mismatch():
    with pytest.raises(ValueError, match=r"\[matmul\] inner dims differ: a is \(3,\), b is \(4,\)"):
        r(3) @ r(4)


def test_matmul_0d():
    with pytest.raises(ValueError, match=r"\[matmul\] both arguments must be at least 1-D"):
        mt.matmul(mt.tensor(2.0), r(3))


def test_matmul_batch_not_broadcastable():
    with pytest.raises(ValueError, match=r"\[matmul\] batch dims \(2,\) and \(3,\) cannot be"):
        mt.matmul(r(2, 4, 3), r(3, 3, 5))


def test_matmul_rejects_integers():
    # PyTorch multiplies integer matrices on the CPU; mytensor's GEMM is float-only.
    with pytest.raises(mt.DTypeError, match=r"\[matmul\] expected float32 or float64.*int64"):
        mt.matmul(r(2, 2, dtype=mt.int64), r(2, 2, dtype=mt.int64))


def test_matmul_mixed_dtypes():
    with pytest.raises(
        TypeError,
        match=r"\[matmul\] expected a and b to have one dtype, got "
        r"float32 and float64",
    ):
        mt.matmul(r(2, 2), r(2, 2, dtype=mt.float64))


def test_matmul_non_tensor():
    with pytest.raises(TypeError, match=r"\[matmul\] other must be a Tensor"):
        mt.matmul(r(2, 2), [[1.0, 0.0], [0.0, 1.0]])


def test_linear_in_features():
    with pytest.raises(
        ValueError,
        match=r"\[linear\] input has 2048 features \(shape "
        r"\(128, 2048\)\) but weight expects 1024 "
        r"\(weight shape \(256, 1024\)\)",
    ):
        F.linear(r(128, 2048), r(256, 1024))


def test_linear_weight_rank():
    with pytest.raises(ValueError, match=r"\[linear\] weight must be 2-D"):
        F.linear(r(2, 3), r(3))


def test_linear_bias_shape():
    with pytest.raises(ValueError, match=r"\[linear\] bias must have shape \(5,\)"):
        F.linear(r(2, 3), r(5, 3), r(4))


def test_linear_dtype():
    with pytest.raises(TypeError, match=r"\[linear\] expected input and weight to have one dtype"):
        F.linear(r(2, 3, dtype=mt.float64), r(5, 3))


# ---- conv2d ----------------------------------------------------------------------------------
def test_conv_channels():
    with pytest.raises(
        ValueError,
        match=r"\[conv2d\] input has 4 channels \(shape \(2, 4, 8, 8\)\)"
        r" but weight \(16, 3, 3, 3\) with groups=1 expects "
        r"in_channels = 3",
    ):
        F.conv2d(r(2, 4, 8, 8), r(16, 3, 3, 3))


def test_conv_groups_divide_out_channels():
    with pytest.raises(ValueError, match=r"\[conv2d\] out_channels 5 is not divisible by groups 2"):
        F.conv2d(r(1, 4, 8, 8), r(5, 2, 3, 3), groups=2)


def test_conv_groups_divide_in_channels():
    with pytest.raises(ValueError, match=r"\[conv2d\] in_channels 5 is not divisible by groups 2"):
        F.conv2d(r(1, 5, 8, 8), r(4, 2, 3, 3), groups=2)


def test_conv_groups_positive():
    with pytest.raises(ValueError, match=r"\[conv2d\] groups must be positive, got 0"):
        F.conv2d(r(1, 4, 8, 8), r(4, 4, 3, 3), groups=0)


def test_conv_kernel_larger_than_input():
    with pytest.raises(
        ValueError,
        match=r"\[conv2d\] kernel \(5, 5\) is larger than the padded "
        r"input \(4, 4\)",
    ):
        F.conv2d(r(1, 1, 4, 4), r(1, 1, 5, 5))


def test_conv_dilated_kernel_larger_than_input():
    with pytest.raises(ValueError, match=r"kernel \(3, 3\) dilated to \(5, 5\) is larger"):
        F.conv2d(r(1, 1, 4, 4), r(1, 1, 3, 3), dilation=2)


@pytest.mark.parametrize(
    "kw,fragment",
    [
        ({"stride": 0}, r"stride must be positive"),
        ({"stride": (1, -1)}, r"stride must be positive"),
        ({"padding": -1}, r"padding must be non-negative"),
        ({"dilation": 0}, r"dilation must be positive"),
    ],
)
def test_conv_bad_hyperparameters(kw, fragment):
    with pytest.raises(ValueError, match=r"\[conv2d\] " + fragment):
        F.conv2d(r(1, 1, 6, 6), r(1, 1, 3, 3), **kw)


def test_conv_input_rank():
    with pytest.raises(ValueError, match=r"\[conv2d\] expected a 3-D \(C, H, W\) or 4-D"):
        F.conv2d(r(8, 8), r(1, 1, 3, 3))


def test_conv_weight_rank():
    with pytest.raises(ValueError, match=r"\[conv2d\] weight must be 4-D"):
        F.conv2d(r(1, 1, 8, 8), r(1, 3, 3))


def test_conv_bias_shape():
    with pytest.raises(ValueError, match=r"\[conv2d\] bias must have shape \(2,\)"):
        F.conv2d(r(1, 1, 8, 8), r(2, 1, 3, 3), r(3))


def test_conv_dtype():
    with pytest.raises(TypeError, match=r"\[conv2d\] input must be float32 or float64, got int64"):
        F.conv2d(r(1, 1, 8, 8, dtype=mt.int64), r(2, 1, 3, 3))


def test_conv_same_padding_strided():
    with pytest.raises(ValueError, match=r"\[conv2d\] padding='same' is not supported for strided"):
        F.conv2d(r(1, 1, 8, 8), r(2, 1, 3, 3), stride=2, padding="same")


def test_conv_bad_padding_string():
    with pytest.raises(ValueError, match=r"\[conv2d\] padding must be 'valid', 'same'"):
        F.conv2d(r(1, 1, 8, 8), r(2, 1, 3, 3), padding="full")


def test_conv_backward_grad_shape():
    with pytest.raises(
        ValueError,
        match=r"\[conv2d_backward_input\] expected grad_out of shape "
        r"\(1, 2, 6, 6\)",
    ):
        _C.conv2d_backward_input(
            r(1, 2, 5, 5)._impl, r(2, 1, 3, 3)._impl, [1, 1, 8, 8], [1], [0], [1], 1
        )
    with pytest.raises(ValueError, match=r"\[conv2d_backward_weight\] expected grad_out of shape"):
        _C.conv2d_backward_weight(
            r(1, 2, 5, 5)._impl, r(1, 1, 8, 8)._impl, [2, 1, 3, 3], [1], [0], [1], 1
        )


# ---- pooling ---------------------------------------------------------------------------------
def test_max_pool_kernel_larger_than_input():
    with pytest.raises(
        ValueError,
        match=r"\[max_pool2d\] kernel \(3, 3\) is larger than the "
        r"padded input \(2, 2\)",
    ):
        F.max_pool2d(r(1, 1, 2, 2), 3)


def test_pool_padding_at_most_half_kernel():
    with pytest.raises(
        ValueError,
        match=r"\[max_pool2d\] padding \(2, 2\) must be at most half "
        r"the kernel size \(3, 3\)",
    ):
        F.max_pool2d(r(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(ValueError, match=r"\[avg_pool2d\] padding \(2, 2\) must be at most half"):
        F.avg_pool2d(r(1, 1, 8, 8), 3, padding=2)


@pytest.mark.parametrize(
    "kw,fragment",
    [
        ({"kernel_size": 0}, r"kernel_size must be positive"),
        ({"kernel_size": 2, "stride": 0}, r"stride must be positive"),
        ({"kernel_size": 2, "padding": -1}, r"padding must be non-negative"),
    ],
)
def test_pool_bad_hyperparameters(kw, fragment):
    with pytest.raises(ValueError, match=r"\[max_pool2d\] " + fragment):
        F.max_pool2d(r(1, 1, 6, 6), **kw)


def test_pool_unsupported_options():
    with pytest.raises(ValueError, match=r"\[max_pool2d\] ceil_mode=True is not supported"):
        F.max_pool2d(r(1, 1, 6, 6), 2, ceil_mode=True)
    with pytest.raises(ValueError, match=r"\[max_pool2d\] only dilation=1 is supported"):
        F.max_pool2d(r(1, 1, 6, 6), 2, dilation=2)
    with pytest.raises(ValueError, match=r"\[avg_pool2d\] ceil_mode=True is not supported"):
        F.avg_pool2d(r(1, 1, 6, 6), 2, ceil_mode=True)
    with pytest.raises(ValueError, match=r"\[avg_pool2d\] divisor_override is not supported"):
        F.avg_pool2d(r(1, 1, 6, 6), 2, divisor_override=3)


def test_pool_input_rank():
    with pytest.raises(ValueError, match=r"\[avg_pool2d\] expected a 3-D \(C, H, W\) or 4-D"):
        F.avg_pool2d(r(6, 6), 2)
    with pytest.raises(ValueError, match=r"\[adaptive_avg_pool2d\] expected a 3-D"):
        F.adaptive_avg_pool2d(r(2, 1, 1, 6, 6), 2)


def test_pool_empty_spatial_dims():
    with pytest.raises(
        ValueError, match=r"\[adaptive_avg_pool2d\] expected non-empty spatial dims"
    ):
        F.adaptive_avg_pool2d(r(1, 2, 0, 4), 2)


def test_pool_dtype():
    with pytest.raises(
        TypeError,
        match=r"\[max_pool2d\] input must be float32 or float64, got "
        r"int64",
    ):
        F.max_pool2d(r(1, 1, 4, 4, dtype=mt.int64), 2)


def test_adaptive_output_size_type():
    with pytest.raises(TypeError, match=r"\[adaptive_avg_pool2d\] output_size must be an int or"):
        F.adaptive_avg_pool2d(r(1, 1, 4, 4), "2")
    with pytest.raises(ValueError, match=r"\[adaptive_avg_pool2d\] output_size must be non-neg"):
        F.adaptive_avg_pool2d(r(1, 1, 4, 4), -1)


def test_max_pool_backward_bad_indices():
    grad = r(1, 1, 2, 2)
    bad = mt.tensor([[[[0, 1], [99, 2]]]])
    with pytest.raises(IndexError, match=r"\[max_pool2d_backward\] index 99 is out of range"):
        _C.max_pool2d_backward(grad._impl, bad._impl, [1, 1, 4, 4])
    with pytest.raises(TypeError, match=r"\[max_pool2d_backward\] indices must be int64"):
        _C.max_pool2d_backward(grad._impl, grad._impl, [1, 1, 4, 4])


def test_avg_pool_backward_grad_shape():
    with pytest.raises(
        ValueError,
        match=r"\[avg_pool2d_backward\] expected grad_out of shape "
        r"\(1, 1, 2, 2\)",
    ):
        _C.avg_pool2d_backward(r(1, 1, 3, 3)._impl, [1, 1, 4, 4], [2], [], [0], True)
