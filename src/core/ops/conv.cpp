// conv2d and its two backward ops: argument and shape validation (PyTorch's rules), then one
// backend call on contiguous (N, C, H, W) tensors. A 3-D (C, H, W) input is a batch of one.
#include <algorithm>
#include <string>
#include <utility>

#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

namespace {

// (h, w) from a list of one or two values.
std::pair<int64_t, int64_t> pair_arg(const Dims& v, const char* op, const char* name) {
  MT_CHECK(v.size() == 1 || v.size() == 2, std::invalid_argument, "[", op, "] ", name,
           " must have 1 or 2 values, got ", shape_str(v));
  return {v[0], v.back()};
}

struct ConvPlan {
  Conv2dParams p;
  Shape in4;   // the input shape with a batch dim
  Shape out4;  // the output shape with a batch dim
  Shape out;   // the output shape as returned (3-D for a 3-D input)
};

// Validates everything but dtypes and devices; `in` is the input's shape (3-D or 4-D).
ConvPlan plan_conv(const Shape& in, const Shape& w, const Dims& stride, const Dims& padding,
                   const Dims& dilation, int64_t groups, const char* op) {
  MT_CHECK(in.size() == 3 || in.size() == 4, ShapeError, "[", op,
           "] expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape ", shape_str(in));
  MT_CHECK(w.size() == 4, ShapeError, "[", op,
           "] weight must be 4-D (out_channels, in_channels / groups, kH, kW), got shape ",
           shape_str(w));
  auto [sh, sw] = pair_arg(stride, op, "stride");
  auto [ph, pw] = pair_arg(padding, op, "padding");
  auto [dh, dw] = pair_arg(dilation, op, "dilation");
  MT_CHECK(sh > 0 && sw > 0, std::invalid_argument, "[", op, "] stride must be positive, got ",
           shape_str(stride));
  MT_CHECK(ph >= 0 && pw >= 0, std::invalid_argument, "[", op,
           "] padding must be non-negative, got ", shape_str(padding));
  MT_CHECK(dh > 0 && dw > 0, std::invalid_argument, "[", op, "] dilation must be positive, got ",
           shape_str(dilation));
  MT_CHECK(groups > 0, std::invalid_argument, "[", op, "] groups must be positive, got ", groups);
  ConvPlan plan;
  plan.in4 = in.size() == 4 ? in : Shape{1, in[0], in[1], in[2]};
  const int64_t N = plan.in4[0], C = plan.in4[1], H = plan.in4[2], W = plan.in4[3];
  const int64_t O = w[0], KH = w[2], KW = w[3];
  MT_CHECK(O % groups == 0, ShapeError, "[", op, "] out_channels ", O,
           " is not divisible by groups ", groups, " (weight shape ", shape_str(w), ")");
  MT_CHECK(C % groups == 0, ShapeError, "[", op, "] in_channels ", C,
           " is not divisible by groups ", groups, " (input shape ", shape_str(in), ")");
  int64_t expected_c;
  MT_CHECK(!__builtin_mul_overflow(w[1], groups, &expected_c) && expected_c == C, ShapeError, "[", op, "] input has ", C, " channels (shape ",
           shape_str(in), ") but weight ", shape_str(w), " with groups=", groups,
           " expects in_channels = ", w[1], " x ", groups);
  MT_CHECK(KH > 0 && KW > 0, ShapeError, "[", op,
           "] weight must have a non-empty kernel, got shape ", shape_str(w));
  // Checked: huge padding or dilation must raise, not wrap into a plausible size.
  const int64_t ekh = checked_add(checked_mul(dh, KH - 1, op, "the dilated kernel height"), 1, op,
                                  "the dilated kernel height");
  const int64_t ekw = checked_add(checked_mul(dw, KW - 1, op, "the dilated kernel width"), 1, op,
                                  "the dilated kernel width");
  const int64_t padded_h = checked_add(H, checked_mul(2, ph, op, "the padded input height"), op,
                                       "the padded input height");
  const int64_t padded_w = checked_add(W, checked_mul(2, pw, op, "the padded input width"), op,
                                       "the padded input width");
  MT_CHECK(ekh <= padded_h && ekw <= padded_w, ShapeError, "[", op, "] kernel (", KH, ", ",
           KW, ")", (dh > 1 || dw > 1) ? " dilated to (" : "",
           (dh > 1 || dw > 1) ? std::to_string(ekh) + ", " + std::to_string(ekw) + ")" : "",
           " is larger than the padded input (", padded_h, ", ", padded_w, ")");
  plan.p.stride_h = sh, plan.p.stride_w = sw;
  plan.p.pad_h = ph, plan.p.pad_w = pw;
  plan.p.dilation_h = dh, plan.p.dilation_w = dw;
  plan.p.groups = groups;
  const int64_t OH = (padded_h - ekh) / sh + 1, OW = (padded_w - ekw) / sw + 1;
  plan.out4 = {N, O, OH, OW};
  checked_numel(plan.out4, op);
  plan.out = in.size() == 4 ? plan.out4 : Shape{O, OH, OW};
  return plan;
}

void check_float_pair(const Tensor& a, const Tensor& b, const char* op, const char* na,
                      const char* nb) {
  check_same_device(a, b, op);
  check_floating(a, op, na);
  check_floating(b, op, nb);
  MT_CHECK(a.dtype() == b.dtype(), DTypeError, "[", op, "] expected ", na, " and ", nb,
           " to have one dtype, got ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
              const Dims& stride, const Dims& padding, const Dims& dilation, int64_t groups) {
  check_float_pair(x, weight, "conv2d", "input", "weight");
  ConvPlan plan = plan_conv(x.shape(), weight.shape(), stride, padding, dilation, groups, "conv2d");
  Tensor b;
  if (bias) {
    check_float_pair(x, *bias, "conv2d", "input", "bias");
    MT_CHECK(bias->ndim() == 1 && bias->shape()[0] == weight.shape()[0], ShapeError,
             "[conv2d] bias must have shape (", weight.shape()[0], ",) to match weight ",
             shape_str(weight.shape()), ", got ", shape_str(bias->shape()));
    b = contiguous(*bias);
  }
  Tensor out = Tensor::empty(plan.out4, x.dtype(), x.device(), "conv2d");
  if (out.numel() == 0) return view(out, plan.out);
  Tensor xc = reshape(contiguous(x), plan.in4);
  Tensor wc = contiguous(weight);
  if (x.device().is_cuda()) {
    cuda::conv2d(xc, wc, b, plan.p, out);
  } else {
    cpu::conv2d(xc, wc, b, plan.p, out);
  }
  return view(out, plan.out);
}

Tensor conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                             const Dims& stride, const Dims& padding, const Dims& dilation,
                             int64_t groups) {
  const char* op = "conv2d_backward_input";
  check_float_pair(grad_out, weight, op, "grad_out", "weight");
  ConvPlan plan = plan_conv(input_shape, weight.shape(), stride, padding, dilation, groups, op);
  MT_CHECK(grad_out.shape() == plan.out, ShapeError, "[", op, "] expected grad_out of shape ",
           shape_str(plan.out), " (the output for input ", shape_str(input_shape), "), got ",
           shape_str(grad_out.shape()));
  Tensor grad_in = Tensor::empty(plan.in4, weight.dtype(), weight.device(), op);
  if (grad_in.numel() == 0) return view(grad_in, input_shape);
  Tensor g = reshape(contiguous(grad_out), plan.out4);
  Tensor wc = contiguous(weight);
  if (weight.device().is_cuda()) {
    cuda::conv2d_backward_input(g, wc, plan.p, grad_in);
  } else {
    cpu::conv2d_backward_input(g, wc, plan.p, grad_in);
  }
  return view(grad_in, input_shape);
}

Tensor conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Shape& weight_shape,
                              const Dims& stride, const Dims& padding, const Dims& dilation,
                              int64_t groups) {
  const char* op = "conv2d_backward_weight";
  check_float_pair(grad_out, x, op, "grad_out", "input");
  ConvPlan plan = plan_conv(x.shape(), weight_shape, stride, padding, dilation, groups, op);
  MT_CHECK(grad_out.shape() == plan.out, ShapeError, "[", op, "] expected grad_out of shape ",
           shape_str(plan.out), " (the output for input ", shape_str(x.shape()), "), got ",
           shape_str(grad_out.shape()));
  Tensor grad_w = Tensor::empty(weight_shape, x.dtype(), x.device(), op);
  if (grad_w.numel() == 0) return grad_w;
  if (plan.in4[0] == 0) {  // an empty batch contributes nothing
    fill_(grad_w, 0.0);
    return grad_w;
  }
  Tensor g = reshape(contiguous(grad_out), plan.out4);
  Tensor xc = reshape(contiguous(x), plan.in4);
  if (x.device().is_cuda()) {
    cuda::conv2d_backward_weight(g, xc, plan.p, grad_w);
  } else {
    cpu::conv2d_backward_weight(g, xc, plan.p, grad_w);
  }
  return grad_w;
}

}  // namespace mytensor
