// Views (no copies) and shape ops: reshape, permute, slice, expand, cat, pad, flip.
#include <algorithm>

#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

namespace {

// Resolves one -1 in a requested shape and checks the element count.
Shape infer_shape(const Shape& requested, int64_t numel, const char* op, const Shape& from) {
  Shape shape = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      MT_CHECK(infer < 0, ShapeError, "[", op, "] only one dimension can be inferred (-1), got ",
               shape_str(requested));
      infer = static_cast<int64_t>(i);
    } else {
      MT_CHECK(shape[i] >= 0, ShapeError, "[", op, "] invalid shape ", shape_str(requested));
    }
  }
  // The product of the known dims, checked like a new shape's: of the non-zero dims.
  int64_t nonzero = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (static_cast<int64_t>(i) == infer) continue;
    if (shape[i] == 0) known = 0;
    MT_CHECK(!__builtin_mul_overflow(nonzero, std::max<int64_t>(shape[i], 1), &nonzero),
             ShapeError, "[", op, "] shape ", shape_str(requested),
             " has too many elements: its element count overflows int64");
  }
  if (known != 0) known = nonzero;
  if (infer >= 0) {
    MT_CHECK(known != 0 && numel % known == 0, ShapeError, "[", op, "] shape ",
             shape_str(requested), " is invalid for input of shape ", shape_str(from), " (",
             numel, " elements)");
    shape[infer] = numel / known;
  } else {
    MT_CHECK(known == numel, ShapeError, "[", op, "] shape ", shape_str(requested),
             " is invalid for input of shape ", shape_str(from), " (", numel, " elements)");
  }
  return shape;
}

// Strides for viewing x with `shape` without a copy, or an empty optional when impossible
// (the algorithm of PyTorch's computeStride: match groups of dims that are contiguous together).
std::optional<Shape> view_strides(const Tensor& x, const Shape& shape) {
  const Shape& old_shape = x.shape();
  const Shape& old_strides = x.strides();
  if (x.numel() == 0 || old_shape.empty()) return contiguous_strides(shape);
  Shape strides(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  // Both shapes have a valid numel, so only products with a stride can overflow: a stride that
  // does not fit int64 cannot be a view's, so that dim ends a chunk, or the view is impossible.
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    int64_t next_stride = 0;
    bool chunk_end = d == 0 || (old_shape[d - 1] != 1 &&
                                (__builtin_mul_overflow(tensor_numel, chunk_base_stride,
                                                        &next_stride) ||
                                 old_strides[d - 1] != next_stride));
    if (!chunk_end) continue;
    // Fill view dims from the back until they hold the chunk's elements.
    while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
      if (__builtin_mul_overflow(view_numel, chunk_base_stride, &strides[view_d]))
        return std::nullopt;
      view_numel *= shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base_stride = old_strides[d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

bool on_cuda(const Tensor& t) { return t.device().is_cuda(); }

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    MT_CHECK(da == db || da == 1 || db == 1, ShapeError, "[", op, "] shapes ", shape_str(a),
             " and ", shape_str(b), " cannot be broadcast together (dim ", i, ": ", da, " vs ", db,
             ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor view(const Tensor& x, const Shape& requested) {
  Shape shape = infer_shape(requested, x.numel(), "view", x.shape());
  auto strides = view_strides(x, shape);
  MT_CHECK(strides.has_value(), ShapeError, "[view] a tensor of shape ", shape_str(x.shape()),
           " with strides ", shape_str(x.strides()), " cannot be viewed as ", shape_str(shape),
           " without a copy; use reshape() or contiguous() first");
  return x.view_as_strided(shape, *strides, x.offset(), "view");
}

Tensor reshape(const Tensor& x, const Shape& requested) {
  Shape shape = infer_shape(requested, x.numel(), "reshape", x.shape());
  if (auto strides = view_strides(x, shape))
    return x.view_as_strided(shape, *strides, x.offset(), "reshape");
  Tensor c = clone(x);
  return c.view_as_strided(shape, contiguous_strides(shape), c.offset(), "reshape");
}

Tensor permute(const Tensor& x, const Dims& dims) {
  int64_t n = x.ndim();
  MT_CHECK(static_cast<int64_t>(dims.size()) == n, ShapeError, "[permute] expected ", n,
           " dims for a tensor of shape ", shape_str(x.shape()), ", got ", shape_str(dims));
  Shape shape(n), strides(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = wrap_dim(dims[i], n, "permute");
    MT_CHECK(!seen[d], ShapeError, "[permute] dim ", dims[i], " repeats in ", shape_str(dims));
    seen[d] = true;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return x.view_as_strided(shape, strides, x.offset());
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  int64_t a = wrap_dim(dim0, x.ndim(), "transpose"), b = wrap_dim(dim1, x.ndim(), "transpose");
  if (x.ndim() == 0) return x;  // dims 0 and -1 name a scalar's one dim
  Shape shape = x.shape(), strides = x.strides();
  std::swap(shape[a], shape[b]);
  std::swap(strides[a], strides[b]);
  return x.view_as_strided(shape, strides, x.offset());
}

Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start,
             std::optional<int64_t> stop, int64_t step) {
  MT_CHECK(x.ndim() > 0, ShapeError, "[slice] cannot slice a 0-d tensor");
  int64_t d = wrap_dim(dim, x.ndim(), "slice");
  MT_CHECK(step > 0, std::invalid_argument, "[slice] step must be positive, got ", step);
  int64_t size = x.shape()[d];
  // Python slice semantics: negative bounds count from the end, out-of-range bounds clamp.
  auto clamp_index = [size](int64_t i) {
    if (i < 0) i += size;
    return std::min(std::max<int64_t>(i, 0), size);
  };
  int64_t b = start ? clamp_index(*start) : 0;
  int64_t e = stop ? clamp_index(*stop) : size;
  // Written so that no step (up to INT64_MAX) overflows; clamp_index bounds b and e by size.
  int64_t len = e > b ? 1 + (e - b - 1) / step : 0;
  Shape shape = x.shape(), strides = x.strides();
  shape[d] = len;
  // A dim of one element never moves along its stride: keep the old one if stride x step
  // overflows (a huge step on a short dim, valid in Python).
  int64_t stepped;
  if (__builtin_mul_overflow(x.strides()[d], step, &stepped)) {
    MT_CHECK(len <= 1, ShapeError, "[slice] stride ", x.strides()[d], " x step ", step,
             " overflows int64");
    stepped = x.strides()[d];
  }
  strides[d] = stepped;
  const int64_t offset = checked_add(
      x.offset(), checked_mul(b, x.strides()[d], "slice", "the storage offset"), "slice",
      "the storage offset");
  return x.view_as_strided(shape, strides, offset, "slice");
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  MT_CHECK(x.ndim() > 0, std::out_of_range, "[select] cannot index a 0-d tensor");
  int64_t d = wrap_dim(dim, x.ndim(), "select");
  int64_t size = x.shape()[d];
  MT_CHECK(index >= -size && index < size, std::out_of_range, "[select] index ", index,
           " is out of bounds for dim ", d, " with size ", size);
  if (index < 0) index += size;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  const int64_t offset = checked_add(
      x.offset(), checked_mul(index, x.strides()[d], "select", "the storage offset"), "select",
      "the storage offset");
  return x.view_as_strided(shape, strides, offset, "select");
}

Tensor expand(const Tensor& x, const Shape& requested) {
  int64_t n = static_cast<int64_t>(requested.size());
  MT_CHECK(n >= x.ndim(), ShapeError, "[expand] cannot expand a tensor of shape ",
           shape_str(x.shape()), " to fewer dims: ", shape_str(requested));
  Shape shape(n), strides(n);
  int64_t lead = n - x.ndim();
  for (int64_t i = 0; i < n; ++i) {
    if (i < lead) {
      MT_CHECK(requested[i] >= 0, ShapeError, "[expand] invalid size ", requested[i],
               " for a new leading dim in ", shape_str(requested));
      shape[i] = requested[i];
      strides[i] = 0;
      continue;
    }
    int64_t have = x.shape()[i - lead];
    int64_t want = requested[i] == -1 ? have : requested[i];
    MT_CHECK(have == want || have == 1, ShapeError, "[expand] the size of dim ", i - lead, " (",
             have, ") must match the expanded size (", want, ") or be 1: cannot expand ",
             shape_str(x.shape()), " to ", shape_str(requested));
    shape[i] = want;
    strides[i] = have == want ? x.strides()[i - lead] : 0;
  }
  checked_numel(shape, "expand");
  return x.view_as_strided(shape, strides, x.offset(), "expand");
}

Tensor squeeze(const Tensor& x, std::optional<Dims> dims) {
  std::vector<bool> drop(x.ndim(), false);
  if (dims) {
    for (int64_t d : *dims) {
      int64_t w = wrap_dim(d, x.ndim(), "squeeze");
      if (x.ndim() > 0 && x.shape()[w] == 1) drop[w] = true;
    }
  } else {
    for (int64_t i = 0; i < x.ndim(); ++i) drop[i] = x.shape()[i] == 1;
  }
  Shape shape, strides;
  for (int64_t i = 0; i < x.ndim(); ++i) {
    if (drop[i]) continue;
    shape.push_back(x.shape()[i]);
    strides.push_back(x.strides()[i]);
  }
  return x.view_as_strided(shape, strides, x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.ndim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  // The stride of a size-1 dim is never used to move: 1 if the natural one would overflow.
  int64_t stride = 1;
  if (d < x.ndim() && __builtin_mul_overflow(x.strides()[d], x.shape()[d], &stride)) stride = 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return x.view_as_strided(shape, strides, x.offset());
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  int64_t s = wrap_dim(start_dim, x.ndim(), "flatten"), e = wrap_dim(end_dim, x.ndim(), "flatten");
  if (x.ndim() == 0) return reshape(x, {1});
  MT_CHECK(s <= e, std::invalid_argument, "[flatten] start_dim ", start_dim,
           " comes after end_dim ", end_dim);
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t i = s; i <= e; ++i) merged *= x.shape()[i];  // fits: x's numel was checked
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  MT_CHECK(!xs.empty(), std::invalid_argument, "[cat] expected a non-empty list of tensors");
  const Tensor& first = xs[0];
  MT_CHECK(first.ndim() > 0, ShapeError, "[cat] zero-dimensional tensor (at position 0) cannot be "
           "concatenated");
  int64_t d = wrap_dim(dim, first.ndim(), "cat");
  DType dtype = first.dtype();
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& t = xs[i];
    check_same_device(first, t, "cat");
    MT_CHECK(t.ndim() == first.ndim(), ShapeError, "[cat] tensors must have the same number of "
             "dims: tensor 0 has shape ", shape_str(first.shape()), ", tensor ", i, " has shape ",
             shape_str(t.shape()));
    for (int64_t k = 0; k < t.ndim(); ++k) {
      MT_CHECK(k == d || t.shape()[k] == first.shape()[k], ShapeError,
               "[cat] sizes must match except in dim ", d, ": tensor 0 has shape ",
               shape_str(first.shape()), ", tensor ", i, " has shape ", shape_str(t.shape()));
    }
    dtype = promote_types(dtype, t.dtype());
    shape[d] = checked_add(shape[d], t.shape()[d], "cat", "the concatenated size");
  }
  Tensor out = Tensor::empty(shape, dtype, first.device(), "cat");
  int64_t at = 0;
  for (const Tensor& t : xs) {
    int64_t len = t.shape()[d];
    if (len > 0) copy_(slice(out, d, at, at + len, 1), t);
    at += len;
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  MT_CHECK(!xs.empty(), std::invalid_argument, "[stack] expected a non-empty list of tensors");
  int64_t d = wrap_dim(dim, xs[0].ndim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < xs.size(); ++i) {
    MT_CHECK(xs[i].shape() == xs[0].shape(), ShapeError,
             "[stack] expects each tensor to be equal size, but got ", shape_str(xs[0].shape()),
             " at entry 0 and ", shape_str(xs[i].shape()), " at entry ", i);
    parts.push_back(unsqueeze(xs[i], d));
  }
  return cat(parts, d);
}

Tensor pad(const Tensor& x, const Dims& pads, double value) {
  MT_CHECK(pads.size() % 2 == 0, std::invalid_argument,
           "[pad] padding length must be even, got ", pads.size());
  int64_t npad = static_cast<int64_t>(pads.size()) / 2;
  MT_CHECK(npad <= x.ndim(), ShapeError, "[pad] padding ", shape_str(pads), " covers ", npad,
           " dims but the input of shape ", shape_str(x.shape()), " has ", x.ndim());
  Shape shape = x.shape();
  Tensor src = x;
  for (int64_t i = 0; i < npad; ++i) {
    int64_t d = x.ndim() - 1 - i;
    const int64_t size = x.shape()[d], lo = pads[2 * i], hi = pads[2 * i + 1];
    // Negative padding crops the source, by at most its size in all (as PyTorch's narrow).
    const int64_t crop_lo = lo < 0 && lo >= -size ? -lo : 0;
    const int64_t crop_hi = hi < 0 && hi >= -size ? -hi : 0;
    MT_CHECK(lo >= -size && hi >= -size && crop_lo + crop_hi <= size, ShapeError, "[pad] padding ",
             shape_str(pads), " crops more than the size ", size, " of dim ", d,
             " of input shape ", shape_str(x.shape()));
    shape[d] = checked_add(checked_add(size, lo, "pad", "the padded size"), hi, "pad",
                           "the padded size");
    src = slice(src, d, crop_lo, size - crop_hi, 1);
  }
  // Only cropping: the value is never written (and PyTorch does not check it then).
  if (std::none_of(pads.begin(), pads.end(), [](int64_t p) { return p > 0; })) return clone(src);
  checked_nbytes(shape, x.itemsize(), "pad");
  Tensor out = full(shape, value, x.dtype(), x.device());
  Tensor inner = out;
  for (int64_t i = 0; i < npad; ++i) {
    int64_t d = x.ndim() - 1 - i;
    int64_t lo = std::max<int64_t>(pads[2 * i], 0);
    inner = slice(inner, d, lo, lo + src.shape()[d], 1);
  }
  if (src.numel() > 0) copy_(inner, src);
  return out;
}

Tensor flip(const Tensor& x, const Dims& dims) {
  if (x.ndim() == 0) {  // dims 0 and -1 name the one dim of a scalar: a copy, as in PyTorch
    bool seen = false;
    for (int64_t dim : dims) {
      wrap_dim(dim, 0, "flip");
      MT_CHECK(!seen, ShapeError, "[flip] dim ", dim, " appears twice in ", shape_str(dims));
      seen = true;
    }
    return clone(x);
  }
  Shape strides = x.strides();
  int64_t offset = x.offset();
  std::vector<bool> seen(x.ndim(), false);
  for (int64_t dim : dims) {
    int64_t d = wrap_dim(dim, x.ndim(), "flip");
    MT_CHECK(!seen[d], ShapeError, "[flip] dim ", dim, " appears twice in ", shape_str(dims));
    seen[d] = true;
    if (x.shape()[d] > 0) offset += (x.shape()[d] - 1) * strides[d];
    strides[d] = -strides[d];
  }
  // A negative-stride view exists only inside this op: it is copied out at once.
  Tensor reversed = x.view_as_strided(x.shape(), strides, offset);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (out.numel() > 0) {
    if (on_cuda(out)) {
      cuda::copy(reversed, out);
    } else {
      cpu::copy(reversed, out);
    }
  }
  return out;
}

}  // namespace mytensor
