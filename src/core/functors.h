// Per-element math, shared by the CPU and CUDA backends (host + device).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/scalar.h"

#ifdef __CUDACC__
#define MT_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define MT_HOST_DEVICE inline
#endif

namespace mytensor::functors {

// Signed integer arithmetic wraps modulo 2^bits, as PyTorch's does, computed in the unsigned
// type: a signed overflow is undefined behaviour in C++ (int64 sums and products of the fuzzer's
// edge values reach it). Floats and bool take the plain operator.
template <class T>
inline constexpr bool wraps_v = std::is_integral_v<T> && std::is_signed_v<T>;
template <class T> MT_HOST_DEVICE T wrapping_add(T a, T b) {
  if constexpr (wraps_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}
template <class T> MT_HOST_DEVICE T wrapping_sub(T a, T b) {
  if constexpr (wraps_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
  } else {
    return a - b;
  }
}
template <class T> MT_HOST_DEVICE T wrapping_mul(T a, T b) {
  if constexpr (wraps_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

// A dtype conversion, with PyTorch's rules on both devices: non-zero is true; a float becomes
// an integer by truncation, and one outside the integer's range (or NaN) becomes its minimum,
// the x86 "integer indefinite" that PyTorch returns (a plain C++ cast is undefined there, and
// the GPU saturates instead); uint8 goes through int64, so -1.5 becomes 255, as in PyTorch.
template <class Out, class In>
struct Convert {
  MT_HOST_DEVICE Out operator()(In x) const {
    if constexpr (std::is_same_v<Out, bool>) {
      return x != In(0);
    } else if constexpr (std::is_floating_point_v<In> && std::is_integral_v<Out>) {
      if constexpr (std::is_same_v<Out, int32_t>) {
        const double d = static_cast<double>(x);
        return d > -2147483649.0 && d < 2147483648.0 ? static_cast<int32_t>(d) : INT32_MIN;
      } else {
        const double d = static_cast<double>(x);
        const int64_t v = d >= -9223372036854775808.0 && d < 9223372036854775808.0
                              ? static_cast<int64_t>(d)
                              : INT64_MIN;
        return static_cast<Out>(v);  // int64, or its low byte for uint8
      }
    } else {
      return static_cast<Out>(x);
    }
  }
};

// Overloads so one functor body serves float and double on host and device.
MT_HOST_DEVICE float exp_(float x) { return expf(x); }
MT_HOST_DEVICE double exp_(double x) { return exp(x); }
MT_HOST_DEVICE float log_(float x) { return logf(x); }
MT_HOST_DEVICE double log_(double x) { return log(x); }
MT_HOST_DEVICE float sqrt_(float x) { return sqrtf(x); }
MT_HOST_DEVICE double sqrt_(double x) { return sqrt(x); }
MT_HOST_DEVICE float tanh_(float x) { return tanhf(x); }
MT_HOST_DEVICE double tanh_(double x) { return tanh(x); }
MT_HOST_DEVICE float erf_(float x) { return erff(x); }
MT_HOST_DEVICE double erf_(double x) { return erf(x); }
MT_HOST_DEVICE float pow_(float x, float y) { return powf(x, y); }
MT_HOST_DEVICE double pow_(double x, double y) { return pow(x, y); }
// Integer power by repeated squaring (std::pow would go through double and round). A negative
// exponent gives the truncated 1 / base^-exp, as PyTorch: 1 for base 1, +-1 for base -1, else 0.
template <class T, class E>
MT_HOST_DEVICE T ipow_(T base, E exp) {
  if constexpr (std::is_signed_v<E>) {
    if (exp < 0) {
      if (base == T(1)) return T(1);
      if constexpr (std::is_signed_v<T>) {
        if (base == T(-1)) return (exp & 1) ? T(-1) : T(1);
      }
      return T(0);
    }
  }
  T result = 1;
  while (exp) {
    if (exp & 1) result *= base;
    base *= base;
    exp >>= 1;
  }
  return result;
}

// ---- unary ------------------------------------------------------------------------------------
struct Neg {
  template <class T> MT_HOST_DEVICE T operator()(T x) const {
    if constexpr (wraps_v<T>) {
      return wrapping_sub(T(0), x);  // -INT64_MIN wraps to itself
    } else {
      return -x;  // 0 - x would turn -0.0 into +0.0
    }
  }
};
struct Exp {
  template <class T> MT_HOST_DEVICE T operator()(T x) const { return exp_(x); }
};
struct Log {
  template <class T> MT_HOST_DEVICE T operator()(T x) const { return log_(x); }
};
struct Sqrt {
  template <class T> MT_HOST_DEVICE T operator()(T x) const { return sqrt_(x); }
};
struct Rsqrt {
  template <class T> MT_HOST_DEVICE T operator()(T x) const { return T(1) / sqrt_(x); }
};
struct Abs {
  template <class T> MT_HOST_DEVICE T operator()(T x) const { return x < T(0) ? -x : x; }
};
// NOTE: relu'(0) is 0, as in PyTorch (see ReluBackward). Written as `x < 0 ? 0 : x` so that NaN
// (and -0.0) pass through unchanged, as in PyTorch.
struct Relu {
  template <class T> MT_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else {
      return x < T(0) ? T(0) : x;
    }
  }
};
// Stable on both tails: never exponentiates a large positive number.
struct Sigmoid {
  template <class T> MT_HOST_DEVICE T operator()(T x) const {
    if (x >= T(0)) return T(1) / (T(1) + exp_(-x));
    T e = exp_(x);
    return e / (T(1) + e);
  }
};
struct Tanh {
  template <class T> MT_HOST_DEVICE T operator()(T x) const { return tanh_(x); }
};
// The exact (erf) GELU, PyTorch's default approximate='none'.
struct Gelu {
  template <class T> MT_HOST_DEVICE T operator()(T x) const {
    return T(0.5) * x * (T(1) + erf_(x * T(0.70710678118654752440)));
  }
};
// The exponent is exact: core/ops makes integer tensors float first when it is a float.
struct PowScalar {
  Scalar exponent;
  template <class T> MT_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      return pow_(x, exponent.to<T>());
    } else {
      return ipow_(x, exponent.to<int64_t>());
    }
  }
};
// min(max(x, lo), hi) as PyTorch: lo > hi gives hi, a NaN input or bound gives NaN. Integer
// tensors compare in int64 against exact integer bounds (core/ops makes them float for a float
// bound), so that neither rounds.
struct Clamp {
  Scalar lo, hi;
  bool has_lo, has_hi;
  template <class T> MT_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (x != x) return x;
      if (has_lo) {
        T l = lo.to<T>();
        if (l != l) return l;
        x = x < l ? l : x;
      }
      if (has_hi) {
        T h = hi.to<T>();
        if (h != h) return h;
        x = x > h ? h : x;
      }
      return x;
    } else {
      int64_t v = static_cast<int64_t>(x);
      if (has_lo && v < lo.to<int64_t>()) v = lo.to<int64_t>();
      if (has_hi && v > hi.to<int64_t>()) v = hi.to<int64_t>();
      return static_cast<T>(v);
    }
  }
};

// ---- fused backward of unary ops: (grad, saved) -> grad_in ------------------------------------
// PyTorch's threshold_backward: the gradient is dropped where y <= 0, so it passes at y = NaN.
struct ReluBackward {  // saved: the output
  template <class T> MT_HOST_DEVICE T operator()(T g, T y) const { return y <= T(0) ? T(0) : g; }
};
struct SigmoidBackward {  // saved: the output
  template <class T> MT_HOST_DEVICE T operator()(T g, T y) const { return g * y * (T(1) - y); }
};
struct TanhBackward {  // saved: the output
  template <class T> MT_HOST_DEVICE T operator()(T g, T y) const { return g * (T(1) - y * y); }
};
struct GeluBackward {  // saved: the input
  template <class T> MT_HOST_DEVICE T operator()(T g, T x) const {
    T cdf = T(0.5) * (T(1) + erf_(x * T(0.70710678118654752440)));
    T pdf = exp_(T(-0.5) * x * x) * T(0.39894228040143267794);
    return g * (cdf + x * pdf);
  }
};

// ---- binary -----------------------------------------------------------------------------------
struct Add {
  template <class T> MT_HOST_DEVICE T operator()(T a, T b) const { return wrapping_add(a, b); }
};
struct Sub {
  template <class T> MT_HOST_DEVICE T operator()(T a, T b) const { return wrapping_sub(a, b); }
};
struct Mul {
  template <class T> MT_HOST_DEVICE T operator()(T a, T b) const { return wrapping_mul(a, b); }
};
// Integer division is never reached: div promotes integers to float (true division, as PyTorch).
struct Div {
  template <class T> MT_HOST_DEVICE T operator()(T a, T b) const { return a / b; }
};
struct Pow {
  template <class T> MT_HOST_DEVICE T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return pow_(a, b);
    } else {
      return ipow_(a, b);
    }
  }
};
// maximum/minimum propagate NaN, as in PyTorch.
struct Maximum {
  template <class T> MT_HOST_DEVICE T operator()(T a, T b) const {
    if (a != a) return a;
    if (b != b) return b;
    return a > b ? a : b;
  }
};
struct Minimum {
  template <class T> MT_HOST_DEVICE T operator()(T a, T b) const {
    if (a != a) return a;
    if (b != b) return b;
    return a < b ? a : b;
  }
};

// ---- comparisons: (T, T) -> bool --------------------------------------------------------------
struct Eq {
  template <class T> MT_HOST_DEVICE bool operator()(T a, T b) const { return a == b; }
};
struct Ne {
  template <class T> MT_HOST_DEVICE bool operator()(T a, T b) const { return a != b; }
};
struct Lt {
  template <class T> MT_HOST_DEVICE bool operator()(T a, T b) const { return a < b; }
};
struct Le {
  template <class T> MT_HOST_DEVICE bool operator()(T a, T b) const { return a <= b; }
};
struct Gt {
  template <class T> MT_HOST_DEVICE bool operator()(T a, T b) const { return a > b; }
};
struct Ge {
  template <class T> MT_HOST_DEVICE bool operator()(T a, T b) const { return a >= b; }
};

}  // namespace mytensor::functors
