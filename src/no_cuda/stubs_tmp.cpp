// TEMPORARY stubs (replaced by the CUDA branch)
#include "core/check.h"
#include "cuda/kernels.h"
namespace mytensor::cuda {
void copy(const Tensor& src, const Tensor& dst) { detail::throw_error<DeviceError>("[copy] mytensor was built without CUDA"); }
void fill(const Tensor& dst, double value) { detail::throw_error<DeviceError>("[fill] mytensor was built without CUDA"); }
void neg(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[neg] mytensor was built without CUDA"); }
void exp(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[exp] mytensor was built without CUDA"); }
void log(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[log] mytensor was built without CUDA"); }
void sqrt(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[sqrt] mytensor was built without CUDA"); }
void rsqrt(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[rsqrt] mytensor was built without CUDA"); }
void abs(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[abs] mytensor was built without CUDA"); }
void relu(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[relu] mytensor was built without CUDA"); }
void sigmoid(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[sigmoid] mytensor was built without CUDA"); }
void tanh(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[tanh] mytensor was built without CUDA"); }
void gelu(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[gelu] mytensor was built without CUDA"); }
void pow_scalar(const Tensor& x, double exponent, const Tensor& out) { detail::throw_error<DeviceError>("[pow_scalar] mytensor was built without CUDA"); }
void clamp(const Tensor& x, double lo, double hi, const Tensor& out) { detail::throw_error<DeviceError>("[clamp] mytensor was built without CUDA"); }
void relu_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in) { detail::throw_error<DeviceError>("[relu_backward] mytensor was built without CUDA"); }
void sigmoid_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in) { detail::throw_error<DeviceError>("[sigmoid_backward] mytensor was built without CUDA"); }
void tanh_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in) { detail::throw_error<DeviceError>("[tanh_backward] mytensor was built without CUDA"); }
void gelu_backward(const Tensor& grad, const Tensor& x, const Tensor& grad_in) { detail::throw_error<DeviceError>("[gelu_backward] mytensor was built without CUDA"); }
void add(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[add] mytensor was built without CUDA"); }
void sub(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[sub] mytensor was built without CUDA"); }
void mul(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[mul] mytensor was built without CUDA"); }
void div(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[div] mytensor was built without CUDA"); }
void pow(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[pow] mytensor was built without CUDA"); }
void maximum(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[maximum] mytensor was built without CUDA"); }
void minimum(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[minimum] mytensor was built without CUDA"); }
void eq(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[eq] mytensor was built without CUDA"); }
void ne(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[ne] mytensor was built without CUDA"); }
void lt(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[lt] mytensor was built without CUDA"); }
void le(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[le] mytensor was built without CUDA"); }
void gt(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[gt] mytensor was built without CUDA"); }
void ge(const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[ge] mytensor was built without CUDA"); }
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) { detail::throw_error<DeviceError>("[where] mytensor was built without CUDA"); }
void sum(const Tensor& x, const ReduceDims& d, double scale, const Tensor& out) { detail::throw_error<DeviceError>("[sum] mytensor was built without CUDA"); }
void max(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices) { detail::throw_error<DeviceError>("[max] mytensor was built without CUDA"); }
void min(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices) { detail::throw_error<DeviceError>("[min] mytensor was built without CUDA"); }
void var(const Tensor& x, const ReduceDims& d, double correction, const Tensor& out) { detail::throw_error<DeviceError>("[var] mytensor was built without CUDA"); }
void logsumexp(const Tensor& x, const ReduceDims& d, const Tensor& out) { detail::throw_error<DeviceError>("[logsumexp] mytensor was built without CUDA"); }
void softmax(const Tensor& x, const ReduceDims& d, bool log, const Tensor& out) { detail::throw_error<DeviceError>("[softmax] mytensor was built without CUDA"); }
void softmax_backward(const Tensor& grad, const Tensor& out, const ReduceDims& d, bool log, const Tensor& grad_in) { detail::throw_error<DeviceError>("[softmax_backward] mytensor was built without CUDA"); }
void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index, double label_smoothing, const Tensor& losses, const Tensor& lse) { detail::throw_error<DeviceError>("[cross_entropy] mytensor was built without CUDA"); }
void cross_entropy_backward(const Tensor& grad_losses, const Tensor& logits, const Tensor& target, const Tensor& lse, int64_t ignore_index, double label_smoothing, const Tensor& grad_logits) { detail::throw_error<DeviceError>("[cross_entropy_backward] mytensor was built without CUDA"); }
void nll_loss(const Tensor& logp, const Tensor& target, int64_t ignore_index, const Tensor& losses) { detail::throw_error<DeviceError>("[nll_loss] mytensor was built without CUDA"); }
void nll_loss_backward(const Tensor& grad_losses, const Tensor& target, int64_t ignore_index, const Tensor& grad_logp) { detail::throw_error<DeviceError>("[nll_loss_backward] mytensor was built without CUDA"); }
void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate) { detail::throw_error<DeviceError>("[bmm] mytensor was built without CUDA"); }
void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, const Tensor& out) { detail::throw_error<DeviceError>("[conv2d] mytensor was built without CUDA"); }
void conv2d_backward_input(const Tensor& grad_out, const Tensor& w, const Conv2dParams& p, const Tensor& grad_in) { detail::throw_error<DeviceError>("[conv2d_backward_input] mytensor was built without CUDA"); }
void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Conv2dParams& p, const Tensor& grad_w) { detail::throw_error<DeviceError>("[conv2d_backward_weight] mytensor was built without CUDA"); }
void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out, const Tensor& indices) { detail::throw_error<DeviceError>("[max_pool2d] mytensor was built without CUDA"); }
void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in) { detail::throw_error<DeviceError>("[max_pool2d_backward] mytensor was built without CUDA"); }
void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out) { detail::throw_error<DeviceError>("[avg_pool2d] mytensor was built without CUDA"); }
void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p, const Tensor& grad_in) { detail::throw_error<DeviceError>("[avg_pool2d_backward] mytensor was built without CUDA"); }
void adaptive_avg_pool2d(const Tensor& x, const Tensor& out) { detail::throw_error<DeviceError>("[adaptive_avg_pool2d] mytensor was built without CUDA"); }
void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in) { detail::throw_error<DeviceError>("[adaptive_avg_pool2d_backward] mytensor was built without CUDA"); }
void batch_norm_stats(const Tensor& x, double eps, const Tensor& mean, const Tensor& invstd) { detail::throw_error<DeviceError>("[batch_norm_stats] mytensor was built without CUDA"); }
void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight, const Tensor& bias, bool relu, const Tensor& y) { detail::throw_error<DeviceError>("[batch_norm_apply] mytensor was built without CUDA"); }
void batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight, const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias) { detail::throw_error<DeviceError>("[batch_norm_backward] mytensor was built without CUDA"); }
void uniform(const Tensor& out, double low, double high, uint64_t seed, uint64_t offset) { detail::throw_error<DeviceError>("[uniform] mytensor was built without CUDA"); }
void normal(const Tensor& out, double mean, double std, uint64_t seed, uint64_t offset) { detail::throw_error<DeviceError>("[normal] mytensor was built without CUDA"); }
void randint(const Tensor& out, int64_t low, int64_t high, uint64_t seed, uint64_t offset) { detail::throw_error<DeviceError>("[randint] mytensor was built without CUDA"); }
void dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out, const Tensor& mask) { detail::throw_error<DeviceError>("[dropout] mytensor was built without CUDA"); }
void index_select(const Tensor& x, const IndexDims& d, const Tensor& index, const Tensor& out) { detail::throw_error<DeviceError>("[index_select] mytensor was built without CUDA"); }
void index_add(const Tensor& grad_out, const IndexDims& d, const Tensor& index, const Tensor& grad_in) { detail::throw_error<DeviceError>("[index_add] mytensor was built without CUDA"); }
void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) { detail::throw_error<DeviceError>("[gather] mytensor was built without CUDA"); }
void scatter_add(const Tensor& src, int64_t dim, const Tensor& index, const Tensor& out) { detail::throw_error<DeviceError>("[scatter_add] mytensor was built without CUDA"); }
void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs, const std::vector<Tensor>& max_exp_avg_sqs, const AdamParams& p) { detail::throw_error<DeviceError>("[adam_step] mytensor was built without CUDA"); }
void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& momentum_buffers, const SgdParams& p) { detail::throw_error<DeviceError>("[sgd_step] mytensor was built without CUDA"); }
}
