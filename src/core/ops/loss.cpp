// Losses: validate logits/targets, bring (N, C, d1, ...) logits to (M, C) rows (M = N*d1*...),
// call the backend per row, then apply the reduction.
#include <string>

#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

namespace {

enum class Reduction { None, Mean, Sum };

Reduction parse_reduction(const std::string& r, const char* op) {
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  if (r == "none") return Reduction::None;
  detail::throw_error<std::invalid_argument>("[", op,
                                             "] reduction must be 'mean', 'sum' or 'none', got '",
                                             r, "'");
}

// Logits of shape (C), (N, C) or (N, C, d1, ...) as (M, C) rows, with the (M) targets.
struct LossRows {
  Tensor rows;          // (M, C) contiguous
  Tensor target;        // (M) contiguous int64
  Shape target_shape;   // (), (N) or (N, d1, ...)
  int64_t m = 0, classes = 0;
};

// Validates dtypes, devices and shapes (and, on CPU, the target values) before anything is
// allocated. `what` names the first input in messages ("logits" or "input").
LossRows plan_rows(const Tensor& x, const Tensor& target, int64_t ignore_index, const char* op,
                   const char* what, bool need_rows = true) {
  check_floating(x, op, what);
  MT_CHECK(target.dtype() == DType::Int64, DTypeError, "[", op,
           "] class-index targets must be int64, got ", dtype_name(target.dtype()),
           " (class probabilities as targets are not supported)");
  check_same_device(x, target, op);
  MT_CHECK(x.ndim() >= 1, ShapeError, "[", op, "] expected ", what,
           " of shape (C), (N, C) or (N, C, d1, ...), got ", shape_str(x.shape()));
  LossRows p;
  p.classes = x.ndim() == 1 ? x.shape()[0] : x.shape()[1];
  for (int64_t i = 0; i < x.ndim(); ++i)
    if (i != (x.ndim() == 1 ? 0 : 1)) p.target_shape.push_back(x.shape()[i]);
  MT_CHECK(target.shape() == p.target_shape, ShapeError, "[", op, "] expected target of shape ",
           shape_str(p.target_shape), " for ", what, " of shape ", shape_str(x.shape()),
           ", got target of shape ", shape_str(target.shape()));
  p.m = shape_numel(p.target_shape);
  p.target = contiguous(reshape(target, {p.m}));
  if (!x.device().is_cuda()) {
    // CUDA kernels check target values on the device; reading them here would synchronize.
    const int64_t* t = p.target.data<int64_t>();
    for (int64_t i = 0; i < p.m; ++i) {
      MT_CHECK(t[i] == ignore_index || (t[i] >= 0 && t[i] < p.classes), std::out_of_range, "[",
               op, "] target ", t[i], " is out of bounds for ", p.classes, " classes");
    }
  }
  if (!need_rows) return p;
  if (x.ndim() <= 2) {
    p.rows = contiguous(reshape(x, {p.m, p.classes}));
    return p;
  }
  Dims order = {0};  // (N, C, d1, ...) -> (N, d1, ..., C)
  for (int64_t i = 2; i < x.ndim(); ++i) order.push_back(i);
  order.push_back(1);
  p.rows = reshape(contiguous(permute(x, order)), {p.m, p.classes});
  return p;
}

// (M, C) rows back to x's layout: the inverse of plan_rows.
Tensor unplan_rows(const Tensor& rows, const Shape& x_shape) {
  int64_t n = static_cast<int64_t>(x_shape.size());
  if (n <= 2) return reshape(rows, x_shape);
  Shape moved = {x_shape[0]};
  for (int64_t i = 2; i < n; ++i) moved.push_back(x_shape[i]);
  moved.push_back(x_shape[1]);
  Dims order = {0, n - 1};
  for (int64_t i = 1; i < n - 1; ++i) order.push_back(i);
  return contiguous(permute(reshape(rows, moved), order));
}

// The number of targets that are not ignore_index, as a 0-d tensor of `dtype` (computed with
// tensor ops so that CUDA targets are never read on the host).
Tensor count_kept(const LossRows& p, int64_t ignore_index, DType dtype) {
  Tensor ignore = full({}, static_cast<double>(ignore_index), DType::Int64, p.target.device());
  return to_dtype(sum(ne(p.target, ignore), {}, false), dtype);
}

Tensor reduce_losses(const Tensor& losses, const LossRows& p, Reduction r, int64_t ignore_index) {
  switch (r) {
    case Reduction::None: return reshape(losses, p.target_shape);
    case Reduction::Sum: return sum(losses, {}, false);
    case Reduction::Mean:  // over the non-ignored targets: NaN when there are none, as PyTorch
      return div(sum(losses, {}, false), count_kept(p, ignore_index, losses.dtype()));
  }
  return losses;
}

// The per-row upstream gradient (M), with the reduction's scale applied.
Tensor grad_rows(const Tensor& grad, const LossRows& p, Reduction r, int64_t ignore_index,
                 DType dtype, const char* op) {
  check_same_device(grad, p.target, op);
  Shape want = r == Reduction::None ? p.target_shape : Shape{};
  MT_CHECK(grad.shape() == want, ShapeError, "[", op, "] expected grad of shape ",
           shape_str(want), ", got ", shape_str(grad.shape()));
  Tensor g = to_dtype(grad, dtype);
  if (r == Reduction::None) return contiguous(reshape(g, {p.m}));
  if (r == Reduction::Mean) g = div(g, count_kept(p, ignore_index, dtype));
  return contiguous(expand(reshape(g, {1}), {p.m}));
}

void check_label_smoothing(double eps) {
  MT_CHECK(eps >= 0.0 && eps <= 1.0, std::invalid_argument,
           "[cross_entropy] label_smoothing must be in [0, 1], got ", eps);
}

}  // namespace

std::tuple<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& target,
                                         const std::string& reduction, int64_t ignore_index,
                                         double label_smoothing) {
  const char* op = "cross_entropy";
  Reduction r = parse_reduction(reduction, op);
  check_label_smoothing(label_smoothing);
  LossRows p = plan_rows(logits, target, ignore_index, op, "logits");
  Tensor losses = Tensor::empty({p.m}, logits.dtype(), logits.device());
  // Per row (max, log sum exp(x - max)): the backward's softmax, exact at huge logits.
  Tensor stats = Tensor::empty({p.m, 2}, logits.dtype(), logits.device());
  if (p.m > 0) {
    if (logits.device().is_cuda()) {
      cuda::cross_entropy(p.rows, p.target, ignore_index, label_smoothing, losses, stats);
    } else {
      cpu::cross_entropy(p.rows, p.target, ignore_index, label_smoothing, losses, stats);
    }
  }
  return {reduce_losses(losses, p, r, ignore_index), stats};
}

Tensor cross_entropy_backward(const Tensor& grad, const Tensor& logits, const Tensor& target,
                              const Tensor& stats, const std::string& reduction,
                              int64_t ignore_index, double label_smoothing) {
  const char* op = "cross_entropy_backward";
  Reduction r = parse_reduction(reduction, op);
  check_label_smoothing(label_smoothing);
  LossRows p = plan_rows(logits, target, ignore_index, op, "logits");
  check_same_device(stats, logits, op);
  MT_CHECK(stats.shape() == (Shape{p.m, 2}) && stats.dtype() == logits.dtype(), ShapeError, "[",
           op, "] expected the saved row stats of shape ", shape_str(Shape{p.m, 2}), " ",
           dtype_name(logits.dtype()), ", got ", shape_str(stats.shape()), " ",
           dtype_name(stats.dtype()));
  Tensor g = grad_rows(grad, p, r, ignore_index, logits.dtype(), op);
  Tensor l = contiguous(stats);
  Tensor grad_rows2d = Tensor::empty({p.m, p.classes}, logits.dtype(), logits.device());
  if (grad_rows2d.numel() > 0) {
    if (logits.device().is_cuda()) {
      cuda::cross_entropy_backward(g, p.rows, p.target, l, ignore_index, label_smoothing,
                                   grad_rows2d);
    } else {
      cpu::cross_entropy_backward(g, p.rows, p.target, l, ignore_index, label_smoothing,
                                  grad_rows2d);
    }
  }
  return unplan_rows(grad_rows2d, logits.shape());
}

Tensor nll_loss(const Tensor& logp, const Tensor& target, const std::string& reduction,
                int64_t ignore_index) {
  const char* op = "nll_loss";
  Reduction r = parse_reduction(reduction, op);
  LossRows p = plan_rows(logp, target, ignore_index, op, "input");
  Tensor losses = Tensor::empty({p.m}, logp.dtype(), logp.device());
  if (p.m > 0) {
    if (logp.device().is_cuda()) {
      cuda::nll_loss(p.rows, p.target, ignore_index, losses);
    } else {
      cpu::nll_loss(p.rows, p.target, ignore_index, losses);
    }
  }
  return reduce_losses(losses, p, r, ignore_index);
}

Tensor nll_loss_backward(const Tensor& grad, const Tensor& logp, const Tensor& target,
                         const std::string& reduction, int64_t ignore_index) {
  const char* op = "nll_loss_backward";
  Reduction r = parse_reduction(reduction, op);
  LossRows p = plan_rows(logp, target, ignore_index, op, "input", false);
  Tensor g = grad_rows(grad, p, r, ignore_index, logp.dtype(), op);
  Tensor grad_rows2d = Tensor::empty({p.m, p.classes}, logp.dtype(), logp.device());
  if (grad_rows2d.numel() > 0) {
    if (logp.device().is_cuda()) {
      cuda::nll_loss_backward(g, p.target, ignore_index, grad_rows2d);
    } else {
      cpu::nll_loss_backward(g, p.target, ignore_index, grad_rows2d);
    }
  }
  return unplan_rows(grad_rows2d, logp.shape());
}

}  // namespace mytensor
