// CPU elementwise kernels: each op is one line over the shared unary/binary drivers.
#include <cstring>

#include "core/dispatch.h"
#include "core/functors.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {

using namespace mytensor::functors;

// out = f(x); contiguous operands take a flat loop the compiler can vectorise.
template <Accepts accepts, class F>
void unary(const char* name, const Tensor& x, const Tensor& out, F f) {
  dispatch<accepts>(out.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (all_contiguous({&x, &out})) {
      const T* in = x.data<T>();
      T* o = out.data<T>();
      parallel_for(out.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) o[i] = f(in[i]);
      });
    } else {
      for_each_strided<2>(out.shape(), {&out, &x}, [&](const std::array<char*, 2>& p) {
        *reinterpret_cast<T*>(p[0]) = f(*reinterpret_cast<const T*>(p[1]));
      });
    }
  });
}

// out = f(a, b) with Out the result element type (T, or bool for comparisons).
template <Accepts accepts, class Out, class F>
void binary_impl(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  dispatch<accepts>(a.dtype(), "binary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using R = std::conditional_t<std::is_void_v<Out>, T, Out>;
    if (all_contiguous({&a, &b, &out})) {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      R* o = out.data<R>();
      parallel_for(out.numel(), kGrain, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) o[i] = static_cast<R>(f(pa[i], pb[i]));
      });
    } else {
      for_each_strided<3>(out.shape(), {&out, &a, &b}, [&](const std::array<char*, 3>& p) {
        *reinterpret_cast<R*>(p[0]) = static_cast<R>(
            f(*reinterpret_cast<const T*>(p[1]), *reinterpret_cast<const T*>(p[2])));
      });
    }
  });
}

// Arithmetic never sees bool: core/ops computes bool add/mul/maximum/minimum in uint8.
template <class F>
void binary(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  binary_impl<Accepts::Numeric, void>(a, b, out, f);
}
template <class F>
void binary_floating(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  binary_impl<Accepts::Floating, void>(a, b, out, f);
}
template <class F>
void compare(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  binary_impl<Accepts::All, bool>(a, b, out, f);
}

template <class Dst>
void copy_to(const Tensor& src, const Tensor& dst) {
  dispatch<Accepts::All>(src.dtype(), "copy", [&](auto tag) {
    using S = typename decltype(tag)::type;
    const functors::Convert<Dst, S> convert;
    if (all_contiguous({&src, &dst})) {
      const S* s = src.data<S>();
      Dst* d = dst.data<Dst>();
      if constexpr (std::is_same_v<S, Dst>) {
        std::memcpy(d, s, static_cast<size_t>(dst.numel()) * sizeof(Dst));
      } else {
        parallel_for(dst.numel(), kGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) d[i] = convert(s[i]);
        });
      }
    } else {
      for_each_strided<2>(dst.shape(), {&dst, &src}, [&](const std::array<char*, 2>& p) {
        *reinterpret_cast<Dst*>(p[0]) = convert(*reinterpret_cast<const S*>(p[1]));
      });
    }
  });
}

}  // namespace

void copy(const Tensor& src, const Tensor& dst) {
  dispatch<Accepts::All>(dst.dtype(), "copy",
           [&](auto tag) { copy_to<typename decltype(tag)::type>(src, dst); });
}

void fill(const Tensor& dst, const Scalar& value) {
  dispatch<Accepts::All>(dst.dtype(), "fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T v = value.to<T>();
    for_each_strided<1>(dst.shape(), {&dst},
                        [&](const std::array<char*, 1>& p) { *reinterpret_cast<T*>(p[0]) = v; });
  });
}

void neg(const Tensor& x, const Tensor& out) { unary<Accepts::Numeric>("neg", x, out, Neg{}); }
void exp(const Tensor& x, const Tensor& out) { unary<Accepts::Floating>("exp", x, out, Exp{}); }
void log(const Tensor& x, const Tensor& out) { unary<Accepts::Floating>("log", x, out, Log{}); }
void sqrt(const Tensor& x, const Tensor& out) { unary<Accepts::Floating>("sqrt", x, out, Sqrt{}); }
void rsqrt(const Tensor& x, const Tensor& out) { unary<Accepts::Floating>("rsqrt", x, out, Rsqrt{}); }
void abs(const Tensor& x, const Tensor& out) { unary<Accepts::Numeric>("abs", x, out, Abs{}); }
void relu(const Tensor& x, const Tensor& out) { unary<Accepts::Numeric>("relu", x, out, Relu{}); }
void sigmoid(const Tensor& x, const Tensor& out) {
  unary<Accepts::Floating>("sigmoid", x, out, Sigmoid{});
}
void tanh(const Tensor& x, const Tensor& out) { unary<Accepts::Floating>("tanh", x, out, Tanh{}); }
void gelu(const Tensor& x, const Tensor& out) { unary<Accepts::Floating>("gelu", x, out, Gelu{}); }
void pow_scalar(const Tensor& x, const Scalar& exponent, const Tensor& out) {
  unary<Accepts::Numeric>("pow", x, out, PowScalar{exponent});
}
void clamp(const Tensor& x, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi,
           const Tensor& out) {
  Clamp f{lo.value_or(Scalar()), hi.value_or(Scalar()), lo.has_value(), hi.has_value()};
  unary<Accepts::Numeric>("clamp", x, out, f);
}

void relu_backward(const Tensor& g, const Tensor& y, const Tensor& gi) { binary_floating(g, y, gi, ReluBackward{}); }
void sigmoid_backward(const Tensor& g, const Tensor& y, const Tensor& gi) {
  binary_floating(g, y, gi, SigmoidBackward{});
}
void tanh_backward(const Tensor& g, const Tensor& y, const Tensor& gi) { binary_floating(g, y, gi, TanhBackward{}); }
void gelu_backward(const Tensor& g, const Tensor& x, const Tensor& gi) { binary_floating(g, x, gi, GeluBackward{}); }

void add(const Tensor& a, const Tensor& b, const Tensor& out) { binary(a, b, out, Add{}); }
void sub(const Tensor& a, const Tensor& b, const Tensor& out) { binary(a, b, out, Sub{}); }
void mul(const Tensor& a, const Tensor& b, const Tensor& out) { binary(a, b, out, Mul{}); }
void div(const Tensor& a, const Tensor& b, const Tensor& out) { binary(a, b, out, Div{}); }
void pow(const Tensor& a, const Tensor& b, const Tensor& out) { binary(a, b, out, Pow{}); }
void maximum(const Tensor& a, const Tensor& b, const Tensor& out) { binary(a, b, out, Maximum{}); }
void minimum(const Tensor& a, const Tensor& b, const Tensor& out) { binary(a, b, out, Minimum{}); }
void eq(const Tensor& a, const Tensor& b, const Tensor& out) { compare(a, b, out, Eq{}); }
void ne(const Tensor& a, const Tensor& b, const Tensor& out) { compare(a, b, out, Ne{}); }
void lt(const Tensor& a, const Tensor& b, const Tensor& out) { compare(a, b, out, Lt{}); }
void le(const Tensor& a, const Tensor& b, const Tensor& out) { compare(a, b, out, Le{}); }
void gt(const Tensor& a, const Tensor& b, const Tensor& out) { compare(a, b, out, Gt{}); }
void ge(const Tensor& a, const Tensor& b, const Tensor& out) { compare(a, b, out, Ge{}); }

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch<Accepts::All>(out.dtype(), "where", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_each_strided<4>(out.shape(), {&out, &cond, &a, &b}, [&](const std::array<char*, 4>& p) {
      *reinterpret_cast<T*>(p[0]) = *reinterpret_cast<const bool*>(p[1])
                                        ? *reinterpret_cast<const T*>(p[2])
                                        : *reinterpret_cast<const T*>(p[3]);
    });
  });
}

}  // namespace mytensor::cpu
