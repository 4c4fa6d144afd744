// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator, so element i of a draw is a pure function of (seed, offset + i) and the
// CPU and CUDA backends produce the same numbers.
#pragma once
#include <cstdint>

#include "core/functors.h"

namespace mytensor::philox {

struct Uint4 {
  uint32_t x, y, z, w;
};

MT_HOST_DEVICE uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// The four 32-bit words for counter `index` under `seed`.
MT_HOST_DEVICE Uint4 draw(uint64_t seed, uint64_t index) {
  uint32_t c0 = static_cast<uint32_t>(index), c1 = static_cast<uint32_t>(index >> 32);
  uint32_t c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

// Uniform in [0, 1) with the full mantissa of T.
template <class T>
MT_HOST_DEVICE T uniform(uint64_t seed, uint64_t index) {
  Uint4 r = draw(seed, index);
  if constexpr (sizeof(T) == 4) {
    return static_cast<T>(r.x >> 8) * T(1.0f / 16777216.0f);
  } else {
    uint64_t bits = (static_cast<uint64_t>(r.x) << 21) ^ (r.y >> 11);
    return static_cast<T>(bits & ((1ull << 53) - 1)) * T(1.0 / 9007199254740992.0);
  }
}

// Standard normal by Box-Muller on two words of one draw.
template <class T>
MT_HOST_DEVICE T normal(uint64_t seed, uint64_t index) {
  Uint4 r = draw(seed, index);
  double u1 = (static_cast<double>(r.x) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
  double u2 = static_cast<double>(r.y) * (1.0 / 4294967296.0);          // [0, 1)
  return static_cast<T>(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

// A 64-bit word, for randint.
MT_HOST_DEVICE uint64_t bits64(uint64_t seed, uint64_t index) {
  Uint4 r = draw(seed, index);
  return (static_cast<uint64_t>(r.y) << 32) | r.x;
}

}  // namespace mytensor::philox
