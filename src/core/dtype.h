// Element types: the enum, sizes, names and PyTorch's promotion rules.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mytensor {

// Float16 and BFloat16 are reserved for mixed precision: they have an enum value, a size and a
// name, but no kernel accepts them yet (dispatch raises DTypeError).
enum class DType : int8_t { Bool, UInt8, Int32, Int64, Float16, BFloat16, Float32, Float64 };

constexpr int kNumDTypes = 8;

size_t itemsize(DType dtype);
const char* dtype_name(DType dtype);
inline bool is_floating(DType d) {
  return d == DType::Float16 || d == DType::BFloat16 || d == DType::Float32 || d == DType::Float64;
}
inline bool is_integral(DType d) { return d == DType::UInt8 || d == DType::Int32 || d == DType::Int64; }

// The type two tensors promote to (bool < integers < floating; wider wins within a category).
DType promote_types(DType a, DType b);

}  // namespace mytensor
