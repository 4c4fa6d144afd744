// The CPU backend's contract. cuda/kernels.h declares the same functions with the same
// signatures. Arguments arrive validated by core/ops: shapes agree, dtypes are supported, every
// tensor is on this backend's device, outputs are allocated (contiguous unless stated).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "core/kernel_params.h"
#include "core/scalar.h"
#include "core/tensor_impl.h"

namespace mytensor::cpu {

// ---- elementwise (elementwise.cpp) -------------------------------------------------------------
// copy: dst may be any strided view; src has dst's shape (stride 0 where broadcast), any dtype.
void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, const Scalar& value);  // dst may be strided; value fits its dtype
// Unary: out has x's shape and dtype; x may be strided.
void neg(const Tensor& x, const Tensor& out);
void exp(const Tensor& x, const Tensor& out);
void log(const Tensor& x, const Tensor& out);
void sqrt(const Tensor& x, const Tensor& out);
void rsqrt(const Tensor& x, const Tensor& out);
void abs(const Tensor& x, const Tensor& out);
void relu(const Tensor& x, const Tensor& out);
void sigmoid(const Tensor& x, const Tensor& out);
void tanh(const Tensor& x, const Tensor& out);
void gelu(const Tensor& x, const Tensor& out);
// pow_scalar: an integer x has an integer exponent. clamp: an integer x has integer bounds;
// an absent bound is not applied.
void pow_scalar(const Tensor& x, const Scalar& exponent, const Tensor& out);
void clamp(const Tensor& x, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi,
           const Tensor& out);
// Fused unary backward: grad_in = f'(saved) * grad; all three have one shape and dtype.
void relu_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in);
void sigmoid_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in);
void tanh_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in);
void gelu_backward(const Tensor& grad, const Tensor& x, const Tensor& grad_in);
// Binary: a and b have out's shape (stride 0 where broadcast) and one dtype; out may alias a.
void add(const Tensor& a, const Tensor& b, const Tensor& out);
void sub(const Tensor& a, const Tensor& b, const Tensor& out);
void mul(const Tensor& a, const Tensor& b, const Tensor& out);
void div(const Tensor& a, const Tensor& b, const Tensor& out);
void pow(const Tensor& a, const Tensor& b, const Tensor& out);
void maximum(const Tensor& a, const Tensor& b, const Tensor& out);
void minimum(const Tensor& a, const Tensor& b, const Tensor& out);
// Comparisons: out is bool.
void eq(const Tensor& a, const Tensor& b, const Tensor& out);
void ne(const Tensor& a, const Tensor& b, const Tensor& out);
void lt(const Tensor& a, const Tensor& b, const Tensor& out);
void le(const Tensor& a, const Tensor& b, const Tensor& out);
void gt(const Tensor& a, const Tensor& b, const Tensor& out);
void ge(const Tensor& a, const Tensor& b, const Tensor& out);
// cond is bool; cond, a, b have out's shape (broadcast strides), a/b out's dtype.
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

// ---- reductions (reduce.cpp) ------------------------------------------------------------------
// x is contiguous and read as (outer, r, inner); outputs are contiguous (outer, inner).
void sum(const Tensor& x, const ReduceDims& d, double scale, const Tensor& out);  // out = scale*sum
// values and/or indices (int64) of the max/min; either may be undefined (not wanted).
void max(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices);
void min(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices);
void var(const Tensor& x, const ReduceDims& d, double correction, const Tensor& out);
void logsumexp(const Tensor& x, const ReduceDims& d, const Tensor& out);
// out has x's shape; softmax along r. log selects log_softmax.
void softmax(const Tensor& x, const ReduceDims& d, bool log, const Tensor& out);
// out is the forward output; grad_in = J^T grad.
void softmax_backward(const Tensor& grad, const Tensor& out, const ReduceDims& d, bool log,
                      const Tensor& grad_in);

// ---- losses (loss.cpp) ------------------------------------------------------------------------
// logits (N, C) contiguous float; target (N) int64 with values in [0, C) or ignore_index.
// losses (N): per-sample loss (0 where ignored); stats (N, 2): per row (max, log sum exp(x -
// max)), saved for backward.
void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index,
                   double label_smoothing, const Tensor& losses, const Tensor& stats);
// grad_losses (N) already includes the reduction's scale.
void cross_entropy_backward(const Tensor& grad_losses, const Tensor& logits, const Tensor& target,
                            const Tensor& stats, int64_t ignore_index, double label_smoothing,
                            const Tensor& grad_logits);
void nll_loss(const Tensor& logp, const Tensor& target, int64_t ignore_index, const Tensor& losses);
void nll_loss_backward(const Tensor& grad_losses, const Tensor& target, int64_t ignore_index,
                       const Tensor& grad_logp);

// ---- matmul (matmul.cpp) ----------------------------------------------------------------------
// a (B, M, K) and b (B, K, N): each has unit stride in one of its last two dims, any batch stride
// (0 when broadcast); out (B, M, N) contiguous. out = a @ b, or out += a @ b when accumulate.
void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate);

// ---- convolution (conv.cpp) -------------------------------------------------------------------
// x (N, C, H, W), w (O, C/groups, KH, KW), out (N, O, OH, OW); all contiguous. bias (O) or undefined.
void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
            const Tensor& out);
void conv2d_backward_input(const Tensor& grad_out, const Tensor& w, const Conv2dParams& p,
                           const Tensor& grad_in);
void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Conv2dParams& p,
                            const Tensor& grad_w);

// ---- pooling (pool.cpp) -----------------------------------------------------------------------
// x (N, C, H, W) contiguous; indices (int64) hold the flat h*W+w of each window's max.
void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out, const Tensor& indices);
void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in);
void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out);
void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p, const Tensor& grad_in);
void adaptive_avg_pool2d(const Tensor& x, const Tensor& out);
void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in);

// ---- normalization (norm.cpp) -----------------------------------------------------------------
// x (N, C, L) contiguous (L = H*W). mean and invstd (C) float; weight/bias (C) or undefined.
// When running_mean/running_var (C, contiguous) are defined, also updates them in place:
// r = (1 - momentum) r + momentum * batch stat (the variance unbiased).
void batch_norm_stats(const Tensor& x, double eps, const Tensor& mean, const Tensor& invstd,
                      const Tensor& running_mean, const Tensor& running_var, double momentum);
// y = (x - mean) * invstd * weight + bias, optionally followed by relu.
void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd,
                      const Tensor& weight, const Tensor& bias, bool relu, const Tensor& y);
// Training-mode backward (batch statistics). grad_weight/grad_bias may be undefined.
void batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& mean,
                         const Tensor& invstd, const Tensor& weight, const Tensor& grad_x,
                         const Tensor& grad_weight, const Tensor& grad_bias);

// ---- random (random.cpp): Philox4x32-10, element i of a draw uses counter (offset + i) -------
void uniform(const Tensor& out, double low, double high, const PhiloxArgs& rng);
void normal(const Tensor& out, double mean, double std, const PhiloxArgs& rng);
void randint(const Tensor& out, int64_t low, int64_t high, const PhiloxArgs& rng);
// mask (bool) keeps each element with probability 1-p; out = x * mask / (1 - p).
void dropout(const Tensor& x, double p, const PhiloxArgs& rng, const Tensor& out,
             const Tensor& mask);

// ---- indexing (index.cpp) ---------------------------------------------------------------------
// x contiguous, read as (outer, n, inner) around dim; index (k) int64 validated in range.
void index_select(const Tensor& x, const IndexDims& d, const Tensor& index, const Tensor& out);
// grad_in (outer, n, inner) += scatter of grad_out (outer, k, inner) along index.
void index_add(const Tensor& grad_out, const IndexDims& d, const Tensor& index,
               const Tensor& grad_in);
// out[..., i, ...] = x[..., index[..., i, ...], ...] along d; index and out contiguous, same shape.
void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
void scatter_add(const Tensor& src, int64_t dim, const Tensor& index, const Tensor& out);

// ---- optimizers (optim.cpp): every parameter updated in one call ------------------------------
void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
               const std::vector<Tensor>& max_exp_avg_sqs, const AdamParams& p);
void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& momentum_buffers, const SgdParams& p);

// ---- data (data.cpp) ----------------------------------------------------------------------------
// Validated by core/ops/data.cpp: images (N, C, H, W) uint8, labels (N) int64, indices (B) int64
// with values in [0, N), mean and stdev (C) of out's dtype; out (B, C, H, W), labels_out (B).
// params: int32 (B, 3) contiguous, the explicit (dy, dx, flip) per sample, or undefined (Philox).
void augment_images(const Tensor& images, const Tensor& labels, const Tensor& indices,
                    const Tensor& mean, const Tensor& stdev, int64_t padding, bool flip,
                    uint64_t seed, uint64_t offset, const Tensor& params, const Tensor& out,
                    const Tensor& labels_out);

}  // namespace mytensor::cpu
