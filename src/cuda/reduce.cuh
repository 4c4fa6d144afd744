// The CUDA reduction engine: reduces a contiguous (outer, r, inner) tensor along r with a
// pluggable Op, used by reduce.cu (sum, max, var, logsumexp, softmax) and loss.cu. Rows
// (inner == 1) get a warp or a block each; columns (inner > 1) get 32 outputs x 8 slices of r per
// block; when that leaves the GPU idle (few outputs, long r) r is also split across blocks and the
// partial results are combined by a second kernel.
//
// An Op provides:
//   using acc_t;                                      // the running state
//   acc_t identity() const;
//   acc_t reduce(acc_t a, int64_t flat, int64_t k) const;  // add element `flat` (position k on r)
//   acc_t combine(acc_t a, acc_t b) const;
//   acc_t shfl_xor(acc_t a, int lane_mask) const;
//   void write(acc_t a, int64_t j) const;              // result of output j = o * inner + i
// Two-pass ops (softmax) instead provide finalize(acc_t) and write_elem(final, flat), which every
// element of the slice receives; their combine must be commutative, since every lane uses its own
// butterfly result.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "core/functors.h"
#include "core/kernel_params.h"
#include "core/tensor_impl.h"
#include "cuda/launch.cuh"

namespace mytensor::cuda {

constexpr int kReduceThreads = 256;
constexpr int64_t kWarpRowLimit = 1024;  // rows up to this long get one warp, longer ones a block

template <class T>
__device__ __forceinline__ T shfl_xor_any(T v, int mask) {
  if constexpr (sizeof(T) < 4) {
    return static_cast<T>(__shfl_xor_sync(0xffffffffu, static_cast<int>(v), mask));
  } else {
    return __shfl_xor_sync(0xffffffffu, v, mask);
  }
}

template <class Op>
__device__ __forceinline__ typename Op::acc_t warp_allreduce(const Op& op, typename Op::acc_t a) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) a = op.combine(a, op.shfl_xor(a, m));
  return a;
}

// Every thread of the (1-D) block gets the same result, combined in the same order.
template <class Op>
__device__ __forceinline__ typename Op::acc_t block_allreduce(const Op& op, typename Op::acc_t a,
                                                              typename Op::acc_t* smem) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  a = warp_allreduce(op, a);
  if (lane == 0) smem[warp] = a;
  __syncthreads();
  typename Op::acc_t r = smem[0];
  for (int w = 1; w < nwarps; ++w) r = op.combine(r, smem[w]);
  __syncthreads();  // smem is reused by the next row
  return r;
}

// inner == 1. grid.y splits r into chunks of r_per_split; partial != nullptr collects them.
template <class Op, bool kBlockPerRow, bool kTwoPass>
__global__ void __launch_bounds__(kReduceThreads)
    reduce_rows_kernel(Op op, int64_t rows, int64_t r, int64_t r_per_split,
                       typename Op::acc_t* partial) {
  using acc_t = typename Op::acc_t;
  __shared__ __align__(16) unsigned char smem_raw[32 * sizeof(acc_t)];
  acc_t* smem = reinterpret_cast<acc_t*>(smem_raw);
  const int64_t k0 = static_cast<int64_t>(blockIdx.y) * r_per_split;
  const int64_t k1 = std::min(r, k0 + r_per_split);
  if constexpr (kBlockPerRow) {
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
      const int64_t base = row * r;
      // Long rows: four independent accumulators keep four loads in flight per thread.
      const int64_t step = blockDim.x;
      acc_t a = op.identity(), a1 = op.identity(), a2 = op.identity(), a3 = op.identity();
      int64_t k = k0 + threadIdx.x;
      for (; k + 3 * step < k1; k += 4 * step) {
        a = op.reduce(a, base + k, k);
        a1 = op.reduce(a1, base + k + step, k + step);
        a2 = op.reduce(a2, base + k + 2 * step, k + 2 * step);
        a3 = op.reduce(a3, base + k + 3 * step, k + 3 * step);
      }
      for (; k < k1; k += step) a = op.reduce(a, base + k, k);
      a = op.combine(op.combine(a, a1), op.combine(a2, a3));
      a = block_allreduce(op, a, smem);
      if constexpr (kTwoPass) {
        auto f = op.finalize(a);
        for (int64_t k = k0 + threadIdx.x; k < k1; k += blockDim.x) op.write_elem(f, base + k);
      } else if (threadIdx.x == 0) {
        if (partial != nullptr) {
          partial[blockIdx.y * rows + row] = a;
        } else {
          op.write(a, row);
        }
      }
    }
  } else {
    const int lane = threadIdx.x & 31;
    const int64_t warps = blockDim.x >> 5;
    for (int64_t row = blockIdx.x * warps + (threadIdx.x >> 5); row < rows; row += gridDim.x * warps) {
      const int64_t base = row * r;
      acc_t a = op.identity();
      for (int64_t k = k0 + lane; k < k1; k += 32) a = op.reduce(a, base + k, k);
      a = warp_allreduce(op, a);
      if constexpr (kTwoPass) {
        auto f = op.finalize(a);
        for (int64_t k = k0 + lane; k < k1; k += 32) op.write_elem(f, base + k);
      } else if (lane == 0) {
        if (partial != nullptr) {
          partial[blockIdx.y * rows + row] = a;
        } else {
          op.write(a, row);
        }
      }
    }
  }
}

// inner > 1: block (32, 8); x walks 32 consecutive outputs (coalesced), y splits r.
template <class Op, bool kTwoPass>
__global__ void __launch_bounds__(kReduceThreads)
    reduce_cols_kernel(Op op, int64_t outer, int64_t r, int64_t inner, int64_t r_per_split,
                       typename Op::acc_t* partial) {
  using acc_t = typename Op::acc_t;
  __shared__ __align__(16) unsigned char smem_raw[8 * 32 * sizeof(acc_t)];
  acc_t* smem = reinterpret_cast<acc_t*>(smem_raw);
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t nout = outer * inner;
  const int64_t k0 = static_cast<int64_t>(blockIdx.y) * r_per_split;
  const int64_t k1 = std::min(r, k0 + r_per_split);
  for (int64_t j0 = static_cast<int64_t>(blockIdx.x) * 32; j0 < nout; j0 += static_cast<int64_t>(gridDim.x) * 32) {
    const int64_t j = j0 + tx;
    acc_t a = op.identity();
    int64_t base = 0;
    if (j < nout) {
      int64_t o = j / inner;
      base = o * r * inner + (j - o * inner);
      for (int64_t k = k0 + ty; k < k1; k += 8) a = op.reduce(a, base + k * inner, k);
    }
    smem[ty * 32 + tx] = a;
    __syncthreads();
    if constexpr (kTwoPass) {
      acc_t t = smem[tx];
      for (int w = 1; w < 8; ++w) t = op.combine(t, smem[w * 32 + tx]);
      auto f = op.finalize(t);
      if (j < nout) {
        for (int64_t k = k0 + ty; k < k1; k += 8) op.write_elem(f, base + k * inner);
      }
    } else if (ty == 0 && j < nout) {
      acc_t t = smem[tx];
      for (int w = 1; w < 8; ++w) t = op.combine(t, smem[w * 32 + tx]);
      if (partial != nullptr) {
        partial[blockIdx.y * nout + j] = t;
      } else {
        op.write(t, j);
      }
    }
    __syncthreads();
  }
}

template <class Op>
__global__ void __launch_bounds__(kReduceThreads)
    reduce_finish_kernel(Op op, const typename Op::acc_t* partial, int64_t splits, int64_t nout) {
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < nout; j += stride) {
    typename Op::acc_t a = partial[j];
    for (int64_t s = 1; s < splits; ++s) a = op.combine(a, partial[s * nout + j]);
    op.write(a, j);
  }
}

// Splits r into equal chunks (the last may be shorter) so that each is at least min_chunk long.
inline void split_r(int64_t r, int64_t want, int64_t min_chunk, int64_t* splits, int64_t* per_split) {
  int64_t s = std::max<int64_t>(1, std::min<int64_t>({want, (r + min_chunk - 1) / min_chunk, 65535}));
  int64_t per = std::max<int64_t>(1, (r + s - 1) / s);
  *per_split = per;
  *splits = std::max<int64_t>(1, (r + per - 1) / per);
}

// Single-pass reduction: op.write() receives each of the outer * inner results.
template <class Op>
void launch_reduce(const char* name, const Op& op, const ReduceDims& d, int device, cudaStream_t stream) {
  using acc_t = typename Op::acc_t;
  const int64_t nout = d.outer * d.inner;
  if (nout == 0) return;
  const int64_t sms = sm_count(device);
  int64_t splits = 1, per_split = std::max<int64_t>(d.r, 1);
  dim3 grid, block;
  bool rows = d.inner == 1;
  bool warp_rows = rows && d.r <= kWarpRowLimit;
  if (warp_rows) {
    grid = dim3(grid_for(d.outer, kReduceThreads / 32, device));
    block = dim3(kReduceThreads);
  } else if (rows) {
    if (d.outer < 2 * sms) split_r(d.r, (4 * sms + d.outer - 1) / d.outer, 4096, &splits, &per_split);
    grid = dim3(static_cast<unsigned>(std::min<int64_t>(d.outer, sms * 16)), static_cast<unsigned>(splits));
    block = dim3(kReduceThreads);
  } else {
    int64_t bx = (nout + 31) / 32;
    if (bx < 2 * sms && d.r >= 256) split_r(d.r, (4 * sms + bx - 1) / bx, 64, &splits, &per_split);
    grid = dim3(static_cast<unsigned>(std::min<int64_t>(bx, sms * 16)), static_cast<unsigned>(splits));
    block = dim3(32, 8);
  }
  Tensor workspace;
  acc_t* partial = nullptr;
  if (splits > 1) {
    workspace = Tensor::empty({static_cast<int64_t>(splits * nout * sizeof(acc_t))}, DType::UInt8,
                              Device{DeviceType::CUDA, device});
    partial = static_cast<acc_t*>(workspace.data_ptr());
  }
  if (warp_rows) {
    reduce_rows_kernel<Op, false, false><<<grid, block, 0, stream>>>(op, d.outer, d.r, per_split, partial);
  } else if (rows) {
    reduce_rows_kernel<Op, true, false><<<grid, block, 0, stream>>>(op, d.outer, d.r, per_split, partial);
  } else {
    reduce_cols_kernel<Op, false><<<grid, block, 0, stream>>>(op, d.outer, d.r, d.inner, per_split, partial);
  }
  check_launch(name, stream);
  if (splits > 1) {
    reduce_finish_kernel<Op><<<grid_for(nout, kReduceThreads, device), kReduceThreads, 0, stream>>>(
        op, partial, splits, nout);
    check_launch(name, stream);
  }
}

// Two-pass reduction (softmax and its backward): every element of a slice is rewritten from the
// slice's reduced value. A slice is never split across blocks.
template <class Op>
void launch_reduce_two_pass(const char* name, const Op& op, const ReduceDims& d, int device,
                            cudaStream_t stream) {
  const int64_t nout = d.outer * d.inner;
  if (nout == 0 || d.r == 0) return;
  const int64_t sms = sm_count(device);
  if (d.inner == 1 && d.r <= kWarpRowLimit) {
    reduce_rows_kernel<Op, false, true>
        <<<grid_for(d.outer, kReduceThreads / 32, device), kReduceThreads, 0, stream>>>(
            op, d.outer, d.r, d.r, nullptr);
  } else if (d.inner == 1) {
    unsigned grid = static_cast<unsigned>(std::min<int64_t>(d.outer, sms * 16));
    reduce_rows_kernel<Op, true, true><<<grid, kReduceThreads, 0, stream>>>(op, d.outer, d.r, d.r, nullptr);
  } else {
    unsigned grid = static_cast<unsigned>(std::min<int64_t>((nout + 31) / 32, sms * 16));
    reduce_cols_kernel<Op, true><<<grid, dim3(32, 8), 0, stream>>>(op, d.outer, d.r, d.inner, d.r, nullptr);
  }
  check_launch(name, stream);
}

// ---- shared accumulators ----------------------------------------------------------------------

// Online logsumexp state: the running max m and sum of exp(x - m). +-inf and NaN follow
// PyTorch: an all -inf slice gives -inf, any +inf gives +inf, any NaN gives NaN.
template <class T>
struct Lse {
  T m, s;
};

template <class T>
__device__ __forceinline__ Lse<T> lse_identity() {
  return {-INFINITY, T(0)};
}

template <class T>
__device__ __forceinline__ Lse<T> lse_add(Lse<T> a, T x) {
  if (x != x) return {a.m, x};
  if (x > a.m) return {x, a.s * functors::exp_(a.m - x) + T(1)};
  if (x == a.m) return {a.m, a.s + T(1)};  // also +-inf == +-inf, where x - m would be NaN
  return {a.m, a.s + functors::exp_(x - a.m)};
}

template <class T>
__device__ __forceinline__ Lse<T> lse_combine(Lse<T> a, Lse<T> b) {
  if (b.m > a.m) {
    Lse<T> t = a;
    a = b;
    b = t;
  }
  if (b.m == a.m) return {a.m, a.s + b.s};
  return {a.m, a.s + b.s * functors::exp_(b.m - a.m)};
}

template <class T>
__device__ __forceinline__ Lse<T> lse_shfl_xor(Lse<T> a, int mask) {
  return {shfl_xor_any(a.m, mask), shfl_xor_any(a.s, mask)};
}

}  // namespace mytensor::cuda
