// CUDA elementwise kernels: copy (with dtype conversion), fill, unary, fused unary backward,
// binary, comparisons and where. The math is in core/functors.h, the launch in launch.cuh.
#include <cmath>
#include <type_traits>

#include "core/functors.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"

namespace mytensor::cuda {

namespace {

namespace fn = mytensor::functors;

template <class T>
struct FillValue {
  T value;
  MT_HOST_DEVICE T operator()() const { return value; }
};

// Unsigned integers get their own abs and integer power: the shared functors' sign tests are
// pointless (and warned about) for uint8.
struct AbsOp {
  template <class T>
  MT_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else {
      return fn::Abs{}(x);
    }
  }
};

template <class T>
MT_HOST_DEVICE T unsigned_pow(T base, int64_t exponent) {
  if (exponent < 0) return base == 1 ? T(1) : T(0);
  uint32_t result = 1, b = base;  // wraps modulo 2^32, hence modulo 2^8 too
  for (uint64_t e = static_cast<uint64_t>(exponent); e; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return static_cast<T>(result);
}

struct PowScalarOp {
  Scalar exponent;
  template <class T>
  MT_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return unsigned_pow(x, exponent.to<int64_t>());
    } else {
      return fn::PowScalar{exponent}(x);
    }
  }
};

struct PowOp {
  template <class T>
  MT_HOST_DEVICE T operator()(T a, T b) const {
    if constexpr (std::is_unsigned_v<T>) {
      return unsigned_pow(a, static_cast<int64_t>(b));
    } else {
      return fn::Pow{}(a, b);
    }
  }
};

struct Where {
  template <class T>
  MT_HOST_DEVICE T operator()(bool c, T a, T b) const {
    return c ? a : b;
  }
};

template <class F>
void unary_float(const char* name, const F& f, const Tensor& x, const Tensor& out) {
  dispatch<Accepts::Floating>(out.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T>(name, f, out, x);
  });
}

template <class F>
void unary_numeric(const char* name, const F& f, const Tensor& x, const Tensor& out) {
  dispatch<Accepts::Numeric>(out.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T>(name, f, out, x);
  });
}

// (grad, saved) -> grad_in, all one float dtype.
template <class F>
void backward_float(const char* name, const Tensor& grad, const Tensor& saved,
                    const Tensor& grad_in) {
  dispatch<Accepts::Floating>(grad_in.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T, T>(name, F{}, grad_in, grad, saved);
  });
}

template <class F>
void binary_float(const char* name, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch<Accepts::Floating>(out.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T, T>(name, F{}, out, a, b);
  });
}

template <class F>
void binary_numeric(const char* name, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch<Accepts::Numeric>(out.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T, T>(name, F{}, out, a, b);
  });
}

// add/mul/maximum/minimum also take bool (logical or/and, as PyTorch).
template <class F>
void binary_all(const char* name, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch<Accepts::All>(out.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T, T>(name, F{}, out, a, b);
  });
}

template <class F>
void compare(const char* name, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch<Accepts::All>(a.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<bool, T, T>(name, F{}, out, a, b);
  });
}

}  // namespace

// ---- copy and fill ----------------------------------------------------------------------------

void copy(const Tensor& src, const Tensor& dst) {
  if (dst.numel() == 0) return;
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    LaunchContext ctx(dst);
    MT_CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(),
                                  static_cast<size_t>(dst.numel()) * dst.itemsize(),
                                  cudaMemcpyDeviceToDevice, ctx.stream));
    return;
  }
  dispatch<Accepts::All>(dst.dtype(), "copy", [&](auto dst_tag) {
    using D = typename decltype(dst_tag)::type;
    dispatch<Accepts::All>(src.dtype(), "copy", [&](auto src_tag) {
      using S = typename decltype(src_tag)::type;
      launch_elementwise<D, S>("copy", fn::Convert<D, S>{}, dst, src);
    });
  });
}

void fill(const Tensor& dst, const Scalar& value) {
  if (dst.numel() == 0) return;
  if (value.is_zero_bits() && dst.is_contiguous()) {
    LaunchContext ctx(dst);
    MT_CUDA_CHECK(cudaMemsetAsync(dst.data_ptr(), 0,
                                  static_cast<size_t>(dst.numel()) * dst.itemsize(), ctx.stream));
    return;
  }
  dispatch<Accepts::All>(dst.dtype(), "fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T>("fill", FillValue<T>{value.to<T>()}, dst);
  });
}

// ---- unary ------------------------------------------------------------------------------------

void neg(const Tensor& x, const Tensor& out) { unary_numeric("neg", fn::Neg{}, x, out); }
void exp(const Tensor& x, const Tensor& out) { unary_float("exp", fn::Exp{}, x, out); }
void log(const Tensor& x, const Tensor& out) { unary_float("log", fn::Log{}, x, out); }
void sqrt(const Tensor& x, const Tensor& out) { unary_float("sqrt", fn::Sqrt{}, x, out); }
void rsqrt(const Tensor& x, const Tensor& out) { unary_float("rsqrt", fn::Rsqrt{}, x, out); }
void abs(const Tensor& x, const Tensor& out) { unary_numeric("abs", AbsOp{}, x, out); }
void relu(const Tensor& x, const Tensor& out) { unary_numeric("relu", fn::Relu{}, x, out); }
void sigmoid(const Tensor& x, const Tensor& out) { unary_float("sigmoid", fn::Sigmoid{}, x, out); }
void tanh(const Tensor& x, const Tensor& out) { unary_float("tanh", fn::Tanh{}, x, out); }
void gelu(const Tensor& x, const Tensor& out) { unary_float("gelu", fn::Gelu{}, x, out); }
void pow_scalar(const Tensor& x, const Scalar& exponent, const Tensor& out) {
  unary_numeric("pow", PowScalarOp{exponent}, x, out);
}
void clamp(const Tensor& x, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi,
           const Tensor& out) {
  fn::Clamp f{lo.value_or(Scalar()), hi.value_or(Scalar()), lo.has_value(), hi.has_value()};
  unary_numeric("clamp", f, x, out);
}

// ---- fused unary backward ---------------------------------------------------------------------

void relu_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in) {
  backward_float<fn::ReluBackward>("relu_backward", grad, out, grad_in);
}
void sigmoid_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in) {
  backward_float<fn::SigmoidBackward>("sigmoid_backward", grad, out, grad_in);
}
void tanh_backward(const Tensor& grad, const Tensor& out, const Tensor& grad_in) {
  backward_float<fn::TanhBackward>("tanh_backward", grad, out, grad_in);
}
void gelu_backward(const Tensor& grad, const Tensor& x, const Tensor& grad_in) {
  backward_float<fn::GeluBackward>("gelu_backward", grad, x, grad_in);
}

// ---- binary -----------------------------------------------------------------------------------

void add(const Tensor& a, const Tensor& b, const Tensor& out) {
  binary_all<fn::Add>("add", a, b, out);
}
void sub(const Tensor& a, const Tensor& b, const Tensor& out) {
  binary_numeric<fn::Sub>("sub", a, b, out);
}
void mul(const Tensor& a, const Tensor& b, const Tensor& out) {
  binary_all<fn::Mul>("mul", a, b, out);
}
void div(const Tensor& a, const Tensor& b, const Tensor& out) {
  binary_float<fn::Div>("div", a, b, out);
}
void pow(const Tensor& a, const Tensor& b, const Tensor& out) {
  binary_numeric<PowOp>("pow", a, b, out);
}
void maximum(const Tensor& a, const Tensor& b, const Tensor& out) {
  binary_all<fn::Maximum>("maximum", a, b, out);
}
void minimum(const Tensor& a, const Tensor& b, const Tensor& out) {
  binary_all<fn::Minimum>("minimum", a, b, out);
}

// ---- comparisons and where --------------------------------------------------------------------

void eq(const Tensor& a, const Tensor& b, const Tensor& out) { compare<fn::Eq>("eq", a, b, out); }
void ne(const Tensor& a, const Tensor& b, const Tensor& out) { compare<fn::Ne>("ne", a, b, out); }
void lt(const Tensor& a, const Tensor& b, const Tensor& out) { compare<fn::Lt>("lt", a, b, out); }
void le(const Tensor& a, const Tensor& b, const Tensor& out) { compare<fn::Le>("le", a, b, out); }
void gt(const Tensor& a, const Tensor& b, const Tensor& out) { compare<fn::Gt>("gt", a, b, out); }
void ge(const Tensor& a, const Tensor& b, const Tensor& out) { compare<fn::Ge>("ge", a, b, out); }

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch<Accepts::All>(out.dtype(), "where", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, bool, T, T>("where", Where{}, out, cond, a, b);
  });
}

}  // namespace mytensor::cuda
