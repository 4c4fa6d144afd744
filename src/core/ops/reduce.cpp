// Reductions and softmax: plan the (outer, r, inner) view, validate, then one backend call.
#include <algorithm>
#include <limits>

#include "core/check.h"
#include "core/ops.h"
#include "core/ops/reduce_plan.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

ReducePlan plan_reduction(const Tensor& x, const Dims& dims, bool keepdim, const char* op) {
  int64_t n = x.ndim();
  // A 0-d tensor accepts dim 0 / -1 (once) and reduces its one element: one slot for its dim.
  std::vector<bool> reduced(std::max<int64_t>(n, 1), dims.empty());
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, n, op);
    MT_CHECK(!reduced[w] || dims.empty(), std::invalid_argument, "[", op, "] dim ", d,
             " appears more than once in ", shape_str(dims));
    reduced[w] = true;
  }
  ReducePlan plan;
  for (int64_t i = 0; i < n; ++i) {
    plan.kept_shape.push_back(reduced[i] ? 1 : x.shape()[i]);
    if (!reduced[i] || keepdim) plan.out_shape.push_back(reduced[i] ? 1 : x.shape()[i]);
  }
  // Reduced dims forming one block [first, last] of a contiguous tensor need no copy.
  int64_t first = -1, last = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!reduced[i]) continue;
    if (first < 0) first = i;
    last = i;
  }
  bool block = first >= 0;
  for (int64_t i = first; block && i <= last; ++i) block = reduced[i];
  if (first < 0) {  // 0-d input: a reduction of one element
    plan.input = contiguous(x);
    return plan;
  }
  if (block) {
    plan.input = contiguous(x);
    for (int64_t i = 0; i < first; ++i) plan.dims.outer *= x.shape()[i];
    for (int64_t i = first; i <= last; ++i) plan.dims.r *= x.shape()[i];
    for (int64_t i = last + 1; i < n; ++i) plan.dims.inner *= x.shape()[i];
    return plan;
  }
  // Otherwise move the reduced dims last and copy.
  Dims order;
  for (int64_t i = 0; i < n; ++i)
    if (!reduced[i]) order.push_back(i);
  for (int64_t i = 0; i < n; ++i)
    if (reduced[i]) order.push_back(i);
  plan.input = contiguous(permute(x, order));
  for (int64_t i = 0; i < n; ++i) (reduced[i] ? plan.dims.r : plan.dims.outer) *= x.shape()[i];
  return plan;
}

namespace {
Tensor sum_impl(const Tensor& x, const Dims& dims, bool keepdim, bool mean, const char* op) {
  MT_CHECK(x.dtype() != DType::Float16 && x.dtype() != DType::BFloat16, DTypeError, "[", op,
           "] dtype ", dtype_name(x.dtype()), " is reserved and not supported yet");
  if (mean) {
    MT_CHECK(is_floating(x.dtype()), DTypeError, "[mean] input dtype must be floating point, got ",
             dtype_name(x.dtype()), "; convert it with .float() first");
  }
  ReducePlan plan = plan_reduction(x, dims, keepdim, op);
  // Sums of integers and bools accumulate in int64, as in PyTorch.
  DType dtype = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  Tensor input = to_dtype(plan.input, dtype);
  Tensor out = Tensor::empty(plan.out_shape, dtype, x.device());
  if (out.numel() == 0) return out;
  double scale = 1.0;
  if (mean) scale = plan.dims.r == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 / plan.dims.r;
  if (x.device().is_cuda()) {
    cuda::sum(input, plan.dims, scale, out);
  } else {
    cpu::sum(input, plan.dims, scale, out);
  }
  return out;
}
}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  return sum_impl(x, dims, keepdim, false, "sum");
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  return sum_impl(x, dims, keepdim, true, "mean");
}

namespace {

void check_not_reserved(DType d, const char* op) {
  MT_CHECK(d != DType::Float16 && d != DType::BFloat16, DTypeError, "[", op, "] dtype ",
           dtype_name(d), " is reserved and not supported yet");
}

// max/min/argmax have no identity: every reduced dim must be non-empty (IndexError, as PyTorch).
void check_nonempty_reduction(const Tensor& x, const Dims& dims, const char* op) {
  if (x.ndim() == 0) return;
  if (dims.empty()) {
    MT_CHECK(x.numel() > 0, std::out_of_range, "[", op,
             "] cannot reduce the empty tensor of shape ", shape_str(x.shape()),
             " over all dims; pass a dim whose size is non-zero");
    return;
  }
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, x.ndim(), op);
    MT_CHECK(x.shape()[w] > 0, std::out_of_range, "[", op, "] expected a non-empty reduction dim, ",
             "got dim ", d, " of size 0 in shape ", shape_str(x.shape()));
  }
}

// bool max/min compute in uint8 (the kernels are compiled for numeric types) and convert back.
Tensor as_numeric(const Tensor& x) {
  return x.dtype() == DType::Bool ? to_dtype(x, DType::UInt8) : x;
}

// values and/or indices of the max (or min) over `dims`; an undefined tensor for the one not
// wanted. indices are only meaningful for one dim or for every dim (a flat index).
std::tuple<Tensor, Tensor> extreme_impl(const Tensor& x, const Dims& dims, bool keepdim,
                                        bool is_max, bool want_values, bool want_indices,
                                        const char* op) {
  check_not_reserved(x.dtype(), op);
  check_nonempty_reduction(x, dims, op);
  ReducePlan plan = plan_reduction(x, dims, keepdim, op);
  Tensor input = as_numeric(plan.input);
  Tensor values, indices;
  if (want_values) values = Tensor::empty(plan.out_shape, input.dtype(), x.device());
  if (want_indices) indices = Tensor::empty(plan.out_shape, DType::Int64, x.device());
  if (shape_numel(plan.out_shape) > 0) {
    if (x.device().is_cuda()) {
      (is_max ? cuda::max : cuda::min)(input, plan.dims, values, indices);
    } else {
      (is_max ? cpu::max : cpu::min)(input, plan.dims, values, indices);
    }
  }
  if (want_values && x.dtype() == DType::Bool) values = to_dtype(values, DType::Bool);
  return {values, indices};
}

// softmax and log_softmax read x as (outer, r, inner) around `dim`: always one block, no copy.
ReducePlan softmax_plan(const Tensor& x, int64_t dim, const char* op) {
  wrap_dim(dim, x.ndim(), op);
  return plan_reduction(x, x.ndim() == 0 ? Dims{} : Dims{dim}, true, op);
}

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log, const char* op) {
  MT_CHECK(is_floating(x.dtype()) && x.dtype() != DType::Float16 && x.dtype() != DType::BFloat16,
           DTypeError, "[", op, "] input must be float32 or float64, got ", dtype_name(x.dtype()),
           "; convert it with .float() first");
  ReducePlan plan = softmax_plan(x, dim, op);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (x.device().is_cuda()) {
    cuda::softmax(plan.input, plan.dims, log, out);
  } else {
    cpu::softmax(plan.input, plan.dims, log, out);
  }
  return out;
}

Tensor softmax_backward_impl(const Tensor& grad, const Tensor& out, int64_t dim, bool log,
                             const char* op) {
  check_floating(out, op, "out");
  check_same_device(grad, out, op);
  MT_CHECK(grad.shape() == out.shape(), ShapeError, "[", op, "] grad has shape ",
           shape_str(grad.shape()), " but out has shape ", shape_str(out.shape()));
  MT_CHECK(grad.dtype() == out.dtype(), DTypeError, "[", op, "] grad is ",
           dtype_name(grad.dtype()), " but out is ", dtype_name(out.dtype()));
  ReducePlan plan = softmax_plan(out, dim, op);
  Tensor g = contiguous(grad);
  Tensor grad_in = Tensor::empty(out.shape(), out.dtype(), out.device());
  if (grad_in.numel() == 0) return grad_in;
  if (out.device().is_cuda()) {
    cuda::softmax_backward(g, plan.input, plan.dims, log, grad_in);
  } else {
    cpu::softmax_backward(g, plan.input, plan.dims, log, grad_in);
  }
  return grad_in;
}

}  // namespace

std::tuple<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_impl(x, {dim}, keepdim, true, true, true, "max");
}

std::tuple<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_impl(x, {dim}, keepdim, false, true, true, "min");
}

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) {
  return std::get<0>(extreme_impl(x, dims, keepdim, true, true, false, "amax"));
}

Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) {
  return std::get<0>(extreme_impl(x, dims, keepdim, false, true, false, "amin"));
}

// dim = nullopt: the index into the flattened (row-major) tensor; keepdim then keeps every dim.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  Dims dims = dim ? Dims{*dim} : Dims{};
  return std::get<1>(extreme_impl(x, dims, keepdim, true, false, true, "argmax"));
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  Dims dims = dim ? Dims{*dim} : Dims{};
  return std::get<1>(extreme_impl(x, dims, keepdim, false, false, true, "argmin"));
}

// Divides the sum of squared deviations by max(0, r - correction), as PyTorch (NaN or inf when
// that is 0).
Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  MT_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, DTypeError,
           "[var] input must be float32 or float64, got ", dtype_name(x.dtype()),
           " (var and std only support floating point)");
  ReducePlan plan = plan_reduction(x, dims, keepdim, "var");
  Tensor out = Tensor::empty(plan.out_shape, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (x.device().is_cuda()) {
    cuda::var(plan.input, plan.dims, correction, out);
  } else {
    cpu::var(plan.input, plan.dims, correction, out);
  }
  return out;
}

// Integer inputs compute in float32, as PyTorch. An empty reduction gives -inf.
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  check_not_reserved(x.dtype(), "logsumexp");
  ReducePlan plan = plan_reduction(x, dims, keepdim, "logsumexp");
  Tensor input = is_floating(x.dtype()) ? plan.input : to_dtype(plan.input, DType::Float32);
  Tensor out = Tensor::empty(plan.out_shape, input.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (x.device().is_cuda()) {
    cuda::logsumexp(input, plan.dims, out);
  } else {
    cpu::logsumexp(input, plan.dims, out);
  }
  return out;
}

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false, "softmax"); }

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, true, "log_softmax");
}

Tensor softmax_backward(const Tensor& grad, const Tensor& out, int64_t dim) {
  return softmax_backward_impl(grad, out, dim, false, "softmax_backward");
}

Tensor log_softmax_backward(const Tensor& grad, const Tensor& out, int64_t dim) {
  return softmax_backward_impl(grad, out, dim, true, "log_softmax_backward");
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  int64_t lead = grad.ndim() - static_cast<int64_t>(shape.size());
  MT_CHECK(lead >= 0, ShapeError, "[sum_to_shape] cannot sum a tensor of shape ",
           shape_str(grad.shape()), " to the larger shape ", shape_str(shape));
  Dims dims;
  for (int64_t i = 0; i < grad.ndim(); ++i) {
    if (i < lead) {
      dims.push_back(i);
      continue;
    }
    int64_t want = shape[i - lead];
    MT_CHECK(want == grad.shape()[i] || want == 1, ShapeError, "[sum_to_shape] shape ",
             shape_str(grad.shape()), " is not a broadcast of ", shape_str(shape));
    if (want == 1 && grad.shape()[i] != 1) dims.push_back(i);
  }
  if (dims.empty()) return reshape(grad, shape);
  return reshape(sum(grad, dims, true), shape);
}

}  // namespace mytensor
