"""Rows for conv2d and its backward ops (src/core/ops/conv.cpp)."""

import warnings

import mytensor.nn.functional as F
import torch.nn.functional as TF

from tests.ops.op_table import Row, kwargs_label

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
