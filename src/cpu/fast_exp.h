// exp of non-positive arguments (x - max) for the CPU softmax/logsumexp kernels, four floats at
// a time through GCC/Clang vector extensions: std::exp does not vectorize without -ffast-math.
// Double keeps std::exp's accuracy.
#pragma once
#include <cmath>
#include <cstdint>

namespace mytensor::cpu {

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

// Cephes expf: exp(x) = 2^n * p(r), r = x - n ln2, |r| <= ln2/2; relative error ~1e-7.
// Valid for x <= 0: below -87.3 it gives 0; NaN stays NaN.
inline v4f exp_nonpos4(v4f x) {
  const v4f lo = v4f{} - 87.3f;
  const v4i keep = x >= lo;  // all-ones lanes; false for NaN
  const v4i nan = x != x;
  const v4f xc = (v4f)(((v4i)x & keep) | ((v4i)lo & ~keep));
  const v4f t = xc * 1.44269504088896341f + 0.5f;
  v4i n = __builtin_convertvector(t, v4i);  // truncation; floor below
  n += (v4i)(__builtin_convertvector(n, v4f) > t);
  const v4f nf = __builtin_convertvector(n, v4f);
  const v4f r = xc - nf * 0.693359375f + nf * 2.12194440e-4f;
  v4f p = v4f{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  v4f y = p * (v4f)((n + 127) << 23);
  y = (v4f)((v4i)y & keep);
  return (v4f)(((v4i)y & ~nan) | ((v4i)x & nan));
}

inline float exp_nonpos(float x) { return exp_nonpos4(v4f{} + x)[0]; }
inline double exp_nonpos(double x) { return std::exp(x); }

// out[k] = exp(x[k] - shift[k * shift_step]) for k < n (shift_step 0: one shift for all).
inline void exp_sub(const float* x, const float* shift, int64_t shift_step, float* out,
                    int64_t n) {
  int64_t k = 0;
  for (; k + 4 <= n; k += 4) {
    v4f xv, sv;
    for (int l = 0; l < 4; ++l) {
      xv[l] = x[k + l];
      sv[l] = shift[(k + l) * shift_step];
    }
    v4f y = exp_nonpos4(xv - sv);
    for (int l = 0; l < 4; ++l) out[k + l] = y[l];
  }
  for (; k < n; ++k) out[k] = exp_nonpos(x[k] - shift[k * shift_step]);
}

inline void exp_sub(const double* x, const double* shift, int64_t shift_step, double* out,
                    int64_t n) {
  for (int64_t k = 0; k < n; ++k) out[k] = std::exp(x[k] - shift[k * shift_step]);
}

}  // namespace mytensor::cpu
