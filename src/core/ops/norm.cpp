// Batch normalization: validation, the (N, C, L) view, the running-stat update and the eval-mode
// backward (composed from elementwise ops); batch statistics come from the backend kernels.
#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

namespace {

// The contiguous (N, C, L) view of an (N, C, *) tensor.
Tensor as_ncl(const Tensor& x) {
  int64_t L = 1;
  for (int64_t d = 2; d < x.ndim(); ++d) L *= x.shape()[d];
  return view(contiguous(x), {x.shape()[0], x.shape()[1], L});
}

// A per-channel (C,) tensor reshaped to broadcast against x: (1, C, 1, ..., 1).
Tensor channel_view(const Tensor& t, int64_t ndim) {
  Shape shape(static_cast<size_t>(ndim), 1);
  shape[1] = t.numel();
  return reshape(t, shape);
}

Tensor scalar(double v, const Tensor& like) { return full({}, v, like.dtype(), like.device()); }

void check_channel_tensor(const std::optional<Tensor>& t, const Tensor& x, const char* op,
                          const char* name) {
  if (!t) return;
  int64_t C = x.shape()[1];
  check_same_device(x, *t, op);
  MT_CHECK(t->shape() == Shape{C}, ShapeError, "[", op, "] expected ", name,
           " of shape (C,) = (", C, ",), got ", shape_str(t->shape()));
  MT_CHECK(t->dtype() == x.dtype(), DTypeError, "[", op, "] expected ", name, " of dtype ",
           dtype_name(x.dtype()), " (the input's), got ", dtype_name(t->dtype()));
}

void check_input(const Tensor& x, const char* op) {
  MT_CHECK(x.ndim() >= 2, ShapeError, "[", op,
           "] expected an input of 2 or more dims (N, C, *), got shape ", shape_str(x.shape()));
  check_floating(x, op, "input");
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> batch_norm(const Tensor& x, const std::optional<Tensor>& weight,
                                              const std::optional<Tensor>& bias,
                                              const std::optional<Tensor>& running_mean,
                                              const std::optional<Tensor>& running_var,
                                              bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  check_input(x, op);
  check_channel_tensor(weight, x, op, "weight");
  check_channel_tensor(bias, x, op, "bias");
  check_channel_tensor(running_mean, x, op, "running_mean");
  check_channel_tensor(running_var, x, op, "running_var");
  // As PyTorch: training divides by sqrt(var + eps), and a constant channel has var 0.
  MT_CHECK(!training || eps > 0, std::invalid_argument,
           "[batch_norm] eps must be positive during training, got ", eps);
  MT_CHECK(eps >= 0, std::invalid_argument, "[batch_norm] eps must be non-negative, got ", eps);
  MT_CHECK(training || (running_mean && running_var), std::invalid_argument,
           "[batch_norm] running_mean and running_var must be given when training=False");
  MT_CHECK(running_mean.has_value() == running_var.has_value(), std::invalid_argument,
           "[batch_norm] give both running_mean and running_var, or neither");
  const int64_t C = x.shape()[1];
  const int64_t M = C == 0 ? 0 : x.numel() / C;  // values per channel
  MT_CHECK(!training || M != 1, std::invalid_argument,
           "[batch_norm] Expected more than 1 value per channel when training, got input of "
           "shape ", shape_str(x.shape()));

  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean, invstd;
  if (training) {
    mean = Tensor::empty({C}, x.dtype(), x.device());
    invstd = Tensor::empty({C}, x.dtype(), x.device());
    if (x.numel() == 0) {  // as PyTorch: an empty batch leaves the running stats alone
      fill_(mean, 0.0);
      fill_(invstd, 0.0);
      return {y, mean, invstd};
    }
  } else {
    // Copies, not aliases: the buffers may be updated in place before backward reads them.
    mean = clone(*running_mean);
    invstd = rsqrt(add(*running_var, scalar(eps, *running_var)));
    if (x.numel() == 0) return {y, mean, invstd};
  }
  Tensor x3 = as_ncl(x), y3 = view(y, x3.shape());
  Tensor w = weight ? contiguous(*weight) : Tensor(), b = bias ? contiguous(*bias) : Tensor();
  // The statistics kernel also updates the running stats (rm = (1 - m) rm + m mean, rv likewise
  // with the unbiased variance), in place, or through contiguous copies of strided buffers.
  Tensor rm, rv;
  if (training && running_mean) {
    rm = contiguous(*running_mean);
    rv = contiguous(*running_var);
  }
  if (x.device().is_cuda()) {
    if (training) cuda::batch_norm_stats(x3, eps, mean, invstd, rm, rv, momentum);
    cuda::batch_norm_apply(x3, mean, invstd, w, b, y3);
  } else {
    if (training) cpu::batch_norm_stats(x3, eps, mean, invstd, rm, rv, momentum);
    cpu::batch_norm_apply(x3, mean, invstd, w, b, y3);
  }
  if (rm.defined()) {
    for (auto [buffer, updated] : {std::pair{*running_mean, rm}, std::pair{*running_var, rv}}) {
      if (updated.storage() != buffer.storage()) copy_(buffer, updated);
      buffer.bump_version();
    }
  }
  return {y, mean, invstd};
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad_y, const Tensor& x,
                                                       const std::optional<Tensor>& weight,
                                                       const Tensor& save_mean,
                                                       const Tensor& save_invstd, bool training) {
  const char* op = "batch_norm_backward";
  check_input(x, op);
  check_same_device(x, grad_y, op);
  MT_CHECK(grad_y.shape() == x.shape(), ShapeError, "[", op, "] grad of shape ",
           shape_str(grad_y.shape()), " does not match the input of shape ", shape_str(x.shape()));
  MT_CHECK(grad_y.dtype() == x.dtype(), DTypeError, "[", op, "] grad of dtype ",
           dtype_name(grad_y.dtype()), " does not match the input's ", dtype_name(x.dtype()));
  check_channel_tensor(weight, x, op, "weight");
  check_channel_tensor(save_mean, x, op, "save_mean");
  check_channel_tensor(save_invstd, x, op, "save_invstd");
  const int64_t C = x.shape()[1];

  Tensor grad_w, grad_b;
  if (!training) {
    // Statistics are constants in eval: y = (x - mean) * invstd * w + b is affine in x.
    Tensor invstd = channel_view(save_invstd, x.ndim());
    Tensor scale = weight ? mul(invstd, channel_view(*weight, x.ndim())) : invstd;
    Tensor grad_x = mul(grad_y, scale);
    if (weight) {
      Dims dims;
      for (int64_t d = 0; d < x.ndim(); ++d)
        if (d != 1) dims.push_back(d);
      Tensor xhat = mul(sub(x, channel_view(save_mean, x.ndim())), invstd);
      grad_w = sum(mul(grad_y, xhat), dims, false);
      grad_b = sum(grad_y, dims, false);
    }
    return {grad_x, grad_w, grad_b};
  }
  Tensor grad_x = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (weight) {
    grad_w = Tensor::empty({C}, x.dtype(), x.device());
    grad_b = Tensor::empty({C}, x.dtype(), x.device());
  }
  if (x.numel() == 0) {
    if (weight) {
      fill_(grad_w, 0.0);
      fill_(grad_b, 0.0);
    }
    return {grad_x, grad_w, grad_b};
  }
  Tensor x3 = as_ncl(x), g3 = as_ncl(grad_y), gx3 = view(grad_x, x3.shape());
  Tensor w = weight ? contiguous(*weight) : Tensor();
  Tensor mean = contiguous(save_mean), invstd = contiguous(save_invstd);
  if (x.device().is_cuda()) {
    cuda::batch_norm_backward(g3, x3, mean, invstd, w, gx3, grad_w, grad_b);
  } else {
    cpu::batch_norm_backward(g3, x3, mean, invstd, w, gx3, grad_w, grad_b);
  }
  return {grad_x, grad_w, grad_b};
}

}  // namespace mytensor
