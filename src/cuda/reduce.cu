// CUDA reductions along one dim of a contiguous (outer, r, inner) tensor: sum (and mean through
// its scale), max/min with first-index ties, var, logsumexp, and fused softmax/log_softmax with
// their backward. The launch shapes live in reduce.cuh.
#include <cmath>
#include <type_traits>

#include "core/functors.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace mytensor::cuda {

namespace {

namespace fn = mytensor::functors;

// sum's output may be wider than its input (PyTorch sums bool and integers into int64), so the
// result is stored through the output's runtime dtype.
template <class V>
__device__ __forceinline__ void store_as(void* out, DType dtype, int64_t j, V v) {
  switch (dtype) {
    case DType::Float32: static_cast<float*>(out)[j] = static_cast<float>(v); break;
    case DType::Float64: static_cast<double*>(out)[j] = static_cast<double>(v); break;
    case DType::Int64: static_cast<int64_t*>(out)[j] = static_cast<int64_t>(v); break;
    case DType::Int32: static_cast<int32_t*>(out)[j] = static_cast<int32_t>(v); break;
    case DType::UInt8: static_cast<uint8_t*>(out)[j] = static_cast<uint8_t>(v); break;
    case DType::Bool: static_cast<bool*>(out)[j] = v != V(0); break;
    default: break;
  }
}

template <class Acc>
__device__ __forceinline__ void store_scaled(void* out, DType dtype, int64_t j, Acc v,
                                             double scale) {
  if (scale == 1.0) {
    store_as(out, dtype, j, v);
  } else if constexpr (std::is_floating_point_v<Acc>) {
    store_as(out, dtype, j, v * static_cast<Acc>(scale));
  } else {
    store_as(out, dtype, j, static_cast<double>(v) * scale);
  }
}

// float sums accumulate in float (as PyTorch on CUDA), double in double, integers in int64.
template <class T>
using sum_acc_t = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;

template <class T>
struct SumOp {
  using acc_t = sum_acc_t<T>;
  const T* x;
  void* out;
  DType out_dtype;
  double scale;

  __device__ acc_t identity() const { return acc_t(0); }
  __device__ acc_t reduce(acc_t a, int64_t flat, int64_t) const {
    return a + static_cast<acc_t>(x[flat]);
  }
  __device__ acc_t combine(acc_t a, acc_t b) const { return a + b; }
  __device__ acc_t shfl_xor(acc_t a, int m) const { return shfl_xor_any(a, m); }
  __device__ void write(acc_t a, int64_t j) const { store_scaled(out, out_dtype, j, a, scale); }
};

template <class T>
struct ValueIndex {
  T v;
  int64_t i;  // -1: empty
};

// The combine is a total order on (value, index), so the result does not depend on the order in
// which threads meet: NaN beats everything (PyTorch propagates it), then the larger (smaller)
// value, then the smaller index (PyTorch returns the first occurrence).
template <class T, bool kMax>
struct ArgExtremeOp {
  using acc_t = ValueIndex<T>;
  const T* x;
  T* values;         // may be null
  int64_t* indices;  // may be null

  __device__ acc_t identity() const { return {T(0), -1}; }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    bool a_nan = a.v != a.v, b_nan = b.v != b.v;
    if (a_nan || b_nan) {
      if (a_nan && b_nan) return a.i < b.i ? a : b;
      return a_nan ? a : b;
    }
    if (a.v == b.v) return a.i < b.i ? a : b;
    if constexpr (kMax) {
      return a.v > b.v ? a : b;
    } else {
      return a.v < b.v ? a : b;
    }
  }
  __device__ acc_t reduce(acc_t a, int64_t flat, int64_t k) const {
    return combine(a, {x[flat], k});
  }
  __device__ acc_t shfl_xor(acc_t a, int m) const {
    return {shfl_xor_any(a.v, m), shfl_xor_any(a.i, m)};
  }
  __device__ void write(acc_t a, int64_t j) const {
    if (values != nullptr) values[j] = a.v;
    if (indices != nullptr) indices[j] = a.i;
  }
};

// Welford's running mean and M2 in double, merged with Chan et al.'s pairwise formula: stable
// for data with a large mean, and one pass over the input.
struct Welford {
  double n, mean, m2;
};

template <class T>
struct VarOp {
  using acc_t = Welford;
  const T* x;
  T* out;
  double correction;

  __device__ acc_t identity() const { return {0.0, 0.0, 0.0}; }
  __device__ acc_t reduce(acc_t a, int64_t flat, int64_t) const {
    double v = static_cast<double>(x[flat]);
    a.n += 1.0;
    double delta = v - a.mean;
    a.mean += delta / a.n;
    a.m2 += delta * (v - a.mean);
    return a;
  }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    if (a.n == 0.0) return b;
    if (b.n == 0.0) return a;
    double n = a.n + b.n;
    double delta = b.mean - a.mean;
    return {n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * b.n / n)};
  }
  __device__ acc_t shfl_xor(acc_t a, int m) const {
    return {shfl_xor_any(a.n, m), shfl_xor_any(a.mean, m), shfl_xor_any(a.m2, m)};
  }
  __device__ void write(acc_t a, int64_t j) const {
    // PyTorch divides by max(0, N - correction): 0/0 = NaN for a single element.
    double dof = a.n - correction;
    out[j] = static_cast<T>(a.m2 / (dof > 0.0 ? dof : 0.0));
  }
};

template <class T>
struct LogSumExpOp {
  using acc_t = Lse<T>;
  const T* x;
  T* out;

  __device__ acc_t identity() const { return lse_identity<T>(); }
  __device__ acc_t reduce(acc_t a, int64_t flat, int64_t) const { return lse_add(a, x[flat]); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return lse_combine(a, b); }
  __device__ acc_t shfl_xor(acc_t a, int m) const { return lse_shfl_xor(a, m); }
  __device__ void write(acc_t a, int64_t j) const { out[j] = a.m + fn::log_(a.s); }
};

// softmax: exp(x - max) / sum; log_softmax: (x - max) - log(sum), both as PyTorch's epilogues.
template <class T, bool kLog>
struct SoftmaxOp {
  using acc_t = Lse<T>;
  const T* x;
  T* y;

  __device__ acc_t identity() const { return lse_identity<T>(); }
  __device__ acc_t reduce(acc_t a, int64_t flat, int64_t) const { return lse_add(a, x[flat]); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return lse_combine(a, b); }
  __device__ acc_t shfl_xor(acc_t a, int m) const { return lse_shfl_xor(a, m); }
  __device__ acc_t finalize(acc_t a) const {
    // PyTorch sums exp(x - max) without special cases: a +inf in the slice gives inf - inf = NaN
    // in the sum, so the whole slice is NaN.
    if (a.m == T(INFINITY)) a.s = T(NAN);
    if constexpr (kLog) a.s = fn::log_(a.s);
    return a;
  }
  __device__ void write_elem(acc_t f, int64_t flat) const {
    T v = x[flat];
    if constexpr (kLog) {
      y[flat] = (v - f.m) - f.s;
    } else {
      y[flat] = fn::exp_(v - f.m) / f.s;
    }
  }
};

// softmax: gin = y * (g - sum(g * y)); log_softmax: gin = g - exp(y) * sum(g).
template <class T, bool kLog>
struct SoftmaxBackwardOp {
  using acc_t = T;
  const T* g;
  const T* y;
  T* gin;

  __device__ acc_t identity() const { return T(0); }
  __device__ acc_t reduce(acc_t a, int64_t flat, int64_t) const {
    if constexpr (kLog) {
      return a + g[flat];
    } else {
      return a + g[flat] * y[flat];
    }
  }
  __device__ acc_t combine(acc_t a, acc_t b) const { return a + b; }
  __device__ acc_t shfl_xor(acc_t a, int m) const { return shfl_xor_any(a, m); }
  __device__ acc_t finalize(acc_t a) const { return a; }
  __device__ void write_elem(acc_t s, int64_t flat) const {
    if constexpr (kLog) {
      gin[flat] = g[flat] - fn::exp_(y[flat]) * s;
    } else {
      gin[flat] = y[flat] * (g[flat] - s);
    }
  }
};

template <bool kMax>
void arg_extreme(const char* name, const Tensor& x, const ReduceDims& d, const Tensor& values,
                 const Tensor& indices) {
  if (!values.defined() && !indices.defined()) return;
  LaunchContext ctx(x);
  dispatch<Accepts::Numeric>(x.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    ArgExtremeOp<T, kMax> op{x.data<T>(), values.defined() ? values.data<T>() : nullptr,
                             indices.defined() ? indices.data<int64_t>() : nullptr};
    launch_reduce(name, op, d, ctx.device, ctx.stream);
  });
}

}  // namespace

void sum(const Tensor& x, const ReduceDims& d, double scale, const Tensor& out) {
  LaunchContext ctx(x);
  dispatch<Accepts::All>(x.dtype(), "sum", [&](auto tag) {
    using T = typename decltype(tag)::type;
    SumOp<T> op{x.data<T>(), out.data_ptr(), out.dtype(), scale};
    launch_reduce("sum", op, d, ctx.device, ctx.stream);
  });
}

void max(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices) {
  arg_extreme<true>("max", x, d, values, indices);
}

void min(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices) {
  arg_extreme<false>("min", x, d, values, indices);
}

void var(const Tensor& x, const ReduceDims& d, double correction, const Tensor& out) {
  LaunchContext ctx(x);
  dispatch<Accepts::Floating>(x.dtype(), "var", [&](auto tag) {
    using T = typename decltype(tag)::type;
    VarOp<T> op{x.data<T>(), out.data<T>(), correction};
    launch_reduce("var", op, d, ctx.device, ctx.stream);
  });
}

void logsumexp(const Tensor& x, const ReduceDims& d, const Tensor& out) {
  LaunchContext ctx(x);
  dispatch<Accepts::Floating>(x.dtype(), "logsumexp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    LogSumExpOp<T> op{x.data<T>(), out.data<T>()};
    launch_reduce("logsumexp", op, d, ctx.device, ctx.stream);
  });
}

void softmax(const Tensor& x, const ReduceDims& d, bool log, const Tensor& out) {
  LaunchContext ctx(x);
  const char* name = log ? "log_softmax" : "softmax";
  dispatch<Accepts::Floating>(x.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (log) {
      launch_reduce_two_pass(name, SoftmaxOp<T, true>{x.data<T>(), out.data<T>()}, d, ctx.device,
                             ctx.stream);
    } else {
      launch_reduce_two_pass(name, SoftmaxOp<T, false>{x.data<T>(), out.data<T>()}, d, ctx.device,
                             ctx.stream);
    }
  });
}

void softmax_backward(const Tensor& grad, const Tensor& out, const ReduceDims& d, bool log,
                      const Tensor& grad_in) {
  LaunchContext ctx(grad_in);
  const char* name = log ? "log_softmax_backward" : "softmax_backward";
  dispatch<Accepts::Floating>(grad_in.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (log) {
      SoftmaxBackwardOp<T, true> op{grad.data<T>(), out.data<T>(), grad_in.data<T>()};
      launch_reduce_two_pass(name, op, d, ctx.device, ctx.stream);
    } else {
      SoftmaxBackwardOp<T, false> op{grad.data<T>(), out.data<T>(), grad_in.data<T>()};
      launch_reduce_two_pass(name, op, d, ctx.device, ctx.stream);
    }
  });
}

}  // namespace mytensor::cuda
