// CUDA losses: cross_entropy (log-softmax and NLL fused, with label smoothing and ignore_index)
// and nll_loss, forward and backward. Targets are range-checked on the device: a bad target is
// skipped and reported through the device error slot (cuda_check.h).
#include <cstdint>

#include "core/functors.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace mytensor::cuda {

namespace {

namespace fn = mytensor::functors;

template <class T>
struct CeAcc {
  T m, s;  // logsumexp state: the running max and sum exp(x - m)
  T d, n;  // sum (x - m) over the n values seen (label smoothing's mean of log-probabilities)
};

// One pass per row, as PyTorch's log_softmax: m = the row max, log_s = log sum_c exp(x_c - m),
// logp_c = (x_c - m) - log_s. The row's leader reads x[t] and writes
// loss = -(1-eps)*logp_t - eps*mean_c logp_c, and stats = (m, log_s) for the backward.
// Subtracting m first keeps logp exact at huge logits (m + log_s loses log_s at |x| >= 1e16);
// an infinite max gives NaN, as PyTorch's x - m does.
template <class T>
struct CrossEntropyOp {
  using acc_t = CeAcc<T>;
  const T* x;
  const int64_t* target;
  int64_t target_stride;
  T* losses;
  T* stats;
  int64_t classes;
  int64_t ignore_index;
  T eps;
  DeviceErrorSlot* err;

  // The shifted sum of `a` re-based on a max m >= a.m: 0 when empty; -inf when a saw only -inf
  // (its own d is NaN then: -inf - -inf).
  __device__ static T rebase(acc_t a, T m) {
    if (a.n == T(0)) return T(0);
    if (a.m == -INFINITY) return -INFINITY;
    return a.d + a.n * (a.m - m);
  }

  __device__ acc_t identity() const { return {-INFINITY, T(0), T(0), T(0)}; }
  __device__ acc_t reduce(acc_t a, int64_t flat, int64_t) const {
    T v = x[flat];
    Lse<T> l = lse_add(Lse<T>{a.m, a.s}, v);
    return {l.m, l.s, rebase(a, l.m) + (v - l.m), a.n + T(1)};
  }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    if (b.m > a.m) {
      acc_t t = a;
      a = b;
      b = t;
    }
    Lse<T> l = lse_combine(Lse<T>{a.m, a.s}, Lse<T>{b.m, b.s});
    return {l.m, l.s, a.d + rebase(b, a.m), a.n + b.n};
  }
  __device__ acc_t shfl_xor(acc_t a, int m) const {
    return {shfl_xor_any(a.m, m), shfl_xor_any(a.s, m), shfl_xor_any(a.d, m),
            shfl_xor_any(a.n, m)};
  }
  __device__ void write(acc_t a, int64_t row) const {
    const bool finite_max = a.m > -INFINITY && a.m < INFINITY;
    const T log_s = finite_max ? fn::log_(a.s) : static_cast<T>(NAN);
    stats[2 * row] = a.m;
    stats[2 * row + 1] = log_s;
    int64_t t = target[row * target_stride];
    if (t == ignore_index || t < 0 || t >= classes) {
      if (t != ignore_index) report_bad_index(err, kErrCrossEntropy, t, classes);
      losses[row] = T(0);
      return;
    }
    T loss = -((x[row * classes + t] - a.m) - log_s);
    // Without smoothing the mean term is skipped: 0 * inf would turn a -inf logit into NaN.
    if (eps != T(0)) loss = (T(1) - eps) * loss + eps * (log_s - a.d / static_cast<T>(classes));
    losses[row] = loss;
  }
};

// grad[n, c] = g[n] * (softmax[n, c] - (1-eps)*[c == t] - eps/C), 0 for ignored rows;
// softmax = exp((x - m) - log_s) from the saved stats (exact at huge logits).
template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    cross_entropy_backward_kernel(Index total, Div by_classes, const T* g, int64_t g_stride,
                                  const T* x, const int64_t* target, int64_t target_stride,
                                  const T* stats, int64_t ignore_index, T eps, T* grad,
                                  DeviceErrorSlot* err) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  const int64_t classes = static_cast<int64_t>(by_classes.divisor);
  const T off_target = eps / static_cast<T>(classes);
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    Index n = by_classes.div(i);
    int64_t c = static_cast<int64_t>(i - n * by_classes.divisor);
    int64_t t = target[static_cast<int64_t>(n) * target_stride];
    if (t == ignore_index || t < 0 || t >= classes) {
      if (t != ignore_index && c == 0) report_bad_index(err, kErrCrossEntropyBackward, t, classes);
      grad[i] = T(0);
      continue;
    }
    const int64_t row = static_cast<int64_t>(n);
    T v = fn::exp_((x[i] - stats[2 * row]) - stats[2 * row + 1]);
    if (c == t) v -= T(1) - eps;
    if (eps != T(0)) v -= off_target;
    grad[i] = g[row * g_stride] * v;
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    nll_loss_kernel(int64_t n, const T* logp, int64_t classes, const int64_t* target,
                    int64_t target_stride, int64_t ignore_index, T* losses, DeviceErrorSlot* err) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    int64_t t = target[i * target_stride];
    if (t == ignore_index || t < 0 || t >= classes) {
      if (t != ignore_index) report_bad_index(err, kErrNllLoss, t, classes);
      losses[i] = T(0);
      continue;
    }
    losses[i] = -logp[i * classes + t];
  }
}

// Writes every element: -g[n] at the target, 0 elsewhere and on ignored rows.
template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    nll_loss_backward_kernel(Index total, Div by_classes, const T* g, int64_t g_stride,
                             const int64_t* target, int64_t target_stride, int64_t ignore_index,
                             T* grad, DeviceErrorSlot* err) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  const int64_t classes = static_cast<int64_t>(by_classes.divisor);
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    Index n = by_classes.div(i);
    int64_t c = static_cast<int64_t>(i - n * by_classes.divisor);
    int64_t t = target[static_cast<int64_t>(n) * target_stride];
    if (t != ignore_index && (t < 0 || t >= classes) && c == 0) {
      report_bad_index(err, kErrNllLossBackward, t, classes);
    }
    grad[i] = (c == t && t != ignore_index) ? -g[static_cast<int64_t>(n) * g_stride] : T(0);
  }
}

// The stride of a 1-d tensor (0 when broadcast from a scalar).
int64_t stride0(const Tensor& t) { return t.ndim() == 0 ? 0 : t.strides()[0]; }

}  // namespace

void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index,
                   double label_smoothing, const Tensor& losses, const Tensor& stats) {
  const int64_t n = logits.size(0), classes = logits.size(1);
  if (n == 0) return;
  LaunchContext ctx(logits);
  DeviceErrorSlot* err = device_error_slot(ctx.device);
  dispatch<Accepts::Floating>(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = typename decltype(tag)::type;
    CrossEntropyOp<T> op{logits.data<T>(),
                         target.data<int64_t>(),
                         stride0(target),
                         losses.data<T>(),
                         stats.data<T>(),
                         classes,
                         ignore_index,
                         static_cast<T>(label_smoothing),
                         err};
    ReduceDims d;
    d.outer = n;
    d.r = classes;
    d.inner = 1;
    launch_reduce("cross_entropy", op, d, ctx.device, ctx.stream);
  });
}

void cross_entropy_backward(const Tensor& grad_losses, const Tensor& logits, const Tensor& target,
                            const Tensor& stats, int64_t ignore_index, double label_smoothing,
                            const Tensor& grad_logits) {
  const int64_t total = grad_logits.numel(), classes = logits.size(1);
  if (total == 0) return;
  LaunchContext ctx(grad_logits);
  DeviceErrorSlot* err = device_error_slot(ctx.device);
  dispatch<Accepts::Floating>(logits.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T eps = static_cast<T>(label_smoothing);
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "cross_entropy_backward", total, cross_entropy_backward_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(classes), grad_losses.data<T>(), stride0(grad_losses),
          logits.data<T>(), target.data<int64_t>(), stride0(target), stats.data<T>(), ignore_index,
          eps, grad_logits.data<T>(), err);
    });
  });
}

void nll_loss(const Tensor& logp, const Tensor& target, int64_t ignore_index,
              const Tensor& losses) {
  const int64_t n = logp.size(0), classes = logp.size(1);
  if (n == 0) return;
  LaunchContext ctx(logp);
  DeviceErrorSlot* err = device_error_slot(ctx.device);
  dispatch<Accepts::Floating>(logp.dtype(), "nll_loss", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_1d(ctx, "nll_loss", n, nll_loss_kernel<T>, n, logp.data<T>(), classes,
        target.data<int64_t>(), stride0(target), ignore_index, losses.data<T>(), err);
  });
}

void nll_loss_backward(const Tensor& grad_losses, const Tensor& target, int64_t ignore_index,
                       const Tensor& grad_logp) {
  const int64_t total = grad_logp.numel(), classes = grad_logp.size(1);
  if (total == 0) return;
  LaunchContext ctx(grad_logp);
  DeviceErrorSlot* err = device_error_slot(ctx.device);
  dispatch<Accepts::Floating>(grad_logp.dtype(), "nll_loss_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "nll_loss_backward", total, nll_loss_backward_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(classes), grad_losses.data<T>(), stride0(grad_losses),
          target.data<int64_t>(), stride0(target), ignore_index, grad_logp.data<T>(), err);
    });
  });
}

}  // namespace mytensor::cuda
