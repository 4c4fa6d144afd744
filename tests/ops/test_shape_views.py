"""The shape functions of issue #14 return views where PyTorch does (a write to the input shows
through every piece) and copies where it copies."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest

VIEWS = {
    "split": lambda x: x.split(2, 1),
    "split_sizes": lambda x: mt.split(x, [1, 3], 1),
    "chunk": lambda x: x.chunk(2, 0),
    "unbind": lambda x: x.unbind(1),
    "narrow": lambda x: (x.narrow(1, 1, 2),),
    "movedim": lambda x: (x.movedim(0, 1),),
    "unflatten": lambda x: (x.unflatten(1, (2, 2)),),
    "view_as": lambda x: (x.view_as(mt.zeros(4, 3)),),
    "expand_as": lambda x: (x.expand_as(mt.zeros(2, 3, 4)),),
    "meshgrid": lambda x: mt.meshgrid(x[0], x[1, :2], indexing="xy"),
}
COPIES = {
    "repeat": lambda x: (x.repeat(1, 2),),
    "tile": lambda x: (x.tile((2,)),),
    "roll": lambda x: (x.roll(1, 0),),
    "roll_zero_shift": lambda x: (x.roll(0, 0),),
    "tril": lambda x: (x.tril(),),
    "triu": lambda x: (x.triu(),),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_share_memory_with_the_input(name, device):
    x = mt.arange(12.0, device=device).reshape(3, 4)
    pieces = VIEWS[name](x)
    x[...] = 7.0
    for piece in pieces:
        assert np.all(piece.cpu().numpy() == 7.0), f"{name}: a piece is not a view of its input"


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copies_do_not_share_memory(name, device):
    x = mt.arange(12.0, device=device).reshape(3, 4) + 1
    (out,) = COPIES[name](x)
    before = out.cpu().numpy().copy()
    x[...] = 0.0
    np.testing.assert_array_equal(out.cpu().numpy(), before, err_msg=name)
