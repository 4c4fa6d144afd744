// Scalar: one exact number from Python (bool, int64 or double, as PyTorch's c10::Scalar), so
// that an int64 argument never goes through double. Usable on host and device (kernels take it
// by value); the checked conversion that raises for out-of-range values is host-only.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <charconv>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/dtype.h"

#ifdef __CUDACC__
#define MT_SCALAR_HD __host__ __device__
#else
#define MT_SCALAR_HD
#endif

namespace mytensor {

class Scalar {
 public:
  enum class Kind : uint8_t { Bool, Int, Double };

  MT_SCALAR_HD Scalar() : kind_(Kind::Int), i_(0) {}
  MT_SCALAR_HD Scalar(bool v) : kind_(Kind::Bool), b_(v) {}
  MT_SCALAR_HD Scalar(double v) : kind_(Kind::Double), d_(v) {}
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  MT_SCALAR_HD Scalar(I v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)) {}

  MT_SCALAR_HD Kind kind() const { return kind_; }
  MT_SCALAR_HD bool is_bool() const { return kind_ == Kind::Bool; }
  MT_SCALAR_HD bool is_int() const { return kind_ == Kind::Int; }
  MT_SCALAR_HD bool is_floating() const { return kind_ == Kind::Double; }

  // The value as T, converted as a C++ cast would (integers wrap modulo 2^bits; bool is
  // value != 0). An out-of-range double into an integer type is undefined: callers validate
  // with check_convertible first.
  template <class T>
  MT_SCALAR_HD T to() const {
    if constexpr (std::is_same_v<T, bool>) {
      return kind_ == Kind::Bool ? b_ : kind_ == Kind::Int ? i_ != 0 : d_ != 0.0;
    } else {
      return kind_ == Kind::Bool     ? static_cast<T>(b_)
             : kind_ == Kind::Int    ? static_cast<T>(i_)
                                     : static_cast<T>(d_);
    }
  }

  // Zero of any kind except -0.0 (whose bit pattern is not all zeros).
  bool is_zero_bits() const {
    return kind_ == Kind::Bool ? !b_ : kind_ == Kind::Int ? i_ == 0 : (d_ == 0.0 && !std::signbit(d_));
  }

  std::string str() const {
    // std::to_chars, not an ostream: see detail::append in core/check.h.
    if (kind_ == Kind::Bool) return b_ ? "True" : "False";
    char buf[64];
    auto res = kind_ == Kind::Int ? std::to_chars(buf, buf + sizeof(buf), i_)
                                  : std::to_chars(buf, buf + sizeof(buf), d_);
    return std::string(buf, res.ptr);
  }

 private:
  Kind kind_;
  union {
    bool b_;
    int64_t i_;
    double d_;
  };
};

namespace detail {
template <class T>
bool overflows(const Scalar& s) {
  using L = std::numeric_limits<T>;
  if constexpr (std::is_same_v<T, bool>) {
    return false;
  } else if (s.is_bool()) {
    return false;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (s.is_int()) return false;
    double d = s.to<double>();
    if (std::isinf(d) || std::isnan(d)) return false;
    return d < static_cast<double>(L::lowest()) || d > static_cast<double>(L::max());
  } else if (s.is_int()) {
    int64_t v = s.to<int64_t>();
    if constexpr (!L::is_signed) {
      // As c10::overflows: negative values down to -max wrap, so that `a - b` on uint8 works.
      uint64_t max = static_cast<uint64_t>(L::max());
      return v < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(v) > max
                   : static_cast<uint64_t>(v) > max;
    } else {
      return v < static_cast<int64_t>(L::lowest()) || v > static_cast<int64_t>(L::max());
    }
  } else {
    double d = s.to<double>();
    if (std::isnan(d) || std::isinf(d)) return true;
    // (double)INT64_MAX rounds up to 2^63, which itself does not fit.
    double hi = static_cast<double>(L::max());
    return d < static_cast<double>(L::lowest()) || d > hi || (sizeof(T) == 8 && d == hi);
  }
}
}  // namespace detail

// Raises RuntimeError (as PyTorch) when `value` does not fit `dtype`: NaN or inf into an integer
// type, a number beyond the type's range. Fractions into integers truncate, as a C++ cast.
inline void check_convertible(const Scalar& value, DType dtype, const char* op) {
  bool bad = false;
  switch (dtype) {
    case DType::Bool: bad = detail::overflows<bool>(value); break;
    case DType::UInt8: bad = detail::overflows<uint8_t>(value); break;
    case DType::Int32: bad = detail::overflows<int32_t>(value); break;
    case DType::Int64: bad = detail::overflows<int64_t>(value); break;
    case DType::Float64: bad = detail::overflows<double>(value); break;
    default: bad = detail::overflows<float>(value); break;  // float32 and the 16-bit floats
  }
  if (bad) {
    throw std::runtime_error(std::string("[") + op + "] value " + value.str() +
                             " cannot be converted to type " + dtype_name(dtype) +
                             " without overflow");
  }
}

// The dtype of `tensor_dtype (op) value` (PyTorch's rule: a scalar does not promote within its
// category; an int scalar makes bool int64, a float scalar makes bool/integers float32).
inline DType result_type(DType tensor_dtype, const Scalar& value) {
  if (value.is_floating()) return is_floating(tensor_dtype) ? tensor_dtype : DType::Float32;
  if (value.is_int() && tensor_dtype == DType::Bool) return DType::Int64;
  return tensor_dtype;
}

// PyTorch's canCast: whether an in-place op may write a result of `from` into a tensor of `to`
// (no floating -> integral, no non-bool -> bool).
inline bool can_cast(DType from, DType to) {
  if (is_floating(from) && !is_floating(to)) return false;
  if (from != DType::Bool && to == DType::Bool) return false;
  return true;
}

}  // namespace mytensor

#undef MT_SCALAR_HD
