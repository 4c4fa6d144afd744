// Pooling ops (max, average, adaptive average) and their backward ops: PyTorch's argument rules
// (ceil_mode=False), then one backend call on contiguous (N, C, H, W) tensors. A 3-D (C, H, W)
// input is a batch of one.
#include <algorithm>
#include <utility>

#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

namespace {

struct PoolPlan {
  Pool2dParams p;
  Shape in4, out4;  // with a batch dim
  Shape out;        // as returned (3-D for a 3-D input)
};

std::pair<int64_t, int64_t> pair_arg(const Dims& v, const char* op, const char* name) {
  MT_CHECK(v.size() == 1 || v.size() == 2, std::invalid_argument, "[", op, "] ", name,
           " must have 1 or 2 values, got ", shape_str(v));
  return {v[0], v.back()};
}

// Adaptive windows end at ceil((i + 1) * in / out): (out * in + out) must fit int64.
void check_adaptive_bounds(int64_t in, int64_t out, const char* op) {
  checked_add(checked_mul(out, in, op, "the adaptive window bound"), out, op,
              "the adaptive window bound");
}

Shape batched(const Shape& in, const char* op) {
  MT_CHECK(in.size() == 3 || in.size() == 4, ShapeError, "[", op,
           "] expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape ", shape_str(in));
  MT_CHECK(in[in.size() - 1] > 0 && in[in.size() - 2] > 0, ShapeError, "[", op,
           "] expected non-empty spatial dims (H, W), got input shape ", shape_str(in));
  return in.size() == 4 ? in : Shape{1, in[0], in[1], in[2]};
}

Shape unbatched(const Shape& shape4, size_t ndim) {
  return ndim == 4 ? shape4 : Shape(shape4.begin() + 1, shape4.end());
}

// stride empty = kernel_size, as PyTorch's stride=None.
PoolPlan plan_pool(const Shape& in, const Dims& kernel_size, const Dims& stride,
                   const Dims& padding, const char* op) {
  PoolPlan plan;
  plan.in4 = batched(in, op);
  auto [kh, kw] = pair_arg(kernel_size, op, "kernel_size");
  auto [sh, sw] = stride.empty() ? std::pair<int64_t, int64_t>{kh, kw}
                                 : pair_arg(stride, op, "stride");
  auto [ph, pw] = pair_arg(padding, op, "padding");
  MT_CHECK(kh > 0 && kw > 0, std::invalid_argument, "[", op,
           "] kernel_size must be positive, got ", shape_str(kernel_size));
  MT_CHECK(sh > 0 && sw > 0, std::invalid_argument, "[", op, "] stride must be positive, got ",
           shape_str(stride));
  MT_CHECK(ph >= 0 && pw >= 0, std::invalid_argument, "[", op,
           "] padding must be non-negative, got ", shape_str(padding));
  MT_CHECK(ph <= kh / 2 && pw <= kw / 2, std::invalid_argument, "[", op, "] padding (", ph, ", ",
           pw, ") must be at most half the kernel size (", kh, ", ", kw, ")");
  const int64_t H = plan.in4[2], W = plan.in4[3];
  // 2 * padding <= kernel fits; H + 2 * padding need not (kernel_size near 2^63).
  const int64_t padded_h = checked_add(H, 2 * ph, op, "the padded input height");
  const int64_t padded_w = checked_add(W, 2 * pw, op, "the padded input width");
  MT_CHECK(kh <= padded_h && kw <= padded_w, ShapeError, "[", op, "] kernel (", kh, ", ", kw,
           ") is larger than the padded input (", padded_h, ", ", padded_w, ")");
  // The window area is an average pool's divisor and part of every kernel's work estimate.
  checked_mul(kh, kw, op, "the kernel area");
  plan.p.kernel_h = kh, plan.p.kernel_w = kw;
  plan.p.stride_h = sh, plan.p.stride_w = sw;
  plan.p.pad_h = ph, plan.p.pad_w = pw;
  plan.out4 = {plan.in4[0], plan.in4[1], (padded_h - kh) / sh + 1, (padded_w - kw) / sw + 1};
  plan.out = unbatched(plan.out4, in.size());
  return plan;
}

void check_grad_out(const Tensor& grad_out, const Shape& expected, const Shape& input_shape,
                    const char* op) {
  check_floating(grad_out, op, "grad_out");
  MT_CHECK(grad_out.shape() == expected, ShapeError, "[", op, "] expected grad_out of shape ",
           shape_str(expected), " (the output for input ", shape_str(input_shape), "), got ",
           shape_str(grad_out.shape()));
}

}  // namespace

std::tuple<Tensor, Tensor> max_pool2d(const Tensor& x, const Dims& kernel_size, const Dims& stride,
                                      const Dims& padding) {
  check_floating(x, "max_pool2d", "input");
  PoolPlan plan = plan_pool(x.shape(), kernel_size, stride, padding, "max_pool2d");
  Tensor out = Tensor::empty(plan.out4, x.dtype(), x.device(), "max_pool2d");
  Tensor indices = Tensor::empty(plan.out4, DType::Int64, x.device(), "max_pool2d");
  if (out.numel() > 0) {
    Tensor xc = reshape(contiguous(x), plan.in4);
    if (x.device().is_cuda()) {
      cuda::max_pool2d(xc, plan.p, out, indices);
    } else {
      cpu::max_pool2d(xc, plan.p, out, indices);
    }
  }
  return {view(out, plan.out), view(indices, plan.out)};
}

Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                           const Shape& input_shape) {
  const char* op = "max_pool2d_backward";
  Shape in4 = batched(input_shape, op);
  check_same_device(grad_out, indices, op);
  MT_CHECK(indices.dtype() == DType::Int64, DTypeError, "[", op,
           "] indices must be int64, got ", dtype_name(indices.dtype()));
  MT_CHECK(grad_out.ndim() == static_cast<int64_t>(input_shape.size()), ShapeError, "[", op,
           "] grad_out of shape ", shape_str(grad_out.shape()), " does not match input shape ",
           shape_str(input_shape));
  Shape out4 = grad_out.ndim() == 4 ? grad_out.shape()
                                    : Shape{1, grad_out.shape()[0], grad_out.shape()[1],
                                            grad_out.shape()[2]};
  MT_CHECK(out4[0] == in4[0] && out4[1] == in4[1], ShapeError, "[", op, "] grad_out of shape ",
           shape_str(grad_out.shape()), " does not match input shape ", shape_str(input_shape),
           " in (N, C)");
  check_grad_out(grad_out, indices.shape(), input_shape, op);
  Tensor grad_in = Tensor::empty(in4, grad_out.dtype(), grad_out.device(), op);
  if (grad_in.numel() == 0) return view(grad_in, input_shape);
  Tensor g = reshape(contiguous(grad_out), out4);
  Tensor idx = reshape(contiguous(indices), out4);
  if (!grad_out.device().is_cuda()) {
    // A bad index would write outside its plane: check them (cheap next to the scatter).
    const int64_t plane = in4[2] * in4[3];
    const int64_t* p = idx.data<int64_t>();
    for (int64_t i = 0; i < idx.numel(); ++i)
      MT_CHECK(p[i] >= 0 && p[i] < plane, std::out_of_range, "[", op, "] index ", p[i],
               " is out of range for an input plane of ", in4[2], " x ", in4[3]);
  }
  if (grad_out.device().is_cuda()) {
    cuda::max_pool2d_backward(g, idx, grad_in);
  } else {
    cpu::max_pool2d_backward(g, idx, grad_in);
  }
  return view(grad_in, input_shape);
}

Tensor avg_pool2d(const Tensor& x, const Dims& kernel_size, const Dims& stride, const Dims& padding,
                  bool count_include_pad) {
  check_floating(x, "avg_pool2d", "input");
  PoolPlan plan = plan_pool(x.shape(), kernel_size, stride, padding, "avg_pool2d");
  plan.p.count_include_pad = count_include_pad;
  Tensor out = Tensor::empty(plan.out4, x.dtype(), x.device(), "avg_pool2d");
  if (out.numel() > 0) {
    Tensor xc = reshape(contiguous(x), plan.in4);
    if (x.device().is_cuda()) {
      cuda::avg_pool2d(xc, plan.p, out);
    } else {
      cpu::avg_pool2d(xc, plan.p, out);
    }
  }
  return view(out, plan.out);
}

Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape,
                           const Dims& kernel_size, const Dims& stride, const Dims& padding,
                           bool count_include_pad) {
  const char* op = "avg_pool2d_backward";
  PoolPlan plan = plan_pool(input_shape, kernel_size, stride, padding, op);
  plan.p.count_include_pad = count_include_pad;
  check_grad_out(grad_out, plan.out, input_shape, op);
  Tensor grad_in = Tensor::empty(plan.in4, grad_out.dtype(), grad_out.device(), op);
  if (grad_in.numel() == 0) return view(grad_in, input_shape);
  Tensor g = reshape(contiguous(grad_out), plan.out4);
  if (grad_out.device().is_cuda()) {
    cuda::avg_pool2d_backward(g, plan.p, grad_in);
  } else {
    cpu::avg_pool2d_backward(g, plan.p, grad_in);
  }
  return view(grad_in, input_shape);
}

Tensor adaptive_avg_pool2d(const Tensor& x, const Dims& output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_floating(x, op, "input");
  Shape in4 = batched(x.shape(), op);
  auto [oh, ow] = pair_arg(output_size, op, "output_size");
  MT_CHECK(oh >= 0 && ow >= 0, std::invalid_argument, "[", op,
           "] output_size must be non-negative, got ", shape_str(output_size));
  Shape out4 = {in4[0], in4[1], oh, ow};
  check_adaptive_bounds(in4[2], oh, op);
  check_adaptive_bounds(in4[3], ow, op);
  Tensor out = Tensor::empty(out4, x.dtype(), x.device(), op);
  if (out.numel() > 0) {
    Tensor xc = reshape(contiguous(x), in4);
    if (x.device().is_cuda()) {
      cuda::adaptive_avg_pool2d(xc, out);
    } else {
      cpu::adaptive_avg_pool2d(xc, out);
    }
  }
  return view(out, unbatched(out4, x.ndim()));
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape) {
  const char* op = "adaptive_avg_pool2d_backward";
  Shape in4 = batched(input_shape, op);
  MT_CHECK(grad_out.ndim() == static_cast<int64_t>(input_shape.size()), ShapeError, "[", op,
           "] grad_out of shape ", shape_str(grad_out.shape()), " does not match input shape ",
           shape_str(input_shape));
  Shape out4 = grad_out.ndim() == 4 ? grad_out.shape()
                                    : Shape{1, grad_out.shape()[0], grad_out.shape()[1],
                                            grad_out.shape()[2]};
  check_grad_out(grad_out, unbatched({in4[0], in4[1], out4[2], out4[3]}, input_shape.size()),
                 input_shape, op);
  check_adaptive_bounds(in4[2], out4[2], op);
  check_adaptive_bounds(in4[3], out4[3], op);
  Tensor grad_in = Tensor::empty(in4, grad_out.dtype(), grad_out.device(), op);
  if (grad_in.numel() == 0) return view(grad_in, input_shape);
  if (grad_out.numel() == 0) {
    fill_(grad_in, 0.0);
    return view(grad_in, input_shape);
  }
  Tensor g = reshape(contiguous(grad_out), out4);
  if (grad_out.device().is_cuda()) {
    cuda::adaptive_avg_pool2d_backward(g, grad_in);
  } else {
    cpu::adaptive_avg_pool2d_backward(g, grad_in);
  }
  return view(grad_in, input_shape);
}

}  // namespace mytensor
