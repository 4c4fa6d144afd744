// The dtype switch: calls a generic lambda with a tag whose ::type is the C++ element type.
#pragma once
#include <cstdint>

#include "core/check.h"
#include "core/dtype.h"

namespace mytensor {

template <class T>
struct TypeTag {
  using type = T;
};

// Which dtypes a kernel is compiled for. Float16/BFloat16 are not dispatched yet.
enum class Accepts { Floating, Numeric, All };

template <Accepts accepts, class F>
decltype(auto) dispatch(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    default: break;
  }
  if constexpr (accepts != Accepts::Floating) {
    switch (dtype) {
      case DType::Int64: return f(TypeTag<int64_t>{});
      case DType::Int32: return f(TypeTag<int32_t>{});
      case DType::UInt8: return f(TypeTag<uint8_t>{});
      default: break;
    }
  }
  if constexpr (accepts == Accepts::All) {
    if (dtype == DType::Bool) return f(TypeTag<bool>{});
  }
  detail::throw_error<DTypeError>("[", op, "] dtype ", dtype_name(dtype), " is not supported",
                                  accepts == Accepts::Floating ? " (expected float32 or float64)" : "");
}

// The dtype enum of a C++ element type.
template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }

}  // namespace mytensor
