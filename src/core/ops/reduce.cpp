// Reductions: plan the (outer, r, inner) view, validate, then one backend call.
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
  std::vector<bool> reduced(n, dims.empty());
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
