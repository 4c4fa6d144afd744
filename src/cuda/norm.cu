// CUDA batch normalization over x (N, C, L): per-channel statistics, the affine apply, and the
// training-mode backward. Channel sums are split across blocks so that a few channels with many
// elements still fill the GPU.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/functors.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"

namespace mytensor::cuda {

namespace {

namespace fn = mytensor::functors;

constexpr int kNormThreads = 256;

// Sums of (x - shift) and (x - shift)^2, shift = the channel's first element: one pass, and
// since the shift lies within the data, E[(x-s)^2] - E[x-s]^2 does not cancel catastrophically
// the way E[x^2] - E[x]^2 does for data with a large mean.
template <class T>
struct StatsTerms {
  const T* x;
  int64_t len;
  __device__ __forceinline__ T channel_constant(int64_t c) const { return x[c * len]; }
  __device__ __forceinline__ void operator()(int64_t off, T shift, T& a0, T& a1) const {
    T v = x[off] - shift;
    a0 += v;
    a1 += v * v;
  }
};

// sum(g) and sum(g * (x - mean)) for the backward.
template <class T>
struct BackwardTerms {
  const T* g;
  const T* x;
  const T* mean;
  __device__ __forceinline__ T channel_constant(int64_t c) const { return mean[c]; }
  __device__ __forceinline__ void operator()(int64_t off, T m, T& a0, T& a1) const {
    T gv = g[off];
    a0 += gv;
    a1 += gv * (x[off] - m);
  }
};

// grid (C, splits): block (c, s) sums its channel's elements [s * per_split, ...) of the N*L,
// walking (n, l) in memory order, and writes the two sums (as double) to partial[s][c].
template <class T, class Index, class Div, class Terms>
__global__ void __launch_bounds__(kNormThreads)
    channel_sums_kernel(Terms terms, Index m, Div by_l, int64_t channels, Index per_split,
                        double* partial) {
  __shared__ double smem[2][kNormThreads / 32];
  const int64_t c = blockIdx.x;
  const int64_t len = static_cast<int64_t>(by_l.divisor);
  const Index e0 = static_cast<Index>(blockIdx.y) * per_split;
  const Index e1 = m - e0 < per_split ? m : e0 + per_split;
  const T k = terms.channel_constant(c);
  T a0 = T(0), a1 = T(0);
  for (Index e = e0 + threadIdx.x; e < e1; e += blockDim.x) {
    const Index n = by_l.div(e);
    const int64_t l = static_cast<int64_t>(e - n * by_l.divisor);
    terms((static_cast<int64_t>(n) * channels + c) * len + l, k, a0, a1);
  }
  double s0 = static_cast<double>(a0), s1 = static_cast<double>(a1);
#pragma unroll
  for (int k = 16; k > 0; k >>= 1) {
    s0 += __shfl_xor_sync(0xffffffffu, s0, k);
    s1 += __shfl_xor_sync(0xffffffffu, s1, k);
  }
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) {
    smem[0][warp] = s0;
    smem[1][warp] = s1;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double t0 = 0.0, t1 = 0.0;
    for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) {
      t0 += smem[0][w];
      t1 += smem[1][w];
    }
    partial[(static_cast<int64_t>(blockIdx.y) * channels + c) * 2] = t0;
    partial[(static_cast<int64_t>(blockIdx.y) * channels + c) * 2 + 1] = t1;
  }
}

template <class T>
__global__ void __launch_bounds__(kNormThreads)
    stats_finish_kernel(const double* partial, int64_t splits, int64_t channels, int64_t len,
                        double count, double eps, const T* x, T* mean, T* invstd,
                        T* running_mean, T* running_var, double momentum) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < channels;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double s0 = 0.0, s1 = 0.0;
    for (int64_t s = 0; s < splits; ++s) {
      s0 += partial[(s * channels + c) * 2];
      s1 += partial[(s * channels + c) * 2 + 1];
    }
    const double shifted_mean = s0 / count;
    const double var = std::max(s1 / count - shifted_mean * shifted_mean, 0.0);  // biased
    const double mu = static_cast<double>(x[c * len]) + shifted_mean;
    mean[c] = static_cast<T>(mu);
    invstd[c] = static_cast<T>(1.0 / ::sqrt(var + eps));
    if (running_mean != nullptr) {
      running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mu);
      running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] +
                                      momentum * var * count / (count - 1.0));
    }
  }
}

// Per channel: grad_weight, grad_bias, and PyTorch's three coefficients of
// gx = (g - grad_mean - (x - mean) * proj_scale) * grad_scale.
template <class T>
__global__ void __launch_bounds__(kNormThreads)
    backward_finish_kernel(const double* partial, int64_t splits, int64_t channels, double count,
                           const T* invstd, const T* weight, T* grad_weight, T* grad_bias,
                           T* coef) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < channels;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double sum_g = 0.0, dot = 0.0;
    for (int64_t s = 0; s < splits; ++s) {
      sum_g += partial[(s * channels + c) * 2];
      dot += partial[(s * channels + c) * 2 + 1];
    }
    const T inv = invstd[c];
    const T w = weight != nullptr ? weight[c] : T(1);
    if (grad_bias != nullptr) grad_bias[c] = static_cast<T>(sum_g);
    if (grad_weight != nullptr) grad_weight[c] = static_cast<T>(dot) * inv;
    coef[c * 3] = static_cast<T>(sum_g / count);                // grad_mean
    coef[c * 3 + 1] = static_cast<T>(dot / count) * inv * inv;  // proj_scale
    coef[c * 3 + 2] = inv * w;                                  // grad_scale
  }
}

// Flat over N*C*L; the channel of element i is (i / L) % C.
template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    batch_norm_apply_kernel(Index total, Div by_l, Div by_c, const T* x, const T* mean,
                            const T* invstd, const T* weight, const T* bias, T* y) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_l.div(i);
    const Index c = t - by_c.div(t) * by_c.divisor;
    T v = (x[i] - mean[c]) * invstd[c];
    if (weight != nullptr) v *= weight[c];
    if (bias != nullptr) v += bias[c];
    y[i] = v;
  }
}

template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    batch_norm_backward_kernel(Index total, Div by_l, Div by_c, const T* g, const T* x,
                               const T* mean, const T* coef, T* gx) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_l.div(i);
    const Index c = t - by_c.div(t) * by_c.divisor;
    gx[i] = (g[i] - coef[c * 3] - (x[i] - mean[c]) * coef[c * 3 + 1]) * coef[c * 3 + 2];
  }
}

// Runs channel_sums_kernel over x (N, C, L) and returns the [splits][C][2] partial sums.
template <class T, class Terms>
Tensor channel_sums(const Terms& terms, int64_t n, int64_t channels, int64_t len, int device,
                    cudaStream_t stream, int64_t* splits_out) {
  const int64_t m = n * len;
  const int64_t sms = sm_count(device);
  int64_t splits = std::max<int64_t>(
      1, std::min<int64_t>((4 * sms + channels - 1) / channels, (m + 4095) / 4096));
  splits = std::min<int64_t>(splits, 65535);
  const int64_t per_split = std::max<int64_t>((m + splits - 1) / splits, 1);
  splits = std::max<int64_t>((m + per_split - 1) / per_split, 1);
  Tensor partial =
      Tensor::empty({splits * channels * 2}, DType::Float64, Device{DeviceType::CUDA, device});
  dim3 grid(static_cast<unsigned>(channels), static_cast<unsigned>(splits));
  dispatch_index(m, [&](auto it, auto dt) {
    using Index = typename decltype(it)::type;
    using Div = typename decltype(dt)::type;
    channel_sums_kernel<T, Index, Div>
        <<<grid, kNormThreads, 0, stream>>>(terms, static_cast<Index>(m), Div(len), channels,
                                            static_cast<Index>(per_split), partial.data<double>());
  });
  check_launch("batch_norm_channel_sums", stream);
  *splits_out = splits;
  return partial;
}

}  // namespace

void batch_norm_stats(const Tensor& x, double eps, const Tensor& mean, const Tensor& invstd,
                      const Tensor& running_mean, const Tensor& running_var, double momentum) {
  const int64_t n = x.size(0), channels = x.size(1), len = x.size(2);
  if (channels == 0) return;
  LaunchContext ctx(x);
  dispatch<Accepts::Floating>(x.dtype(), "batch_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (n * len == 0) {
      fill(mean, NAN);
      fill(invstd, NAN);
      return;
    }
    int64_t splits = 1;
    Tensor partial = channel_sums<T>(StatsTerms<T>{x.data<T>(), len}, n, channels, len, ctx.device,
                                     ctx.stream, &splits);
    stats_finish_kernel<T>
        <<<grid_for(channels, kNormThreads, ctx.device), kNormThreads, 0, ctx.stream>>>(
            partial.data<double>(), splits, channels, len, static_cast<double>(n * len), eps,
            x.data<T>(), mean.data<T>(), invstd.data<T>(),
            running_mean.defined() ? running_mean.data<T>() : nullptr,
            running_var.defined() ? running_var.data<T>() : nullptr, momentum);
    check_launch("batch_norm_stats", ctx.stream);
  });
}

void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd,
                      const Tensor& weight, const Tensor& bias, const Tensor& y) {
  const int64_t total = x.numel();
  if (total == 0) return;
  const int64_t channels = x.size(1), len = x.size(2);
  LaunchContext ctx(y);
  dispatch<Accepts::Floating>(x.dtype(), "batch_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "batch_norm_apply", total, batch_norm_apply_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(len), Div(channels), x.data<T>(), mean.data<T>(),
          invstd.data<T>(), weight.defined() ? weight.data<T>() : nullptr,
          bias.defined() ? bias.data<T>() : nullptr, y.data<T>());
    });
  });
}

void batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& mean,
                         const Tensor& invstd, const Tensor& weight, const Tensor& grad_x,
                         const Tensor& grad_weight, const Tensor& grad_bias) {
  const int64_t n = x.size(0), channels = x.size(1), len = x.size(2);
  if (channels == 0) return;
  LaunchContext ctx(x);
  dispatch<Accepts::Floating>(x.dtype(), "batch_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (n * len == 0) {
      if (grad_weight.defined()) fill(grad_weight, 0.0);
      if (grad_bias.defined()) fill(grad_bias, 0.0);
      return;
    }
    int64_t splits = 1;
    BackwardTerms<T> terms{grad_y.data<T>(), x.data<T>(), mean.data<T>()};
    Tensor partial = channel_sums<T>(terms, n, channels, len, ctx.device, ctx.stream, &splits);
    Tensor coef = Tensor::empty({channels * 3}, x.dtype(), x.device());
    backward_finish_kernel<T>
        <<<grid_for(channels, kNormThreads, ctx.device), kNormThreads, 0, ctx.stream>>>(
            partial.data<double>(), splits, channels, static_cast<double>(n * len),
            invstd.data<T>(), weight.defined() ? weight.data<T>() : nullptr,
            grad_weight.defined() ? grad_weight.data<T>() : nullptr,
            grad_bias.defined() ? grad_bias.data<T>() : nullptr, coef.data<T>());
    check_launch("batch_norm_backward_finish", ctx.stream);
    if (!grad_x.defined()) return;
    const int64_t total = x.numel();
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "batch_norm_backward", total, batch_norm_backward_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(len), Div(channels), grad_y.data<T>(), x.data<T>(),
          mean.data<T>(), coef.data<T>(), grad_x.data<T>());
    });
  });
}

}  // namespace mytensor::cuda
