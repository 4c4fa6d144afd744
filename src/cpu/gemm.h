// The CPU GEMM on raw pointers, shared by bmm (matmul.cpp) and the im2col convolutions (conv.cpp).
#pragma once
#include <cstdint>

namespace mytensor::cpu {

// A strided matrix operand: element (r, c) is at data[r * rs + c * cs]. Any strides work; packing
// reads them, so transposed views cost nothing extra.
template <class T>
struct MatRef {
  const T* data;
  int64_t rs, cs;
};

// C (M, N), row stride ldc and unit column stride: C = A @ B, or C += A @ B when accumulate.
// A is (M, K), B is (K, N). K == 0 zeroes C (or leaves it when accumulating). Runs on every
// OpenMP thread unless called from inside a parallel region (then on the calling thread).
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, MatRef<T> A, MatRef<T> B, T* C, int64_t ldc,
          bool accumulate);

}  // namespace mytensor::cpu
