// Tensor-core building blocks shared by the TF32 GEMM (matmul.cu) and the implicit-GEMM
// convolutions (conv.cu): cp.async copies into shared memory, ldmatrix fragment loads and the
// mma.sync m16n8k8 TF32 instruction (sm_80 and newer; callers guard with __CUDA_ARCH__).
#pragma once
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>

#include "cuda/cuda_check.h"

namespace mytensor::cuda {

__device__ __forceinline__ void cp_async16(float* smem, const float* gmem, int src_bytes) {
  unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem),
               "r"(src_bytes));
}

__device__ __forceinline__ void cp_async4(float* smem, const float* gmem, int src_bytes) {
  unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(s), "l"(gmem),
               "r"(src_bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// Four floats at `src` of which `valid` are in bounds; the rest of the destination is zeroed
// (cp.async's src-size), and an out-of-bounds run reads nothing (a safe address is passed).
__device__ __forceinline__ void copy_run4(float* dst, const float* src, int valid, bool vec,
                                          const float* safe) {
  if (vec) {
    cp_async16(dst, valid > 0 ? src : safe, valid * 4);
  } else {
#pragma unroll
    for (int e = 0; e < 4; ++e) cp_async4(dst + e, e < valid ? src + e : safe, e < valid ? 4 : 0);
  }
}

// How many of the four elements from a run's start lie before the end (0 to 4).
__device__ __forceinline__ int clamp_run(int64_t remaining) {
  return remaining <= 0 ? 0 : (remaining >= 4 ? 4 : static_cast<int>(remaining));
}

__device__ __forceinline__ uint32_t to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
}

// Lane l supplies the address of row (l & 7) of 8x8 matrix (l >> 3) and receives word (l & 3) of
// row (l >> 2) of each of the four matrices.
__device__ __forceinline__ void ldmatrix_x4_tf32(uint32_t (&r)[4], const float* smem) {
  unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s));
#pragma unroll
  for (int i = 0; i < 4; ++i) r[i] = to_tf32(__uint_as_float(r[i]));
}

__device__ __forceinline__ void mma_tf32(float (&c)[4], const uint32_t (&a)[4],
                                         const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Lets a dynamic-shared-memory kernel use more than 48 KiB, once per device.
template <class Kernel>
inline void allow_large_smem(Kernel kernel, int bytes, int device, std::atomic<uint32_t>& done) {
  uint32_t bit = device < 32 ? (1u << device) : 0u;
  if (bit != 0 && (done.load() & bit)) return;
  MT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  done.fetch_or(bit);
}

}  // namespace mytensor::cuda
