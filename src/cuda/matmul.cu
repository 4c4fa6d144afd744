// CUDA matrix products: bmm and the GEMM that conv.cu also uses (gemm.h). float32 and float64 run
// a tiled SIMT kernel (double-buffered shared memory, register blocking); float32 with TF32
// allowed runs a tensor-core kernel (mma.sync m16n8k8, three-stage cp.async pipeline). Both take
// either layout of A and B, any M, N, K, two levels of batch strides, split-K when the tiles alone
// would leave the GPU idle, and an epilogue that adds bias / the old C.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cuda/gemm.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/mma.cuh"
#include "cuda/runtime.h"

namespace mytensor::cuda {

namespace {

template <class T>
struct GemmParams {
  GemmDesc<T> d;
  int64_t batches;      // batch_outer * batch_inner
  int64_t splits;       // split-K factor; 1: none
  int64_t k_per_split;  // a multiple of the kernel's BK
  T* workspace;         // splits * batches * m * n partial products when splits > 1
  bool a_vec, b_vec;    // 16-byte aligned runs along each operand's contiguous dim
};

template <class T>
struct BatchPtrs {
  const T* a;
  const T* b;
  T* c;
  const T* bias;
};

template <class T>
__device__ __forceinline__ BatchPtrs<T> batch_ptrs(const GemmDesc<T>& d, int64_t z) {
  int64_t zo = z / d.batch_inner, zi = z - zo * d.batch_inner;
  BatchPtrs<T> p;
  p.a = d.a + zo * d.a_stride_outer + zi * d.a_stride_inner;
  p.b = d.b + zo * d.b_stride_outer + zi * d.b_stride_inner;
  p.c = d.c + zo * d.c_stride_outer + zi * d.c_stride_inner;
  p.bias = d.bias != nullptr ? d.bias + zi * d.bias_stride_inner : nullptr;
  return p;
}

template <class T>
__device__ __forceinline__ void store_c(const GemmDesc<T>& d, const BatchPtrs<T>& bp, int64_t i,
                                        int64_t j, T v) {
  int64_t col = j;
  if (d.c_col_div > 0) {
    int64_t q = j / d.c_col_div;
    col = q * d.c_col_hi + (j - q * d.c_col_div);
  }
  T* dst = bp.c + i * d.ldc + col;
  if (bp.bias != nullptr) v += bp.bias[i];
  if (d.accumulate) v += *dst;
  *dst = v;
}

// The final value of C(i, j), or with split-K the partial sum of split s.
template <class T>
__device__ __forceinline__ void emit(const GemmParams<T>& p, const BatchPtrs<T>& bp, int64_t z,
                                     int64_t s, int64_t i, int64_t j, T v) {
  if (p.splits > 1) {
    p.workspace[((s * p.batches + z) * p.d.m + i) * p.d.n + j] = v;
  } else {
    store_c(p.d, bp, i, j, v);
  }
}

// Block pid -> tile, in groups of 8 tile rows so that concurrently running blocks share panels of
// A and B in L2.
__device__ __forceinline__ void tile_coords(int64_t pid, int64_t tiles_m, int64_t tiles_n,
                                            int64_t* tm, int64_t* tn) {
  constexpr int64_t kGroup = 8;
  int64_t per_group = kGroup * tiles_n;
  int64_t group = pid / per_group;
  int64_t first_m = group * kGroup;
  int64_t gm = tiles_m - first_m < kGroup ? tiles_m - first_m : kGroup;
  int64_t r = pid - group * per_group;
  *tm = first_m + r % gm;
  *tn = r / gm;
}

template <class T, int N>
struct alignas(sizeof(T) * N) VecN {
  T v[N];
};

// N consecutive elements from a run whose start is 16-byte aligned, in loads of at most 16 bytes.
template <int N, class T>
__device__ __forceinline__ void load_run(T (&dst)[N], const T* src) {
  constexpr int kChunk = N * sizeof(T) < 16 ? N : static_cast<int>(16 / sizeof(T));
#pragma unroll
  for (int c = 0; c < N; c += kChunk) {
    VecN<T, kChunk> v = *reinterpret_cast<const VecN<T, kChunk>*>(src + c);
#pragma unroll
    for (int e = 0; e < kChunk; ++e) dst[c + e] = v.v[e];
  }
}

// ---- SIMT kernel ------------------------------------------------------------------------------
// Block tile BM x BN, k-tile BK; each thread owns a TM x TN block of C as (TM/4) x (TN/4) 4x4
// pieces spread over the tile (so its shared-memory reads are 16-byte vectors without bank
// conflicts). A is stored k-major in shared memory (As[k][m]), B as Bs[k][n]; the next k-tile is
// fetched into registers while the current one is multiplied.
template <class T, int BM, int BN, int BK, int TM, int TN, int kMinBlocks, bool kARow, bool kBRow>
__global__ void __launch_bounds__((BM / TM) * (BN / TN), kMinBlocks)
    gemm_simt_kernel(GemmParams<T> p) {
  constexpr int kThreadsX = BN / TN, kThreadsY = BM / TM;
  constexpr int kNT = kThreadsX * kThreadsY;
  constexpr int kAPer = BM * BK / kNT, kBPer = BN * BK / kNT;
  constexpr int kPad = 4;
  static_assert(kARow ? BK % kAPer == 0 : BM % kAPer == 0, "A runs must not straddle a tile row");
  static_assert(kBRow ? BN % kBPer == 0 : BK % kBPer == 0, "B runs must not straddle a tile row");
  __shared__ __align__(32) T As[2][BK][BM + kPad];
  __shared__ __align__(32) T Bs[2][BK][BN + kPad];

  const GemmDesc<T>& d = p.d;
  const int tid = threadIdx.x, tx = tid % kThreadsX, ty = tid / kThreadsX;
  const int64_t tiles_m = (d.m + BM - 1) / BM, tiles_n = (d.n + BN - 1) / BN;
  int64_t tm, tn;
  tile_coords(blockIdx.x, tiles_m, tiles_n, &tm, &tn);
  const int64_t m0 = tm * BM, n0 = tn * BN;

  // This thread's run of kAPer (kBPer) elements along the operand's contiguous dim.
  const int a_lin = tid * kAPer, b_lin = tid * kBPer;
  const int a_i = kARow ? a_lin / BK : a_lin % BM;
  const int a_p = kARow ? a_lin % BK : a_lin / BM;
  const int b_p = kBRow ? b_lin / BN : b_lin % BK;
  const int b_j = kBRow ? b_lin % BN : b_lin / BK;

  for (int64_t zz = blockIdx.z; zz < p.batches * p.splits; zz += gridDim.z) {
    const int64_t z = zz / p.splits, s = zz - z * p.splits;
    const int64_t k_begin = s * p.k_per_split;
    const int64_t k_end = d.k < k_begin + p.k_per_split ? d.k : k_begin + p.k_per_split;
    const BatchPtrs<T> bp = batch_ptrs(d, z);
    const int ktiles = k_end > k_begin ? static_cast<int>((k_end - k_begin + BK - 1) / BK) : 0;

    T a_reg[kAPer], b_reg[kBPer];
    auto load_a = [&](int kt) {
      const int64_t k = k_begin + static_cast<int64_t>(kt) * BK + a_p;
      const int64_t i = m0 + a_i;
      if constexpr (kARow) {
        const T* src = bp.a + i * d.lda + k;
        if (p.a_vec && i < d.m && k + kAPer <= k_end) {
          load_run<kAPer>(a_reg, src);
        } else {
#pragma unroll
          for (int e = 0; e < kAPer; ++e) a_reg[e] = (i < d.m && k + e < k_end) ? src[e] : T(0);
        }
      } else {
        const T* src = bp.a + k * d.lda + i;
        if (p.a_vec && k < k_end && i + kAPer <= d.m) {
          load_run<kAPer>(a_reg, src);
        } else {
#pragma unroll
          for (int e = 0; e < kAPer; ++e) a_reg[e] = (k < k_end && i + e < d.m) ? src[e] : T(0);
        }
      }
    };
    auto load_b = [&](int kt) {
      const int64_t k = k_begin + static_cast<int64_t>(kt) * BK + b_p;
      const int64_t j = n0 + b_j;
      if constexpr (kBRow) {
        const T* src = bp.b + k * d.ldb + j;
        if (p.b_vec && k < k_end && j + kBPer <= d.n) {
          load_run<kBPer>(b_reg, src);
        } else {
#pragma unroll
          for (int e = 0; e < kBPer; ++e) b_reg[e] = (k < k_end && j + e < d.n) ? src[e] : T(0);
        }
      } else {
        const T* src = bp.b + j * d.ldb + k;
        if (p.b_vec && j < d.n && k + kBPer <= k_end) {
          load_run<kBPer>(b_reg, src);
        } else {
#pragma unroll
          for (int e = 0; e < kBPer; ++e) b_reg[e] = (j < d.n && k + e < k_end) ? src[e] : T(0);
        }
      }
    };
    auto store_tiles = [&](int buf) {
#pragma unroll
      for (int e = 0; e < kAPer; ++e) {
        if constexpr (kARow) {
          As[buf][a_p + e][a_i] = a_reg[e];
        } else {
          As[buf][a_p][a_i + e] = a_reg[e];
        }
      }
#pragma unroll
      for (int e = 0; e < kBPer; ++e) {
        if constexpr (kBRow) {
          Bs[buf][b_p][b_j + e] = b_reg[e];
        } else {
          Bs[buf][b_p + e][b_j] = b_reg[e];
        }
      }
    };

    T acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i) {
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] = T(0);
    }

    if (ktiles > 0) {
      load_a(0);
      load_b(0);
      store_tiles(0);
    }
    __syncthreads();
    for (int kt = 0; kt < ktiles; ++kt) {
      const int cur = kt & 1;
      if (kt + 1 < ktiles) {
        load_a(kt + 1);
        load_b(kt + 1);
      }
#pragma unroll
      for (int kk = 0; kk < BK; ++kk) {
        T af[TM], bf[TN];
#pragma unroll
        for (int q = 0; q < TM / 4; ++q) {
          VecN<T, 4> v =
              *reinterpret_cast<const VecN<T, 4>*>(&As[cur][kk][q * (BM / (TM / 4)) + ty * 4]);
#pragma unroll
          for (int e = 0; e < 4; ++e) af[q * 4 + e] = v.v[e];
        }
#pragma unroll
        for (int q = 0; q < TN / 4; ++q) {
          VecN<T, 4> v =
              *reinterpret_cast<const VecN<T, 4>*>(&Bs[cur][kk][q * (BN / (TN / 4)) + tx * 4]);
#pragma unroll
          for (int e = 0; e < 4; ++e) bf[q * 4 + e] = v.v[e];
        }
#pragma unroll
        for (int i = 0; i < TM; ++i) {
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] = fma(af[i], bf[j], acc[i][j]);
        }
      }
      if (kt + 1 < ktiles) store_tiles(cur ^ 1);
      __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int64_t gi = m0 + (i / 4) * (BM / (TM / 4)) + ty * 4 + (i % 4);
      if (gi >= d.m) continue;
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int64_t gj = n0 + (j / 4) * (BN / (TN / 4)) + tx * 4 + (j % 4);
        if (gj < d.n) emit(p, bp, z, s, gi, gj, acc[i][j]);
      }
    }
    __syncthreads();
  }
}

// ---- TF32 tensor-core kernel ------------------------------------------------------------------
// Block tile 128 x 128 x 32 for 4 warps as 2 x 2, each warp 64 x 64 = 4 x 8 mma.m16n8k8 tiles
// (large warp tiles: shared-memory bandwidth, not the tensor cores, limits mma.sync on Hopper).
// Shared-memory rows are padded so that fragment reads are conflict-free for either layout; a
// k-contiguous operand is read with ldmatrix (a b16 8x8 matrix is an 8 x 4 block of floats,
// which is exactly a tf32 fragment). Tiles arrive by cp.async, three stages deep.
constexpr int kTcBM = 128, kTcBN = 128, kTcBK = 32, kTcStages = 3;
constexpr int kTcWarpsN = 2, kTcThreads = 128;
constexpr int kTcMI = 4, kTcNI = 8;  // mma tiles per warp along m and n

template <bool kARow, bool kBRow>
struct TcLayout {
  static constexpr int kAStage = kARow ? kTcBM * (kTcBK + 4) : kTcBK * (kTcBM + 8);
  static constexpr int kBStage = kBRow ? kTcBK * (kTcBN + 8) : kTcBN * (kTcBK + 4);
  static constexpr int kSmemBytes =
      kTcStages * (kAStage + kBStage) * static_cast<int>(sizeof(float));
};

template <bool kARow, bool kBRow>
__global__ void __launch_bounds__(kTcThreads, 2) gemm_tf32_kernel(GemmParams<float> p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using L = TcLayout<kARow, kBRow>;
  constexpr int BM = kTcBM, BN = kTcBN, BK = kTcBK;
  constexpr int kRuns = BM * BK / 4 / kTcThreads;  // 16-byte runs per thread per operand tile
  extern __shared__ float4 smem_f4[];
  float* As = reinterpret_cast<float*>(smem_f4);
  float* Bs = As + kTcStages * L::kAStage;

  const GemmDesc<float>& d = p.d;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp / kTcWarpsN, wn = warp % kTcWarpsN;  // warp tile origin (wm * 64, wn * 64)
  const int g = lane >> 2, t4 = lane & 3;                  // mma fragment coordinates
  const int64_t tiles_m = (d.m + BM - 1) / BM, tiles_n = (d.n + BN - 1) / BN;
  int64_t tm, tn;
  tile_coords(blockIdx.x, tiles_m, tiles_n, &tm, &tn);
  const int64_t m0 = tm * BM, n0 = tn * BN;

  for (int64_t zz = blockIdx.z; zz < p.batches * p.splits; zz += gridDim.z) {
    const int64_t z = zz / p.splits, s = zz - z * p.splits;
    const int64_t k_begin = s * p.k_per_split;
    const int64_t k_end = d.k < k_begin + p.k_per_split ? d.k : k_begin + p.k_per_split;
    const BatchPtrs<float> bp = batch_ptrs(d, z);
    const int ktiles = k_end > k_begin ? static_cast<int>((k_end - k_begin + BK - 1) / BK) : 0;

    auto load_tile = [&](int stage, int kt) {
      float* as = As + stage * L::kAStage;
      float* bs = Bs + stage * L::kBStage;
      const int64_t kbase = k_begin + static_cast<int64_t>(kt) * BK;
#pragma unroll
      for (int q = 0; q < kRuns; ++q) {
        const int c = tid + q * kTcThreads;
        if constexpr (kARow) {
          const int row = c >> 3, kc = (c & 7) * 4;
          const int64_t i = m0 + row, k = kbase + kc;
          copy_run4(as + row * (BK + 4) + kc, bp.a + i * d.lda + k,
                    i < d.m ? clamp_run(k_end - k) : 0, p.a_vec, bp.a);
        } else {
          const int kr = c >> 5, mc = (c & 31) * 4;
          const int64_t i = m0 + mc, k = kbase + kr;
          copy_run4(as + kr * (BM + 8) + mc, bp.a + k * d.lda + i,
                    k < k_end ? clamp_run(d.m - i) : 0, p.a_vec, bp.a);
        }
        if constexpr (kBRow) {
          const int kr = c >> 5, nc = (c & 31) * 4;
          const int64_t j = n0 + nc, k = kbase + kr;
          copy_run4(bs + kr * (BN + 8) + nc, bp.b + k * d.ldb + j,
                    k < k_end ? clamp_run(d.n - j) : 0, p.b_vec, bp.b);
        } else {
          const int row = c >> 3, kc = (c & 7) * 4;
          const int64_t j = n0 + row, k = kbase + kc;
          copy_run4(bs + row * (BK + 4) + kc, bp.b + j * d.ldb + k,
                    j < d.n ? clamp_run(k_end - k) : 0, p.b_vec, bp.b);
        }
      }
    };

    float acc[kTcMI][kTcNI][4];
    zero(acc);
    pipelined_k_loop<kTcStages>(ktiles, load_tile, [&](int stage) {
      mma_k_tile<kTcMI, kTcNI, BK, kARow, kBRow>(
          acc, As + stage * L::kAStage, kARow ? BK + 4 : BM + 8, Bs + stage * L::kBStage,
          kBRow ? BN + 8 : BK + 4, wm * 64, wn * 64, lane);
    });

#pragma unroll
    for (int mi = 0; mi < kTcMI; ++mi) {
#pragma unroll
      for (int ni = 0; ni < kTcNI; ++ni) {
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          const int64_t i = m0 + wm * 64 + mi * 16 + g + (q >> 1) * 8;
          const int64_t j = n0 + wn * 64 + ni * 8 + t4 * 2 + (q & 1);
          if (i < d.m && j < d.n) emit(p, bp, z, s, i, j, acc[mi][ni][q]);
        }
      }
    }
    __syncthreads();  // the next batch's prologue overwrites the stages
  }
#else
  __trap();  // the host only selects this kernel on sm_80 and newer
#endif
}

template <class T>
__global__ void __launch_bounds__(kThreads) gemm_splitk_finish_kernel(GemmParams<T> p) {
  const int64_t mn = p.d.m * p.d.n, total = p.batches * mn;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += stride) {
    const int64_t z = idx / mn, rem = idx - z * mn;
    const int64_t i = rem / p.d.n, j = rem - i * p.d.n;
    T v = T(0);
    for (int64_t s = 0; s < p.splits; ++s) v += p.workspace[(s * p.batches + z) * mn + rem];
    store_c(p.d, batch_ptrs(p.d, z), i, j, v);
  }
}

// ---- host side --------------------------------------------------------------------------------

template <class T>
bool runs_aligned(const T* base, int64_t ld, int64_t s_outer, int64_t s_inner) {
  return reinterpret_cast<uintptr_t>(base) % 16 == 0 && ld % 4 == 0 && s_outer % 4 == 0 &&
         s_inner % 4 == 0;
}

template <bool kARow, bool kBRow>
void launch_tf32(const GemmParams<float>& p, dim3 grid, int device, cudaStream_t stream) {
  static std::atomic<uint32_t> configured{0};
  constexpr int bytes = TcLayout<kARow, kBRow>::kSmemBytes;
  allow_large_smem(gemm_tf32_kernel<kARow, kBRow>, bytes, device, configured);
  gemm_tf32_kernel<kARow, kBRow><<<grid, kTcThreads, bytes, stream>>>(p);
}

template <class T, int BM, int BN, int BK, int TM, int TN, int kMinBlocks>
void launch_simt(const GemmParams<T>& p, dim3 grid, cudaStream_t stream) {
  constexpr int threads = (BM / TM) * (BN / TN);
  if (p.d.a_row && p.d.b_row) {
    gemm_simt_kernel<T, BM, BN, BK, TM, TN, kMinBlocks, true, true>
        <<<grid, threads, 0, stream>>>(p);
  } else if (p.d.a_row) {
    gemm_simt_kernel<T, BM, BN, BK, TM, TN, kMinBlocks, true, false>
        <<<grid, threads, 0, stream>>>(p);
  } else if (p.d.b_row) {
    gemm_simt_kernel<T, BM, BN, BK, TM, TN, kMinBlocks, false, true>
        <<<grid, threads, 0, stream>>>(p);
  } else {
    gemm_simt_kernel<T, BM, BN, BK, TM, TN, kMinBlocks, false, false>
        <<<grid, threads, 0, stream>>>(p);
  }
}

// The SIMT tile shapes: 128 x 128 (8 x 8 per thread) where such tiles fill the GPU, 64 x 128 for
// products only 64 rows tall (convolutions with 64 output channels), 64 x 64 otherwise; double
// always 64 x 64, whose 8 x 8 register block would not fit. k-tiles of 16 halve the barriers per
// FMA against 8 (measured on an H200: 75% of cuBLAS at 2048^3 against 70%).
constexpr int kSimtBK = 16, kSimtMinBlocks = 1;

template <class T>
void gemm_impl(const GemmDesc<T>& d, bool tf32, int device, cudaStream_t stream) {
  const int64_t batches = d.batch_outer * d.batch_inner;
  if (d.m == 0 || d.n == 0 || batches == 0) return;
  const int64_t sms = sm_count(device);
  tf32 = tf32 && std::is_same_v<T, float> && compute_capability_major(device) >= 8;

  auto tile_count = [&](int64_t tm, int64_t tn) {
    return ((d.m + tm - 1) / tm) * ((d.n + tn - 1) / tn) * batches;
  };
  int bm = 64, bn = 64, bk = kSimtBK;
  if (tf32) {
    bm = kTcBM, bn = kTcBN, bk = kTcBK;
  } else if (std::is_same_v<T, float> && d.m <= 64 && tile_count(64, 128) >= sms) {
    bn = 128;
  } else if (std::is_same_v<T, float> && tile_count(128, 128) >= sms) {
    bm = 128, bn = 128;
  }
  const int64_t tiles = ((d.m + bm - 1) / bm) * ((d.n + bn - 1) / bn);
  MT_CHECK(tiles <= INT32_MAX, ShapeError, "[matmul] a ", d.m, " x ", d.n,
           " product has too many tiles");

  GemmParams<T> p;
  p.d = d;
  p.batches = batches;
  p.splits = 1;
  p.k_per_split = std::max<int64_t>((d.k + bk - 1) / bk * bk, bk);
  p.workspace = nullptr;
  p.a_vec = runs_aligned(d.a, d.lda, d.a_stride_outer, d.a_stride_inner);
  p.b_vec = runs_aligned(d.b, d.ldb, d.b_stride_outer, d.b_stride_inner);

  // Split-K when the tiles would not fill the GPU and K is deep: each split at least 512 deep,
  // and at most 256 MiB of partial sums.
  Tensor workspace;
  if (tiles * batches < sms && d.k >= 1024) {
    int64_t want =
        std::min<int64_t>({(2 * sms + tiles * batches - 1) / (tiles * batches), d.k / 512, 64});
    int64_t by_memory =
        (int64_t(256) << 20) / (batches * d.m * d.n * static_cast<int64_t>(sizeof(T)));
    want = std::min(want, by_memory);
    if (want > 1) {
      p.k_per_split = ((d.k + want - 1) / want + bk - 1) / bk * bk;
      p.splits = (d.k + p.k_per_split - 1) / p.k_per_split;
    }
    if (p.splits > 1) {
      workspace = Tensor::empty(Shape{p.splits * batches * d.m * d.n},
                                std::is_same_v<T, float> ? DType::Float32 : DType::Float64,
                                Device{DeviceType::CUDA, device});
      p.workspace = static_cast<T*>(workspace.data_ptr());
    }
  }

  dim3 grid(static_cast<unsigned>(tiles), 1,
            static_cast<unsigned>(std::min<int64_t>(batches * p.splits, 65535)));
  if constexpr (std::is_same_v<T, float>) {
    if (tf32) {
      if (d.a_row && d.b_row) {
        launch_tf32<true, true>(p, grid, device, stream);
      } else if (d.a_row) {
        launch_tf32<true, false>(p, grid, device, stream);
      } else if (d.b_row) {
        launch_tf32<false, true>(p, grid, device, stream);
      } else {
        launch_tf32<false, false>(p, grid, device, stream);
      }
    } else if (bm == 128) {
      launch_simt<float, 128, 128, kSimtBK, 8, 8, kSimtMinBlocks>(p, grid, stream);
    } else if (bn == 128) {
      launch_simt<float, 64, 128, kSimtBK, 4, 8, kSimtMinBlocks>(p, grid, stream);
    } else {
      launch_simt<float, 64, 64, kSimtBK, 4, 4, kSimtMinBlocks>(p, grid, stream);
    }
  } else {
    launch_simt<double, 64, 64, kSimtBK, 4, 4, kSimtMinBlocks>(p, grid, stream);
  }
  check_launch("gemm", stream);
  if (p.splits > 1) {
    gemm_splitk_finish_kernel<T>
        <<<grid_for(batches * d.m * d.n, kThreads, device), kThreads, 0, stream>>>(p);
    check_launch("gemm_splitk_finish", stream);
  }
}

// Layout of a (rows x cols) matrix view with strides (s_row, s_col): row-major when the columns
// are unit-stride, column-major when the rows are; a size-1 dim makes its stride irrelevant.
bool matrix_layout(int64_t rows, int64_t cols, int64_t s_row, int64_t s_col, bool* row_major,
                   int64_t* ld) {
  if (s_col == 1 || cols == 1) {
    *row_major = true;
    *ld = rows == 1 ? 0 : s_row;
    return true;
  }
  if (s_row == 1 || rows == 1) {
    *row_major = false;
    *ld = cols == 1 ? 0 : s_col;
    return true;
  }
  return false;
}

// A (B, R, C) operand as the GEMM reads it; falls back to a contiguous copy for other layouts.
template <class T>
const T* gemm_operand(const Tensor& t, bool* row_major, int64_t* ld, int64_t* batch_stride,
                      Tensor* holder) {
  const int64_t rows = t.size(1), cols = t.size(2);
  if (matrix_layout(rows, cols, t.strides()[1], t.strides()[2], row_major, ld)) {
    *batch_stride = t.size(0) == 1 ? 0 : t.strides()[0];
    return t.data<T>();
  }
  *holder = Tensor::empty(t.shape(), t.dtype(), t.device());
  copy(t, *holder);
  *row_major = true;
  *ld = cols;
  *batch_stride = rows * cols;
  return holder->data<T>();
}

}  // namespace

namespace {

// MYTENSOR_GEMM (read once) forces one float32 path, for tests and benchmarks: sm90 (the Hopper
// wgmma kernel whenever the device is 9.0, any size, TF32), mma (the mma.sync TF32 kernel) or
// simt (exact float32). Unset or anything else: chosen by allow_tf32, the device and the shape.
enum class GemmPath { kAuto, kSm90, kMma, kSimt };

GemmPath forced_gemm_path() {
  static const GemmPath path = [] {
    const char* v = std::getenv("MYTENSOR_GEMM");
    if (v == nullptr) return GemmPath::kAuto;
    const std::string s(v);
    if (s == "sm90") return GemmPath::kSm90;
    if (s == "mma") return GemmPath::kMma;
    if (s == "simt") return GemmPath::kSimt;
    return GemmPath::kAuto;
  }();
  return path;
}

}  // namespace

void gemm(const GemmDesc<float>& desc, bool allow_tf32, int device, cudaStream_t stream) {
  const GemmPath path = forced_gemm_path();
  if (path == GemmPath::kMma) allow_tf32 = true;
  if (path == GemmPath::kSimt) allow_tf32 = false;
#if defined(MYTENSOR_SM90A)
  if ((path == GemmPath::kSm90 || (path == GemmPath::kAuto && allow_tf32)) &&
      gemm_sm90(desc, path == GemmPath::kSm90, device, stream)) {
    return;
  }
#endif
  gemm_impl<float>(desc, allow_tf32, device, stream);
}

void gemm(const GemmDesc<double>& desc, int device, cudaStream_t stream) {
  gemm_impl<double>(desc, false, device, stream);
}

void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate) {
  const int64_t batch = out.size(0), m = out.size(1), n = out.size(2), k = a.size(2);
  if (batch == 0 || m == 0 || n == 0) return;
  LaunchContext ctx(out);
  dispatch<Accepts::Floating>(out.dtype(), "matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    GemmDesc<T> d;
    Tensor a_holder, b_holder;
    d.m = m;
    d.n = n;
    d.k = k;
    d.a = gemm_operand<T>(a, &d.a_row, &d.lda, &d.a_stride_outer, &a_holder);
    d.b = gemm_operand<T>(b, &d.b_row, &d.ldb, &d.b_stride_outer, &b_holder);
    d.c = out.data<T>();
    d.ldc = n;
    d.batch_outer = batch;
    d.c_stride_outer = m * n;
    d.accumulate = accumulate;
    if constexpr (std::is_same_v<T, float>) {
      gemm(d, allow_tf32_matmul(), ctx.device, ctx.stream);
    } else {
      gemm(d, ctx.device, ctx.stream);
    }
  });
}

}  // namespace mytensor::cuda
