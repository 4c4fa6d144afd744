"""Rows for conv2d and its backward ops (src/core/ops/conv.cpp)."""

import warnings

import mytensor as mt
import mytensor.nn.functional as F
import torch.nn.functional as TF
from mytensor import _C

from tests.ops.op_table import ErrorRow, Row, kwargs_label, zeros_on

# float32 convolutions sum C_in * kH * kW products in another order than oneDNN: see GEMM_ATOL.
CONV_ATOL = 1e-4
BACKWARD = ("conv2d_backward_input", "conv2d_backward_weight")


def conv(**kw):
    """The same convolution in mytensor and PyTorch (input, weight[, bias])."""

    def torch_fn(x, w, b=None):
        with warnings.catch_warnings():  # PyTorch warns that even 'same' kernels pad a copy
            warnings.simplefilter("ignore", UserWarning)
            return TF.conv2d(x, w, b, **kw)

    return (lambda x, w, b=None: F.conv2d(x, w, b, **kw)), torch_fn


def row(cases, grad=(0, 1, 2), **kw):
    mt_fn, torch_fn = conv(**kw)
    label = kwargs_label(kw) + ("" if 2 in grad else "-nobias")
    return Row(
        "conv2d", mt_fn, torch_fn, cases, grad=grad, atol=CONV_ATOL, covers=BACKWARD, label=label
    )


ROWS = [
    row(
        [
            ((1, 2, 5, 5), (3, 2, 3, 3), (3,)),
            ((2, 3, 32, 32), (32, 3, 3, 3), (32,)),  # the reference CNN's first layer
            ((2, 4, 7, 9), (5, 4, 3, 3), (5,)),
            ((3, 6, 5), (2, 3, 3, 3), (2,)),  # 3-D input: a batch of one
            ((0, 2, 5, 5), (3, 2, 3, 3), (3,)),  # empty batch
            ((8, 16, 16, 16), (32, 16, 3, 3), (32,)),
        ],
        padding=1,
    ),
    row(
        [((1, 2, 7, 6), (3, 2, 3, 3), (3,)), ((3, 4, 11, 10), (6, 4, 3, 3), (6,))],
        stride=2,
        padding=1,
    ),
    row(
        [((1, 2, 7, 7), (2, 2, 3, 3), (2,)), ((2, 3, 12, 9), (4, 3, 3, 2), (4,))],
        dilation=2,
        padding=2,
    ),
    row(
        [((1, 4, 5, 5), (6, 2, 3, 3), (6,)), ((2, 6, 8, 7), (4, 3, 3, 3), (4,))],
        groups=2,
        padding=1,
    ),
    row(
        [((1, 3, 6, 6), (3, 1, 3, 3), (3,)), ((2, 6, 9, 9), (9, 2, 3, 3), (9,))],
        groups=3,
        padding=1,
    ),  # depthwise in the first case (groups = channels)
    # 1x1, unit stride, no padding: the image is its own im2col matrix.
    row([((2, 3, 5, 5), (4, 3, 1, 1), (4,)), ((2, 8, 16, 16), (16, 8, 1, 1), (16,))]),
    # No bias; asymmetric stride and padding; a kernel as large as the input.
    row(
        [((1, 3, 6, 5), (4, 3, 2, 3)), ((2, 2, 9, 8), (3, 2, 5, 4))],
        grad=(0, 1),
        stride=(2, 1),
        padding=(0, 1),
    ),
    row([((2, 2, 4, 5), (3, 2, 4, 5), (3,))], padding=0),
    # padding="same" with an even kernel pads one extra row/column at the bottom/right.
    row([((1, 2, 5, 6), (3, 2, 2, 3), (3,)), ((2, 3, 8, 8), (4, 3, 3, 3), (4,))], padding="same"),
]


# Bad calls: a typed exception naming the op and the shapes or hyper-parameters.
def _conv(d, x, w, b=None, **kw):
    return F.conv2d(zeros_on(d, *x), zeros_on(d, *w), None if b is None else zeros_on(d, *b), **kw)


ERRORS = [
    ErrorRow(
        "conv2d-in-channels",
        lambda d: _conv(d, (2, 4, 8, 8), (16, 3, 3, 3)),
        ValueError,
        r"\[conv2d\] input has 4 channels \(shape \(2, 4, 8, 8\)\) but weight \(16, 3, 3, 3\) "
        r"with groups=1 expects in_channels = 3",
    ),
    ErrorRow(
        "conv2d-groups-divide-out-channels",
        lambda d: _conv(d, (1, 4, 8, 8), (5, 2, 3, 3), groups=2),
        ValueError,
        r"\[conv2d\] out_channels 5 is not divisible by groups 2",
    ),
    ErrorRow(
        "conv2d-groups-divide-in-channels",
        lambda d: _conv(d, (1, 5, 8, 8), (4, 2, 3, 3), groups=2),
        ValueError,
        r"\[conv2d\] in_channels 5 is not divisible by groups 2",
    ),
    ErrorRow(
        "conv2d-zero-groups",
        lambda d: _conv(d, (1, 4, 8, 8), (4, 4, 3, 3), groups=0),
        ValueError,
        r"\[conv2d\] groups must be positive, got 0",
    ),
    ErrorRow(
        "conv2d-kernel-larger-than-input",
        lambda d: _conv(d, (1, 1, 4, 4), (1, 1, 5, 5)),
        ValueError,
        r"\[conv2d\] kernel \(5, 5\) is larger than the padded input \(4, 4\)",
    ),
    ErrorRow(
        "conv2d-dilated-kernel-larger-than-input",
        lambda d: _conv(d, (1, 1, 4, 4), (1, 1, 3, 3), dilation=2),
        ValueError,
        r"kernel \(3, 3\) dilated to \(5, 5\) is larger",
    ),
    ErrorRow(
        "conv2d-zero-stride",
        lambda d: _conv(d, (1, 1, 6, 6), (1, 1, 3, 3), stride=0),
        ValueError,
        r"\[conv2d\] stride must be positive",
    ),
    ErrorRow(
        "conv2d-negative-stride",
        lambda d: _conv(d, (1, 1, 6, 6), (1, 1, 3, 3), stride=(1, -1)),
        ValueError,
        r"\[conv2d\] stride must be positive",
    ),
    ErrorRow(
        "conv2d-negative-padding",
        lambda d: _conv(d, (1, 1, 6, 6), (1, 1, 3, 3), padding=-1),
        ValueError,
        r"\[conv2d\] padding must be non-negative",
    ),
    ErrorRow(
        "conv2d-zero-dilation",
        lambda d: _conv(d, (1, 1, 6, 6), (1, 1, 3, 3), dilation=0),
        ValueError,
        r"\[conv2d\] dilation must be positive",
    ),
    ErrorRow(
        "conv2d-2d-input",
        lambda d: _conv(d, (8, 8), (1, 1, 3, 3)),
        ValueError,
        r"\[conv2d\] expected a 3-D \(C, H, W\) or 4-D",
    ),
    ErrorRow(
        "conv2d-3d-weight",
        lambda d: _conv(d, (1, 1, 8, 8), (1, 3, 3)),
        ValueError,
        r"\[conv2d\] weight must be 4-D",
    ),
    ErrorRow(
        "conv2d-bias-shape",
        lambda d: _conv(d, (1, 1, 8, 8), (2, 1, 3, 3), (3,)),
        ValueError,
        r"\[conv2d\] bias must have shape \(2,\)",
    ),
    ErrorRow(
        "conv2d-int64-input",
        lambda d: F.conv2d(zeros_on(d, 1, 1, 8, 8, dtype=mt.int64), zeros_on(d, 2, 1, 3, 3)),
        TypeError,
        r"\[conv2d\] input must be float32 or float64, got int64",
    ),
    ErrorRow(
        "conv2d-same-padding-strided",
        lambda d: _conv(d, (1, 1, 8, 8), (2, 1, 3, 3), stride=2, padding="same"),
        ValueError,
        r"\[conv2d\] padding='same' is not supported for strided",
    ),
    ErrorRow(
        "conv2d-unknown-padding-string",
        lambda d: _conv(d, (1, 1, 8, 8), (2, 1, 3, 3), padding="full"),
        ValueError,
        r"\[conv2d\] padding must be 'valid', 'same'",
    ),
    ErrorRow(
        "conv2d_backward_input-grad-shape",
        lambda d: _C.conv2d_backward_input(
            zeros_on(d, 1, 2, 5, 5)._impl,
            zeros_on(d, 2, 1, 3, 3)._impl,
            [1, 1, 8, 8],
            [1],
            [0],
            [1],
            1,
        ),
        ValueError,
        r"\[conv2d_backward_input\] expected grad_out of shape \(1, 2, 6, 6\)",
    ),
    ErrorRow(
        "conv2d_backward_weight-grad-shape",
        lambda d: _C.conv2d_backward_weight(
            zeros_on(d, 1, 2, 5, 5)._impl,
            zeros_on(d, 1, 1, 8, 8)._impl,
            [2, 1, 3, 3],
            [1],
            [0],
            [1],
            1,
        ),
        ValueError,
        r"\[conv2d_backward_weight\] expected grad_out of shape",
    ),
]
