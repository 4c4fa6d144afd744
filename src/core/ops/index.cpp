// Indexing ops: index_select and gather with their backwards (zeros + index_add / scatter_add).
// CPU index values are checked before any kernel runs; CUDA kernels check them on the device (a
// host check would sync, and would make these ops impossible inside a CUDA graph).
#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

namespace {

void check_index_dtype(const Tensor& index, const char* op) {
  MT_CHECK(index.dtype() == DType::Int64 || index.dtype() == DType::Int32, DTypeError, "[", op,
           "] expected index of dtype int64 or int32, got ", dtype_name(index.dtype()));
}

// Raises IndexError naming the first value outside [0, size). A CUDA index is not copied to the
// host: the kernels skip a bad index and record it in the device error slot, which raises
// IndexError at the next synchronize or device-to-host copy (cuda/runtime.h).
void check_index_values(const Tensor& index, int64_t size, int64_t dim, const char* op) {
  if (index.numel() == 0 || index.device().is_cuda()) return;
  const Tensor host = contiguous(index);
  const int64_t n = host.numel();
  auto check = [&](auto* p) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = static_cast<int64_t>(p[i]);
      MT_CHECK(v >= 0 && v < size, std::out_of_range, "[", op, "] index ", v,
               " is out of range for dim ", dim, " of size ", size);
    }
  };
  if (host.dtype() == DType::Int64) {
    check(host.data<int64_t>());
  } else {
    check(host.data<int32_t>());
  }
}

// The (outer, n, inner) split of `shape` around `dim` (a 0-d shape is one element).
IndexDims index_dims(const Shape& shape, int64_t dim) {
  IndexDims d;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (i < dim) d.outer *= shape[i];
    else if (i == dim) d.n = shape[i];
    else d.inner *= shape[i];
  }
  return d;
}

struct SelectPlan {
  int64_t dim;
  Tensor index;  // contiguous int64, 1-D
  Shape out_shape;
};

SelectPlan plan_index_select(const Shape& in_shape, const Tensor& x_or_grad, int64_t dim_in,
                             const Tensor& index, const char* op) {
  check_same_device(x_or_grad, index, op);
  check_index_dtype(index, op);
  MT_CHECK(index.ndim() <= 1, ShapeError, "[", op, "] expected a 0-d or 1-D index, got shape ",
           shape_str(index.shape()));
  const int64_t ndim = static_cast<int64_t>(in_shape.size());
  SelectPlan plan;
  plan.dim = wrap_dim(dim_in, ndim, op);
  const int64_t size = ndim == 0 ? 1 : in_shape[plan.dim];
  check_index_values(index, size, plan.dim, op);
  plan.index = contiguous(reshape(to_dtype(index, DType::Int64), {index.numel()}));
  plan.out_shape = in_shape;
  if (ndim > 0) plan.out_shape[plan.dim] = index.numel();
  else MT_CHECK(index.numel() == 1, ShapeError, "[", op,
                "] a 0-d input takes exactly one index, got ", index.numel());
  return plan;
}

// Validates gather's index against an input of `in_shape` (PyTorch's rules) and returns the dim.
int64_t check_gather(const Shape& in_shape, const Tensor& x_or_grad, int64_t dim_in,
                     const Tensor& index, const char* op) {
  check_same_device(x_or_grad, index, op);
  check_index_dtype(index, op);
  const int64_t ndim = static_cast<int64_t>(in_shape.size());
  int64_t dim = wrap_dim(dim_in, ndim, op);
  MT_CHECK(index.ndim() == ndim || (ndim <= 1 && index.ndim() <= 1), ShapeError, "[", op,
           "] expected index with as many dims as the input: input is ", shape_str(in_shape),
           ", index is ", shape_str(index.shape()));
  for (int64_t d = 0; d < ndim && index.ndim() == ndim; ++d) {
    if (d == dim) continue;
    MT_CHECK(index.shape()[d] <= in_shape[d], ShapeError, "[", op, "] index of shape ",
             shape_str(index.shape()), " is larger than the input of shape ", shape_str(in_shape),
             " in dim ", d);
  }
  check_index_values(index, ndim == 0 ? 1 : in_shape[dim], dim, op);
  return dim;
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  SelectPlan plan = plan_index_select(x.shape(), x, dim, index, "index_select");
  Tensor out = Tensor::empty(plan.out_shape, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  IndexDims d = index_dims(x.shape(), plan.dim);
  Tensor xc = contiguous(x);
  if (x.device().is_cuda()) {
    cuda::index_select(xc, d, plan.index, out);
  } else {
    cpu::index_select(xc, d, plan.index, out);
  }
  return out;
}

Tensor index_select_backward(const Tensor& grad, const Shape& input_shape, int64_t dim,
                             const Tensor& index) {
  const char* op = "index_select_backward";
  SelectPlan plan = plan_index_select(input_shape, grad, dim, index, op);
  MT_CHECK(grad.shape() == plan.out_shape, ShapeError, "[", op, "] expected grad of shape ",
           shape_str(plan.out_shape), ", got ", shape_str(grad.shape()));
  Tensor grad_in = full(input_shape, 0.0, grad.dtype(), grad.device());
  if (grad.numel() == 0) return grad_in;
  IndexDims d = index_dims(input_shape, plan.dim);
  Tensor g = contiguous(grad);
  if (grad.device().is_cuda()) {
    cuda::index_add(g, d, plan.index, grad_in);
  } else {
    cpu::index_add(g, d, plan.index, grad_in);
  }
  return grad_in;
}

namespace {
// Kernels see tensors of at least one dim: a 0-d tensor is viewed as shape (1,).
Tensor at_least_1d(const Tensor& t) { return t.ndim() == 0 ? reshape(t, {1}) : t; }
}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  int64_t d = check_gather(x.shape(), x, dim, index, "gather");
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  Tensor idx = at_least_1d(contiguous(to_dtype(index, DType::Int64)));
  Tensor xv = at_least_1d(x), ov = at_least_1d(out);
  if (x.device().is_cuda()) {
    cuda::gather(xv, d, idx, ov);
  } else {
    cpu::gather(xv, d, idx, ov);
  }
  return out;
}

Tensor gather_backward(const Tensor& grad, const Shape& input_shape, int64_t dim,
                       const Tensor& index) {
  const char* op = "gather_backward";
  int64_t d = check_gather(input_shape, grad, dim, index, op);
  MT_CHECK(grad.shape() == index.shape(), ShapeError, "[", op, "] expected grad of shape ",
           shape_str(index.shape()), " (the index's), got ", shape_str(grad.shape()));
  Tensor grad_in = full(input_shape, 0.0, grad.dtype(), grad.device());
  if (grad.numel() == 0) return grad_in;
  Tensor idx = at_least_1d(contiguous(to_dtype(index, DType::Int64)));
  Tensor g = at_least_1d(contiguous(grad)), gv = at_least_1d(grad_in);
  if (grad.device().is_cuda()) {
    cuda::scatter_add(g, d, idx, gv);
  } else {
    cpu::scatter_add(g, d, idx, gv);
  }
  return grad_in;
}

}  // namespace mytensor
