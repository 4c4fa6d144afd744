// CUDA random sampling with the counter-based Philox of core/philox.h: element i (flat,
// row-major) of every draw uses counter offset + i, exactly as the CPU backend does, so both
// devices produce the same numbers for the same (seed, offset). Inside a CUDA graph the seed and
// base offset come from device words that each replay rewrites (PhiloxArgs::base).
#include <cstdint>

#include "core/philox.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"

namespace mytensor::cuda {

namespace {

// The draw's (seed, first counter), read once per thread.
struct Counters {
  uint64_t seed, offset;
};
__device__ __forceinline__ Counters resolve(const PhiloxArgs& rng) {
  if (rng.base == nullptr) return {rng.seed, rng.offset};
  return {rng.base[0], rng.base[1] + rng.offset};
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    uniform_kernel(int64_t n, T* out, double low, double high, PhiloxArgs rng) {
  const auto [seed, offset] = resolve(rng);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = static_cast<T>(low + (high - low) *
                                      philox::uniform<T>(seed, offset + static_cast<uint64_t>(i)));
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    normal_kernel(int64_t n, T* out, double mean, double stddev, PhiloxArgs rng) {
  const auto [seed, offset] = resolve(rng);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] =
        static_cast<T>(mean + stddev * philox::normal<T>(seed, offset + static_cast<uint64_t>(i)));
  }
}

// low + (bits mod (high - low)), in int64 before the conversion to T.
template <class T>
__global__ void __launch_bounds__(kThreads)
    randint_kernel(int64_t n, T* out, int64_t low, uint64_t range, PhiloxArgs rng) {
  const auto [seed, offset] = resolve(rng);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const uint64_t r = philox::bits64(seed, offset + static_cast<uint64_t>(i)) % range;
    out[i] = static_cast<T>(low + static_cast<int64_t>(r));
  }
}

// The keep decision always uses the float uniform, so float and double inputs drop the same
// elements for the same (seed, offset).
template <class T>
__global__ void __launch_bounds__(kThreads)
    dropout_kernel(int64_t n, const T* x, double p, PhiloxArgs rng, T* out, bool* mask) {
  const auto [seed, offset] = resolve(rng);
  const T scale = static_cast<T>(1.0 / (1.0 - p));  // inf at p = 1, never used then
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const bool keep = philox::uniform<float>(seed, offset + static_cast<uint64_t>(i)) >= p;
    if (mask != nullptr) mask[i] = keep;
    out[i] = x[i] * (keep ? scale : T(0));  // x * mask * scale as PyTorch: NaN stays NaN
  }
}

}  // namespace

void uniform(const Tensor& out, double low, double high, const PhiloxArgs& rng) {
  const int64_t n = out.numel();
  if (n == 0) return;
  LaunchContext ctx(out);
  dispatch<Accepts::Floating>(out.dtype(), "uniform", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_1d(ctx, "uniform", n, uniform_kernel<T>, n, out.data<T>(), low, high, rng);
  });
}

void normal(const Tensor& out, double mean, double stddev, const PhiloxArgs& rng) {
  const int64_t n = out.numel();
  if (n == 0) return;
  LaunchContext ctx(out);
  dispatch<Accepts::Floating>(out.dtype(), "normal", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_1d(ctx, "normal", n, normal_kernel<T>, n, out.data<T>(), mean, stddev, rng);
  });
}

void randint(const Tensor& out, int64_t low, int64_t high, const PhiloxArgs& rng) {
  const int64_t n = out.numel();
  if (n == 0) return;
  LaunchContext ctx(out);
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  dispatch<Accepts::Numeric>(out.dtype(), "randint", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_1d(ctx, "randint", n, randint_kernel<T>, n, out.data<T>(), low, range, rng);
  });
}

void dropout(const Tensor& x, double p, const PhiloxArgs& rng, const Tensor& out,
             const Tensor& mask) {
  const int64_t n = out.numel();
  if (n == 0) return;
  LaunchContext ctx(out);
  // Element i must be x's i-th in row-major order: a strided x is made contiguous first.
  Tensor xc = x;
  if (!x.is_contiguous()) {
    xc = Tensor::empty(x.shape(), x.dtype(), x.device());
    copy(x, xc);
  }
  dispatch<Accepts::Floating>(out.dtype(), "dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_1d(ctx, "dropout", n, dropout_kernel<T>, n, xc.data<T>(), p, rng, out.data<T>(),
        mask.defined() ? mask.data<bool>() : nullptr);
  });
}

}  // namespace mytensor::cuda
