// THE op list: every native op's signature. Each op validates its arguments (shapes, dtypes,
// devices) and raises a typed error naming itself before it allocates or launches anything, then
// dispatches to cpu:: or cuda::. Implementations live in core/ops/<family>.cpp, one file per
// backend file.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/kernel_params.h"
#include "core/scalar.h"
#include "core/tensor_impl.h"

namespace mytensor {

using Dims = std::vector<int64_t>;

// ---- creation and conversion (ops/creation.cpp) -----------------------------------------------
Tensor empty(const Shape& shape, DType dtype, Device device);
// Scalars are exact (bool, int64 or double); a value that does not fit `dtype` (NaN or inf into
// an integer type, 256 into uint8, 1e300 into float32) raises RuntimeError, as in PyTorch.
Tensor full(const Shape& shape, const Scalar& value, DType dtype, Device device);
// All-integer bounds count in int64 (exact beyond 2^53); any float bound counts in double.
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, DType dtype,
              Device device);
Tensor eye(int64_t n, int64_t m, DType dtype, Device device);
Tensor to_dtype(const Tensor& x, DType dtype);  // returns x itself when nothing changes
Tensor to_device(const Tensor& x, Device device);
Tensor contiguous(const Tensor& x);  // returns x itself when already contiguous
Tensor clone(const Tensor& x);
// In place; bump the storage version. src broadcasts to dst and is converted to dst's dtype.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& dst, const Scalar& value);  // value must fit dst (as full)

// ---- random (ops/random.cpp): one global counter-based generator per device ----------------------
void manual_seed(uint64_t seed);
// (seed, offset) of the generator of a device type, for checkpoints; set restores it.
std::tuple<uint64_t, uint64_t> get_rng_state();
void set_rng_state(uint64_t seed, uint64_t offset);
Tensor rand(const Shape& shape, DType dtype, Device device);
Tensor randn(const Shape& shape, DType dtype, Device device);
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Device device);
Tensor randperm(int64_t n, DType dtype, Device device);
std::tuple<Tensor, Tensor> dropout(const Tensor& x, double p);  // (out, mask)

// ---- views and shape (ops/shape.cpp) ----------------------------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape);  // a view when possible, else a copy; -1 inferred
Tensor view(const Tensor& x, const Shape& shape);     // a view, or ShapeError
Tensor permute(const Tensor& x, const Dims& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start,
             std::optional<int64_t> stop, int64_t step);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);  // -1 keeps a dim
Tensor squeeze(const Tensor& x, std::optional<Dims> dims);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// pad: (left, right) pairs from the last dim backwards, as torch.nn.functional.pad; negative crops.
Tensor pad(const Tensor& x, const Dims& pads, double value);
Tensor flip(const Tensor& x, const Dims& dims);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// ---- elementwise (ops/elementwise.cpp) --------------------------------------------------------
// Integer inputs of exp/log/sqrt/rsqrt/sigmoid/tanh/gelu are promoted to float32, as in PyTorch.
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor gelu(const Tensor& x);
// Tensor-scalar ops take the dtype result_type(x.dtype(), scalar) (core/scalar.h): int ** 2.0 is
// float32, bool ** 2 int64; integers to a negative integer power raise, as in PyTorch.
Tensor pow_scalar(const Tensor& x, const Scalar& exponent);
Tensor clamp(const Tensor& x, const std::optional<Scalar>& min, const std::optional<Scalar>& max);
Tensor relu_backward(const Tensor& grad, const Tensor& out);
Tensor sigmoid_backward(const Tensor& grad, const Tensor& out);
Tensor tanh_backward(const Tensor& grad, const Tensor& out);
Tensor gelu_backward(const Tensor& grad, const Tensor& x);
// Binary ops broadcast (NumPy rules) and promote dtypes (PyTorch rules).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integers give float32
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// In place on a (which must have the broadcast shape and a dtype the result casts to:
// can_cast in core/scalar.h, else RuntimeError "result type float32 can't be cast to the desired
// output type int64", as in PyTorch).
void add_(const Tensor& a, const Tensor& b);
void sub_(const Tensor& a, const Tensor& b);
void mul_(const Tensor& a, const Tensor& b);
void div_(const Tensor& a, const Tensor& b);
// Raises (as above) unless a result of dtype `result` may be written into `dst` in place.
void check_inplace_cast(DType result, const Tensor& dst, const char* op);
DType result_type(const Tensor& a, const Tensor& b);

// ---- reductions (ops/reduce.cpp): dims empty = all dims --------------------------------------
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim);
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim);
std::tuple<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim);  // (values, indices)
std::tuple<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim);
Tensor amax(const Tensor& x, const Dims& dims, bool keepdim);
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim);
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim);
Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor softmax_backward(const Tensor& grad, const Tensor& out, int64_t dim);
Tensor log_softmax_backward(const Tensor& grad, const Tensor& out, int64_t dim);
// Sums grad down to `shape` (the inverse of broadcasting), for autograd.
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);

// ---- losses (ops/loss.cpp): reduction is "mean", "sum" or "none" -----------------------------
// Returns (loss, stats); stats (M, 2) = per row (max, log sum exp(x - max)), saved for
// cross_entropy_backward.
std::tuple<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& target,
                                         const std::string& reduction, int64_t ignore_index,
                                         double label_smoothing);
Tensor cross_entropy_backward(const Tensor& grad, const Tensor& logits, const Tensor& target,
                              const Tensor& lse, const std::string& reduction,
                              int64_t ignore_index, double label_smoothing);
Tensor nll_loss(const Tensor& logp, const Tensor& target, const std::string& reduction,
                int64_t ignore_index);
Tensor nll_loss_backward(const Tensor& grad, const Tensor& logp, const Tensor& target,
                         const std::string& reduction, int64_t ignore_index);

// ---- matmul (ops/matmul.cpp) ------------------------------------------------------------------
Tensor matmul(const Tensor& a, const Tensor& b);  // 1-D, 2-D, batched with broadcast batch dims
Tensor linear(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias);

// ---- convolution (ops/conv.cpp) ---------------------------------------------------------------
Tensor conv2d(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
              const Dims& stride, const Dims& padding, const Dims& dilation, int64_t groups);
Tensor conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                             const Dims& stride, const Dims& padding, const Dims& dilation,
                             int64_t groups);
Tensor conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Shape& weight_shape,
                              const Dims& stride, const Dims& padding, const Dims& dilation,
                              int64_t groups);

// ---- pooling (ops/pool.cpp) -------------------------------------------------------------------
std::tuple<Tensor, Tensor> max_pool2d(const Tensor& x, const Dims& kernel_size, const Dims& stride,
                                      const Dims& padding);  // (out, indices)
Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Shape& input_shape);
Tensor avg_pool2d(const Tensor& x, const Dims& kernel_size, const Dims& stride, const Dims& padding,
                  bool count_include_pad);
Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape,
                           const Dims& kernel_size, const Dims& stride, const Dims& padding,
                           bool count_include_pad);
Tensor adaptive_avg_pool2d(const Tensor& x, const Dims& output_size);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape);

// ---- normalization (ops/norm.cpp) -------------------------------------------------------------
// Returns (y, save_mean, save_invstd). In training, batch statistics are used and the running
// buffers (if given) are updated in place with `momentum`; in eval the running stats are used.
std::tuple<Tensor, Tensor, Tensor> batch_norm(const Tensor& x, const std::optional<Tensor>& weight,
                                              const std::optional<Tensor>& bias,
                                              const std::optional<Tensor>& running_mean,
                                              const std::optional<Tensor>& running_var,
                                              bool training, double momentum, double eps);
// Returns (grad_x, grad_weight, grad_bias); the last two undefined when weight is absent.
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad_y, const Tensor& x,
                                                       const std::optional<Tensor>& weight,
                                                       const Tensor& save_mean,
                                                       const Tensor& save_invstd, bool training);

// ---- indexing (ops/index.cpp) -----------------------------------------------------------------
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_select_backward(const Tensor& grad, const Shape& input_shape, int64_t dim,
                             const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather_backward(const Tensor& grad, const Shape& input_shape, int64_t dim,
                       const Tensor& index);

// ---- optimizers (ops/optim.cpp) ---------------------------------------------------------------
void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
               const std::vector<Tensor>& max_exp_avg_sqs, const AdamParams& p);
void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& momentum_buffers, const SgdParams& p);

// ---- shared validation helpers (ops/common.cpp) ------------------------------------------------
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_floating(const Tensor& x, const char* op, const char* name);


// ---- data (ops/data.cpp) ------------------------------------------------------------------------
// The fused augmentation of one batch of a device-resident image set. Gathers images[indices]
// (uint8 (N, C, H, W), contiguous) and labels[indices] (int64 (N)); pads each image by `padding`
// zeros on every side and crops an (H, W) window at a random offset (torchvision's
// RandomCrop(padding=...)); mirrors it horizontally with probability 1/2 when `flip`; and
// normalises: out = (v / 255 - mean[c]) / stdev[c]. Sample b draws philox(seed, offset + b): word x
// picks the row offset, y the column offset (each uniform in [0, 2 * padding]), bit 0 of z the
// flip. An explicit plan replaces the draws: `params`, int32 (B, 3) on images' device, gives
// sample b's (dy, dx, flip) with dy, dx in [0, 2 * padding] and flip in {0, 1} (honoured only when
// `flip`); seed and offset are then unused. Output pixel (y, x) reads the padded image at
// (y + dy, x + dx), or at (y + dy, W - 1 - x + dx) when mirrored. Returns (images (B, C, H, W) of
// mean's dtype, labels (B) int64).
std::tuple<Tensor, Tensor> augment_images(const Tensor& images, const Tensor& labels,
                                          const Tensor& indices, const Tensor& mean,
                                          const Tensor& stdev, int64_t padding, bool flip,
                                          uint64_t seed, uint64_t offset,
                                          const std::optional<Tensor>& params);

}  // namespace mytensor
