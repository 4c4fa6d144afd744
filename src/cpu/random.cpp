// CPU random kernels: element i of a draw is a pure function of (seed, offset + i) (core/philox.h),
// so the numbers do not depend on the thread split and equal the CUDA backend's.
#include "core/dispatch.h"
#include "core/philox.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {
// One Philox draw is ~10 multiply rounds: far more work per element than a copy.
constexpr int64_t kRandomGrain = 4096;
}  // namespace

void uniform(const Tensor& out, double low, double high, const PhiloxArgs& rng) {
  const uint64_t seed = rng.seed, offset = rng.offset;  // rng.base is CUDA-only
  dispatch<Accepts::Floating>(out.dtype(), "uniform", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    const T lo = static_cast<T>(low), range = static_cast<T>(high - low);
    parallel_for(out.numel(), kRandomGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = lo + range * philox::uniform<T>(seed, offset + i);
    });
  });
}

void normal(const Tensor& out, double mean, double std, const PhiloxArgs& rng) {
  const uint64_t seed = rng.seed, offset = rng.offset;
  dispatch<Accepts::Floating>(out.dtype(), "normal", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    const T m = static_cast<T>(mean), s = static_cast<T>(std);
    parallel_for(out.numel(), kRandomGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = m + s * philox::normal<T>(seed, offset + i);
    });
  });
}

void randint(const Tensor& out, int64_t low, int64_t high, const PhiloxArgs& rng) {
  const uint64_t seed = rng.seed, offset = rng.offset;
  dispatch<Accepts::Numeric>(out.dtype(), "randint", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    // Unsigned arithmetic: high - low may not fit int64 (e.g. the whole int64 range).
    const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    parallel_for(out.numel(), kRandomGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        uint64_t v = static_cast<uint64_t>(low) + philox::bits64(seed, offset + i) % range;
        o[i] = static_cast<T>(static_cast<int64_t>(v));
      }
    });
  });
}

void dropout(const Tensor& x, double p, const PhiloxArgs& rng, const Tensor& out,
             const Tensor& mask) {
  const uint64_t seed = rng.seed, offset = rng.offset;
  dispatch<Accepts::Floating>(x.dtype(), "dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* o = out.data<T>();
    bool* m = mask.data<bool>();
    const float threshold = static_cast<float>(p);
    const T scale = static_cast<T>(1.0 / (1.0 - p));
    parallel_for(x.numel(), kRandomGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        bool keep = philox::uniform<float>(seed, offset + i) >= threshold;
        m[i] = keep;
        o[i] = in[i] * (keep ? scale : T(0));  // x * 0: NaN stays NaN, as in PyTorch
      }
    });
  });
}

}  // namespace mytensor::cpu
