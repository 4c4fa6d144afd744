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

// ---- the k loop of a tensor-core tile ------------------------------------------------------------
// Both TF32 kernels (the GEMM of matmul.cu, the implicit-GEMM convolutions of conv.cu) run the same
// k loop; only how tiles are loaded and where results go differ.

// A warp's MI x NI m16n8k8 tiles over one BK-deep shared-memory k-tile: acc[mi][ni] += A(rows
// row0 + 16 mi.., k) x B(k, cols col0 + 8 ni..). A is stored [rows][a_stride] with k contiguous
// (kARow, read by ldmatrix) or [k][a_stride]; B [k][b_stride] with n contiguous (kBRow) or
// [cols][b_stride] (read by ldmatrix). Padded strides keep every fragment read conflict-free.
template <int MI, int NI, int BK, bool kARow, bool kBRow>
__device__ __forceinline__ void mma_k_tile(float (&acc)[MI][NI][4], const float* as, int a_stride,
                                           const float* bs, int b_stride, int row0, int col0,
                                           int lane) {
  const int g = lane >> 2, t4 = lane & 3;  // mma fragment coordinates
  // Two k-steps at a time: fully unrolled, the fragments of all four would not fit in registers.
#pragma unroll 2
  for (int kk = 0; kk < BK / 8; ++kk) {
    uint32_t af[MI][4], bf[NI][2];
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      if constexpr (kARow) {
        // matrices: (rows +0, k +0), (rows +8, k +0), (rows +0, k +4), (rows +8, k +4)
        const int row = row0 + mi * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
        ldmatrix_x4_tf32(af[mi], as + row * a_stride + kk * 8 + (lane >> 4) * 4);
      } else {
        const int r = row0 + mi * 16 + g, k = kk * 8 + t4;
        af[mi][0] = to_tf32(as[k * a_stride + r]);
        af[mi][1] = to_tf32(as[k * a_stride + r + 8]);
        af[mi][2] = to_tf32(as[(k + 4) * a_stride + r]);
        af[mi][3] = to_tf32(as[(k + 4) * a_stride + r + 8]);
      }
    }
#pragma unroll
    for (int ni = 0; ni < NI; ni += 2) {
      if constexpr (kBRow) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int col = col0 + (ni + h) * 8 + g, k = kk * 8 + t4;
          bf[ni + h][0] = to_tf32(bs[k * b_stride + col]);
          bf[ni + h][1] = to_tf32(bs[(k + 4) * b_stride + col]);
        }
      } else {
        // matrices: (n +0, k +0), (n +0, k +4), (n +8, k +0), (n +8, k +4)
        uint32_t r4[4];
        const int row = col0 + ni * 8 + (lane & 7) + (lane >> 4) * 8;
        ldmatrix_x4_tf32(r4, bs + row * b_stride + kk * 8 + ((lane >> 3) & 1) * 4);
        bf[ni][0] = r4[0];
        bf[ni][1] = r4[1];
        bf[ni + 1][0] = r4[2];
        bf[ni + 1][1] = r4[3];
      }
    }
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int ni = 0; ni < NI; ++ni) mma_tf32(acc[mi][ni], af[mi], bf[ni]);
    }
  }
}

// The cp.async pipeline over `ktiles` k-tiles, kStages deep: load_tile(stage, kt) issues the copies
// of tile kt into a stage, compute(stage) consumes one. All copies have landed when it returns.
template <int kStages, class Load, class Compute>
__device__ __forceinline__ void pipelined_k_loop(int ktiles, Load&& load_tile, Compute&& compute) {
#pragma unroll
  for (int st = 0; st < kStages - 1; ++st) {
    if (st < ktiles) load_tile(st, st);
    cp_async_commit();
  }
  for (int kt = 0; kt < ktiles; ++kt) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // tile kt has landed for every thread; stage (kt - 1) is free again
    const int pf = kt + kStages - 1;
    if (pf < ktiles) load_tile(pf % kStages, pf);
    cp_async_commit();
    compute(kt % kStages);
  }
  cp_async_wait<0>();
}

template <int MI, int NI>
__device__ __forceinline__ void zero(float (&acc)[MI][NI][4]) {
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int ni = 0; ni < NI; ++ni) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[mi][ni][q] = 0.0f;
    }
  }
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
