"""Rows for views and shape ops (src/core/ops/shape.cpp) and conversion."""

import mytensor as mt
import torch

from tests.ops.op_table import Row

ROWS = [
    Row("reshape", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), [((2, 6),), ((4, 3),)]),
    Row("reshape", lambda x: x.reshape(()), lambda x: x.reshape(()), [((1,),), ((1, 1),)]),
    Row("view", lambda x: x.view(3, 2, 2), lambda x: x.view(3, 2, 2), [((2, 6),)], layouts=False),
    Row("permute", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [((2, 3, 4),)]),
    Row(
        "transpose",
        lambda x: x.transpose(0, 1),
        lambda x: x.transpose(0, 1),
        [((2, 3),), ((3, 1, 2),)],
    ),
    Row("transpose", lambda x: x.t(), lambda x: x.t(), [((2, 3),)]),
    Row("slice", lambda x: x[:, ::2, 1:], lambda x: x[:, ::2, 1:], [((3, 5, 4),)]),
    Row("slice", lambda x: x[-3:-1], lambda x: x[-3:-1], [((5, 2),)]),
    Row("slice", lambda x: x[10:], lambda x: x[10:], [((5, 2),)]),
    Row("select", lambda x: x[1, -1], lambda x: x[1, -1], [((3, 4, 2),)]),
    Row("select", lambda x: x[..., 0], lambda x: x[..., 0], [((3, 4, 2),)]),
    Row("unsqueeze", lambda x: x[:, None], lambda x: x[:, None], [((3, 4),)]),
    Row("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), [((3, 4),), ((),)]),
    Row("squeeze", lambda x: x.squeeze(), lambda x: x.squeeze(), [((3, 1, 4, 1),), ((1,),)]),
    Row("squeeze", lambda x: x.squeeze(1), lambda x: x.squeeze(1), [((3, 1, 4),), ((3, 2),)]),
    Row("expand", lambda x: x.expand(2, 3, 4), lambda x: x.expand(2, 3, 4), [((3, 1),), ((1, 4),)]),
    Row("expand", lambda x: x.expand(-1, 5), lambda x: x.expand(-1, 5), [((3, 1),)]),
    Row("flatten", lambda x: x.flatten(1), lambda x: x.flatten(1), [((2, 3, 4),), ((2, 0, 3),)]),
    Row("flatten", lambda x: x.flatten(), lambda x: x.flatten(), [((),), ((2, 3),)]),
    Row(
        "cat",
        lambda a, b: mt.cat([a, b], 1),
        lambda a, b: torch.cat([a, b], 1),
        [((2, 3), (2, 5)), ((2, 0), (2, 2))],
        grad=(0, 1),
    ),
    Row(
        "cat",
        lambda a, b: mt.cat([a, b, a]),
        lambda a, b: torch.cat([a, b, a]),
        [((2, 3), (4, 3))],
        grad=(0, 1),
    ),
    Row(
        "stack",
        lambda a, b: mt.stack([a, b], -1),
        lambda a, b: torch.stack([a, b], -1),
        [((2, 3), (2, 3)), ((), ())],
        grad=(0, 1),
    ),
    Row(
        "pad",
        lambda x: mt.nn.functional.pad(x, (1, 2)),
        lambda x: torch.nn.functional.pad(x, (1, 2)),
        [((2, 3),), ((3,),)],
    ),
    Row(
        "pad",
        lambda x: mt.nn.functional.pad(x, (2, 2, 1, 0), value=-1.5),
        lambda x: torch.nn.functional.pad(x, (2, 2, 1, 0), value=-1.5),
        [((2, 3, 4),)],
    ),
    Row(
        "pad",
        lambda x: mt.nn.functional.pad(x, (-1, 1)),
        lambda x: torch.nn.functional.pad(x, (-1, 1)),
        [((2, 4),)],
    ),
    Row("flip", lambda x: x.flip(0), lambda x: x.flip(0), [((3, 4),), ((0, 2),)]),
    Row("flip", lambda x: x.flip((0, 2)), lambda x: x.flip((0, 2)), [((3, 4, 5),)]),
    Row(
        "contiguous",
        lambda x: x.transpose(0, 1).contiguous(),
        lambda x: x.transpose(0, 1).contiguous(),
        [((3, 4),)],
        covers=("copy_",),
    ),
    Row(
        "to_dtype",
        lambda x: x.double() * 2,
        lambda x: x.double() * 2,
        [((3, 4),)],
        dtypes=("float32",),
        gradcheck=False,
    ),
    Row("to_device", lambda x: x.cpu().to(x.device) * 1, lambda x: x.cpu() * 1, [((3, 4),)]),
]
