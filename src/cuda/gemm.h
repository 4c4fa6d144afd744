// The CUDA backend's GEMM (implemented in matmul.cu), shared by bmm and the convolutions.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace mytensor::cuda {

// For every batch z = z_outer * batch_inner + z_inner: C[z] (m x n) = A[z] (m x k) @ B[z] (k x n),
// plus C's old value when `accumulate`, plus bias[z_inner * bias_stride_inner + row] when given.
template <class T>
struct GemmDesc {
  int64_t m = 0, n = 0, k = 0;
  // a(i, p) = a_row ? a[i * lda + p] : a[i + p * lda]
  const T* a = nullptr;
  int64_t lda = 0;
  bool a_row = true;
  // b(p, j) = b_row ? b[p * ldb + j] : b[p + j * ldb]
  const T* b = nullptr;
  int64_t ldb = 0;
  bool b_row = true;
  // c(i, j) = c[i * ldc + j], or, when c_col_div > 0, c[i * ldc + (j / c_col_div) * c_col_hi +
  // j % c_col_div]: a convolution writes its (O, N*OH*OW) product straight into NCHW.
  T* c = nullptr;
  int64_t ldc = 0;
  int64_t c_col_div = 0, c_col_hi = 0;
  int64_t batch_outer = 1, batch_inner = 1;
  int64_t a_stride_outer = 0, a_stride_inner = 0;
  int64_t b_stride_outer = 0, b_stride_inner = 0;
  int64_t c_stride_outer = 0, c_stride_inner = 0;
  bool accumulate = false;
  const T* bias = nullptr;
  int64_t bias_stride_inner = 0;
};

// Runs on `stream` of `device` (current). allow_tf32 selects tensor cores (sm_80+) for float.
void gemm(const GemmDesc<float>& desc, bool allow_tf32, int device, cudaStream_t stream);
void gemm(const GemmDesc<double>& desc, int device, cudaStream_t stream);

// The Hopper (sm_90a) wgmma/TMA kernels of gemm_sm90.cu, built when the CUDA architectures
// include 90 (MYTENSOR_SM90A). They run the product and return true on a compute capability 9.0
// device when it is large enough to pay (any size when `force`); else they do nothing and return
// false. float uses TF32 tensor cores. The bf16 entry is not wired to any op yet (issue #13).
bool gemm_sm90(const GemmDesc<float>& desc, bool force, int device, cudaStream_t stream);
bool gemm_sm90(const GemmDesc<__nv_bfloat16>& desc, bool force, int device, cudaStream_t stream);

}  // namespace mytensor::cuda
