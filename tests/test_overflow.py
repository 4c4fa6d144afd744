"""Shapes, strides, offsets and byte sizes that overflow int64 (issue #10, "element-count
overflow"): each raises a ShapeError naming the op before any memory is touched, where it used to
size storage from a wrapped count and crash or read stray memory. PyTorch raises a RuntimeError
for each (ShapeError is one). A valid request the allocator cannot satisfy raises
OutOfMemoryError, and the process stays usable after every one of these."""

from __future__ import annotations

import mytensor as mt
import numpy as np
import pytest
import torch

F = mt.nn.functional

BIG = 2**62
MAX = 2**63 - 1


def _ones(*shape, device="cpu"):
    return mt.ones(*shape, device=device)


# (id, fn(device), message fragment); every row crashed, read stray memory or raised a
# misleading message before the fix.
OVERFLOW_ROWS = [
    (
        "zeros-bytes",
        lambda d: mt.zeros(MAX, device=d),
        "[full] shape (9223372036854775807,) has too many elements: 9223372036854775807 x 4 bytes",
    ),
    ("zeros-2^62-floats", lambda d: mt.zeros(BIG, device=d), "x 4 bytes overflows int64"),
    (
        "empty-numel",
        lambda d: mt.empty(2**32, 2**32, device=d)[1].sum(),
        "[empty] shape (4294967296, 4294967296) has too many elements",
    ),
    (
        "empty-numel-with-zero",
        lambda d: mt.empty(2**40, 2**40, 0, device=d),
        "[empty] shape (1099511627776, 1099511627776, 0) has too many elements",
    ),
    (
        "empty-strides",
        lambda d: mt.empty(0, 2**40, 2**40, device=d),
        "the product of its non-zero dims overflows int64",
    ),
    ("eye", lambda d: mt.eye(2**32, 2**32, device=d), "[eye] shape (4294967296, 4294967296)"),
    ("eye-bytes", lambda d: mt.eye(1, MAX, device=d), "[eye] shape (1, 9223372036854775807)"),
    (
        "full-read",
        lambda d: mt.full((2, BIG + 2), 1.0, device=d)[1, 5],
        "[full] shape (2, 4611686018427387906) has too many elements",
    ),
    (
        "randint",
        lambda d: mt.randint(0, 5, (3, BIG), device=d),
        "[randint] shape (3, 4611686018427387904) has too many elements",
    ),
    ("rand", lambda d: mt.rand(2**32, 2**32, device=d), "[rand] shape (4294967296, 4294967296)"),
    ("randn", lambda d: mt.randn(BIG, 4, device=d), "[randn] shape (4611686018427387904, 4)"),
    (
        "arange",
        lambda d: mt.arange(0, 1e20, device=d),
        "[arange] the length 1e+20 of arange(0, 1e+20, 1) is too large for a tensor",
    ),
    ("arange-tiny-step", lambda d: mt.arange(0, 10, 1e-300, device=d), "is too large"),
    (
        "arange-bytes",
        lambda d: mt.arange(0, 2**62, device=d),
        "[arange] shape (4611686018427387904,) has too many elements: 4611686018427387904 x 8",
    ),
    (
        "expand",
        lambda d: _ones(1, 1, device=d).expand(2**32, 2**32).contiguous()[3, 3],
        "[expand] shape (4294967296, 4294967296) has too many elements",
    ),
    (
        "expand-contiguous",
        lambda d: _ones(1, 1, device=d).expand(2**31, 2**31).contiguous(),
        "[empty] shape (2147483648, 2147483648) has too many elements: 4611686018427387904 x 4",
    ),
    (
        "expand-with-zero",
        lambda d: _ones(1, 1, 0, device=d).expand(BIG, BIG, 0),
        "[expand] shape (4611686018427387904, 4611686018427387904, 0) has too many elements",
    ),
    ("view", lambda d: _ones(0, device=d).view(2**40, 2**40, 0), "[view] shape"),
    (
        "reshape-infer",
        lambda d: _ones(0, 4, device=d).reshape(-1, BIG, BIG),
        "[reshape] shape (-1, 4611686018427387904, 4611686018427387904) has too many elements",
    ),
    (
        "pad",
        lambda d: F.pad(_ones(4, 4, device=d), (0, BIG - 4)),
        "[pad] shape (4, 4611686018427387904) has too many elements",
    ),
    (
        "pad-sum",
        lambda d: F.pad(_ones(4, device=d), (MAX, MAX)),
        "[pad] the padded size overflows int64",
    ),
    (
        "adaptive-pool",
        lambda d: F.adaptive_avg_pool2d(_ones(1, 1, 4, 4, device=d), (2**32, 2**32)),
        "[adaptive_avg_pool2d] shape (1, 1, 4294967296, 4294967296) has too many elements",
    ),
    (
        "max-pool-padding",
        lambda d: F.max_pool2d(_ones(1, 1, 4, 4, device=d), MAX, padding=BIG - 1),
        "[max_pool2d] the padded input height overflows int64",
    ),
    (
        "matmul-batch",
        lambda d: (
            _ones(1, 1, 1, device=d).expand(BIG, 1, 1) @ _ones(1, 1, 1, device=d).expand(BIG, 1, 1)
        ),
        "[matmul] shape (4611686018427387904, 1, 1) has too many elements",
    ),
    (
        "linear",
        lambda d: F.linear(_ones(1, 0, device=d).expand(BIG, 0), _ones(16, 0, device=d)),
        "[linear] shape (4611686018427387904, 16) has too many elements",
    ),
    (
        "cat",
        lambda d: mt.cat([_ones(1, device=d).expand(BIG)] * 2),
        "[cat] the concatenated size overflows int64",
    ),
    (
        "stack",
        lambda d: mt.stack([_ones(1, device=d).expand(BIG)] * 3),
        "[cat] shape (3, 4611686018427387904) has too many elements",
    ),
    (
        "conv2d-padding",
        lambda d: F.conv2d(_ones(1, 1, 2, 2, device=d), _ones(1, 1, 1, 1, device=d), padding=BIG),
        "[conv2d] the padded input height overflows int64",
    ),
    (
        "conv2d-output",
        lambda d: F.conv2d(_ones(1, 1, 2, 2, device=d), _ones(1, 1, 1, 1, device=d), padding=2**40),
        "[conv2d] shape (1, 1, 2199023255554, 2199023255554) has too many elements",
    ),
    (
        "conv2d-dilation",
        lambda d: F.conv2d(
            _ones(1, 1, 2, 2, device=d), _ones(1, 1, 2, 2, device=d), dilation=BIG, padding=BIG - 1
        ),
        "[conv2d] the padded input height overflows int64",
    ),
    (
        "conv2d-dilated-kernel",
        lambda d: F.conv2d(_ones(1, 1, 2, 2, device=d), _ones(1, 1, 3, 3, device=d), dilation=BIG),
        "[conv2d] the dilated kernel height overflows int64",
    ),
]


@pytest.mark.parametrize(
    "fn,fragment", [r[1:] for r in OVERFLOW_ROWS], ids=[r[0] for r in OVERFLOW_ROWS]
)
def test_overflowing_shape_raises_shape_error(device, fn, fragment):
    """issue #10: each of these crashed (SIGSEGV) or read stray memory before the fix."""
    with pytest.raises(mt.ShapeError) as info:
        fn(device)
    assert fragment in str(info.value)
    # ShapeError is a RuntimeError, like PyTorch's error for the same call.
    assert isinstance(info.value, RuntimeError)
    assert mt.ones(2, device=device).sum().item() == 2.0  # the process is still usable


def test_torch_raises_for_the_same_calls():
    """The reference: PyTorch refuses these shapes too (the rows above follow it)."""
    for fn in [
        lambda: torch.zeros(MAX),
        lambda: torch.eye(2**32, 2**32),
        lambda: torch.empty(0, 2**40, 2**40),
        lambda: torch.ones(0).view(2**40, 2**40, 0),
        lambda: torch.ones(1, 1).expand(2**32, 2**32),
    ]:
        with pytest.raises(RuntimeError):
            fn()


@pytest.mark.parametrize(
    "fn,fragment",
    [
        (lambda: F.pad(mt.ones(4), (-5, 6)), "[pad] padding (-5, 6) crops more than the size 4"),
        (lambda: F.pad(mt.ones(4), (-(2**63), MAX)), "crops more than the size 4 of dim 0"),
        (lambda: F.pad(mt.ones(4), (MAX, -MAX + 1)), "crops more than the size 4 of dim 0"),
    ],
)
def test_pad_cannot_crop_more_than_the_input(fn, fragment):
    """issue #10: -lo of INT64_MIN overflowed, and a crop past the input gave a tensor filled with
    the pad value; PyTorch raises ("narrow(): length must be non-negative")."""
    with pytest.raises(mt.ShapeError) as info:
        fn()
    assert fragment in str(info.value)
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.ones(4), (-5, 6))
    assert F.pad(mt.ones(4), (-4, 1)).shape == (1,)  # cropping everything is allowed


@pytest.mark.parametrize(
    "index",
    [
        slice(BIG, MAX, BIG),
        slice(-(2**63), None),
        slice(None, MAX),
        slice(None, None, MAX),
        slice(None, None, BIG),
        slice(BIG, None),
        slice(1, None, MAX),
    ],
)
def test_huge_slice_bounds_and_steps_match_python(index):
    """issue #10: (stop - start + step - 1) / step and stride x step overflowed for huge steps.
    The reference is NumPy (Python slice semantics): PyTorch itself wraps stride x step here."""
    a = np.arange(16.0, dtype=np.float32).reshape(4, 4)
    b = mt.arange(16.0).reshape(4, 4)
    for key in [index, (slice(None), index), (index, index)]:
        np.testing.assert_array_equal(b[key].contiguous().numpy(), a[key])


@pytest.mark.parametrize("index", [MAX, -(2**63), 4, -5])
def test_huge_select_index_raises_index_error(index):
    with pytest.raises(IndexError, match=r"\[select\] index"):
        mt._C.select(mt.ones(4)._impl, 0, index)


def test_select_on_an_empty_tensor_keeps_a_valid_view():
    assert mt._C.select(mt.empty(0, 4)._impl, 1, 3).shape == [0]


def test_views_of_huge_stride_zero_tensors_stay_legal():
    """Large but fitting shapes are views, as in PyTorch: no element count overflows."""
    x = mt.ones(1).expand(MAX)
    assert x.flatten().shape == (MAX,)
    assert mt.ones(1).expand(BIG).reshape(2**31, 2**31).shape == (2**31, 2**31)
    assert x.unsqueeze(0).unsqueeze(2).shape == (1, MAX, 1)
    assert mt.ones(2**31, 0).view(-1, 2**40).shape == (0, 2**40)


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(10, dtype=np.float32)[::2],
        lambda: np.arange(10, dtype=np.float32)[::-2],
        lambda: np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::-1],
        lambda: np.arange(24, dtype=np.float32).reshape(2, 3, 4)[:, 1:, ::3],
        lambda: np.empty((0, 3), dtype=np.float32).T,
        lambda: torch.arange(3.0).expand(4, 3),
        lambda: torch.arange(12.0).reshape(3, 4)[:, 1:3],
    ],
    ids=[
        "step",
        "negative-step",
        "reversed-cols",
        "sliced-3d",
        "empty",
        "torch-expand",
        "torch-sliced",
    ],
)
def test_from_dlpack_storage_spans_the_strided_array(make):
    """The storage of an imported array covers every element its strides reach (it was sized
    numel x itemsize from the data pointer, which the bounds check of every view now rejects for
    a strided array)."""
    a = make()
    t = mt.from_dlpack(a)
    a = np.asarray(a)
    np.testing.assert_array_equal(t.contiguous().numpy(), a)
    if t.numel() > 0:
        np.testing.assert_array_equal(t[-1].contiguous().numpy(), a[-1])


def test_large_valid_request_raises_out_of_memory_and_the_process_stays_usable():
    """A shape whose bytes fit int64 but no machine holds (1 PiB, beyond the 128 TiB address
    space) is the allocator's failure: OutOfMemoryError naming the size, not a ShapeError."""
    with pytest.raises(mt.OutOfMemoryError, match="1125899906842624 bytes"):
        mt.empty(2**48)
    with pytest.raises(MemoryError):
        mt.zeros(2**50, dtype=mt.uint8)
    assert mt.ones(3).sum().item() == 3.0


def test_conv2d_column_buffer_out_of_memory_names_the_op():
    """issue #10: the im2col buffer (C*KH*KW x OH*OW) can be far larger than input and output;
    its allocation failure escaped from a parallel region ("cannot create std::vector larger than
    max_size()" or a crash). Now: OutOfMemoryError naming conv2d and the size."""
    x = mt.ones(1, 2**22, 1, 1)
    w = mt.ones(1, 2**22, 1, 1)
    with pytest.raises(mt.OutOfMemoryError, match=r"\[conv2d\] out of memory: a per-thread"):
        F.conv2d(x, w, padding=2**11)
    assert F.conv2d(mt.ones(1, 1, 3, 3), mt.ones(1, 1, 2, 2)).sum().item() == 16.0


@pytest.mark.parametrize(
    "fn,fragment",
    [
        (
            lambda: F.avg_pool2d(mt.ones(1, 1, 4, 4), 2**40, padding=2**39),
            "[avg_pool2d] the kernel area overflows int64",
        ),
        (
            lambda: F.max_pool2d(mt.ones(1, 1, 4, 4), 2**40, padding=2**39),
            "[max_pool2d] the kernel area overflows int64",
        ),
        (
            lambda: F.adaptive_avg_pool2d(mt.ones(1, 1, 1, 1).expand(1, 1, 2**32, 1), (2**32, 1)),
            "[adaptive_avg_pool2d] the adaptive window bound overflows int64",
        ),
        (
            lambda: mt._C.adaptive_avg_pool2d_backward(
                mt.ones(1, 1, 1, 1).expand(1, 1, 2**32, 1)._impl, [1, 1, 2**32, 1]
            ),
            "[adaptive_avg_pool2d_backward] the adaptive window bound overflows int64",
        ),
    ],
    ids=["avg-kernel-area", "max-kernel-area", "adaptive", "adaptive-backward"],
)
def test_pool_window_arithmetic_overflow_raises(fn, fragment):
    """issue #10: a (padded) kernel of 2^40 x 2^40 overflowed the average pool's divisor and the
    kernels' work estimate; out * in overflowed the adaptive windows (PyTorch refuses these)."""
    with pytest.raises(mt.ShapeError) as info:
        fn()
    assert fragment in str(info.value)


def test_augment_images_refuses_a_padding_whose_crop_span_overflows():
    """issue #10: 2 * padding + 1 overflowed int64 in both kernels."""
    images = mt.zeros(1, 1, 2, 2, dtype=mt.uint8)
    one = mt.zeros(1, dtype=mt.int64)
    for padding in [2**62, 2**31]:
        with pytest.raises(ValueError, match=r"\[augment_images\] padding must be at most"):
            mt._C.augment_images(
                images._impl,
                one._impl,
                one._impl,
                mt.zeros(1)._impl,
                mt.ones(1)._impl,
                padding,
                False,
                0,
                0,
            )


def test_pad_that_only_crops_never_converts_the_value():
    """Found by tests/fuzz: PyTorch checks the fill value only when it pads (issue #10)."""
    x = mt.ones(2, dtype=mt.uint8)
    assert F.pad(x, (0, 0), value=-1.5).tolist() == [1, 1]
    assert F.pad(x, (-1, 0), value=300).tolist() == [1]
    with pytest.raises(RuntimeError, match="cannot be converted"):
        F.pad(x, (1, 0), value=-1.5)
