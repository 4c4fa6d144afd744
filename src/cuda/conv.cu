// CUDA 2-d convolution. float32 with TF32 allowed (the default, as in PyTorch) runs an implicit
// GEMM on tensor cores that reads the input through im2col index arithmetic (no column buffer);
// everything else runs im2col + the GEMM of matmul.cu. Columns are laid out (C*KH*KW, n*OH*OW)
// for a chunk of n samples, so one GEMM covers the chunk; its epilogue writes straight into NCHW
// and adds the bias. 1x1 stride-1 unpadded convolutions skip im2col and multiply the input in
// place.
#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cuda/gemm.h"
#if defined(MYTENSOR_SM90A)
#include "cuda/conv_sm90.h"
#endif
#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/mma.cuh"
#include "cuda/runtime.h"

namespace mytensor::cuda {

namespace {

// The column buffer of a chunk holds at most this many elements (128 MiB of float32).
constexpr int64_t kColumnBudget = int64_t(32) << 20;

struct ConvGeometry {
  int64_t n, c, h, w;      // input
  int64_t o, kh, kw;       // weight (o, c / groups, kh, kw)
  int64_t oh, ow;          // output
  int64_t groups, cg, og;  // channels per group
  int64_t ckk;             // GEMM depth per group: cg * kh * kw
  int64_t ohw;
  Conv2dParams p;

  ConvGeometry(const Shape& x, const Shape& wt, const Shape& out, const Conv2dParams& prm)
      : n(x[0]),
        c(x[1]),
        h(x[2]),
        w(x[3]),
        o(wt[0]),
        kh(wt[2]),
        kw(wt[3]),
        oh(out[2]),
        ow(out[3]),
        groups(prm.groups),
        cg(wt[1]),
        og(wt[0] / prm.groups),
        ckk(wt[1] * wt[2] * wt[3]),
        ohw(out[2] * out[3]),
        p(prm) {}

  bool pointwise() const {
    return kh == 1 && kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0;
  }
  // Samples per chunk: the column buffer stays within budget, and 32-bit indices cover a chunk.
  int64_t chunk() const {
    int64_t per_sample = std::max<int64_t>(c * kh * kw * ohw, 1);
    int64_t cap = std::max<int64_t>(kColumnBudget / per_sample, 1);
    cap = std::min<int64_t>(cap, std::max<int64_t>(INT32_MAX / std::max<int64_t>(c * h * w, 1), 1));
    cap = std::min<int64_t>(cap, std::max<int64_t>(INT32_MAX / std::max<int64_t>(ohw, 1), 1));
    return std::min(n, cap);
  }
};

struct ColParams {
  int c, h, w, kh, kw, oh, ow;
  int sh, sw, ph, pw, dh, dw;
};

ColParams col_params(const ConvGeometry& g) {
  return {static_cast<int>(g.c),           static_cast<int>(g.h),
          static_cast<int>(g.w),           static_cast<int>(g.kh),
          static_cast<int>(g.kw),          static_cast<int>(g.oh),
          static_cast<int>(g.ow),          static_cast<int>(g.p.stride_h),
          static_cast<int>(g.p.stride_w),  static_cast<int>(g.p.pad_h),
          static_cast<int>(g.p.pad_w),     static_cast<int>(g.p.dilation_h),
          static_cast<int>(g.p.dilation_w)};
}

// col[(c, i, j)][(s, y, x)] = x[s, c, y*sh - ph + i*dh, x*sw - pw + j*dw], 0 in the padding.
// One row of col per grid.y step, so the (c, i, j) decomposition happens once per row.
template <class T>
__global__ void __launch_bounds__(kThreads)
    im2col_kernel(const T* x, T* col, int64_t rows, uint32_t cols, ColParams cp,
                  IntDivider32 by_ohw, IntDivider32 by_ow) {
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const int j = static_cast<int>(row % cp.kw);
    const int i = static_cast<int>((row / cp.kw) % cp.kh);
    const int64_t c = row / (static_cast<int64_t>(cp.kw) * cp.kh);
    T* dst = col + row * cols;
    for (uint32_t q = blockIdx.x * blockDim.x + threadIdx.x; q < cols;
         q += gridDim.x * blockDim.x) {
      const uint32_t s = by_ohw.div(q), pq = q - s * by_ohw.divisor;
      const uint32_t y = by_ow.div(pq), xo = pq - y * by_ow.divisor;
      const int hi = static_cast<int>(y) * cp.sh - cp.ph + i * cp.dh;
      const int wi = static_cast<int>(xo) * cp.sw - cp.pw + j * cp.dw;
      T v = T(0);
      if (hi >= 0 && hi < cp.h && wi >= 0 && wi < cp.w) {
        v = x[((static_cast<int64_t>(s) * cp.c + c) * cp.h + hi) * cp.w + wi];
      }
      dst[q] = v;
    }
  }
}

// The adjoint of im2col, as a gather (no atomics, deterministic): each input element sums the
// column entries that read it.
template <class T>
__global__ void __launch_bounds__(kThreads)
    col2im_kernel(const T* col, T* x, uint32_t total, uint32_t cols, ColParams cp,
                  IntDivider32 by_w, IntDivider32 by_h, IntDivider32 by_c) {
  const uint32_t ohw = static_cast<uint32_t>(cp.oh) * cp.ow;
  for (uint32_t idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
       idx += gridDim.x * blockDim.x) {
    uint32_t t = by_w.div(idx);
    const int wi = static_cast<int>(idx - t * by_w.divisor);
    uint32_t t2 = by_h.div(t);
    const int hi = static_cast<int>(t - t2 * by_h.divisor);
    const uint32_t s = by_c.div(t2);
    const int64_t c = t2 - s * by_c.divisor;
    T acc = T(0);
    for (int i = 0; i < cp.kh; ++i) {
      const int hn = hi + cp.ph - i * cp.dh;
      if (hn < 0 || hn % cp.sh != 0) continue;
      const int y = hn / cp.sh;
      if (y >= cp.oh) continue;
      for (int j = 0; j < cp.kw; ++j) {
        const int wn = wi + cp.pw - j * cp.dw;
        if (wn < 0 || wn % cp.sw != 0) continue;
        const int xo = wn / cp.sw;
        if (xo >= cp.ow) continue;
        const int64_t row = (c * cp.kh + i) * cp.kw + j;
        acc +=
            col[row * cols + static_cast<int64_t>(s) * ohw + static_cast<int64_t>(y) * cp.ow + xo];
      }
    }
    x[idx] = acc;
  }
}

template <class T>
void im2col(const T* x, T* col, const ConvGeometry& g, int64_t samples, int device,
            cudaStream_t stream) {
  const int64_t rows = g.c * g.kh * g.kw, cols = samples * g.ohw;
  if (rows == 0 || cols == 0) return;
  dim3 grid(grid_for(cols, kThreads, device, 8),
            static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
  im2col_kernel<T><<<grid, kThreads, 0, stream>>>(
      x, col, rows, static_cast<uint32_t>(cols), col_params(g),
      IntDivider32(static_cast<uint32_t>(g.ohw)), IntDivider32(static_cast<uint32_t>(g.ow)));
  check_launch("im2col", stream);
}

template <class T>
void col2im(const T* col, T* x, const ConvGeometry& g, int64_t samples, int device,
            cudaStream_t stream) {
  const int64_t total = samples * g.c * g.h * g.w;
  if (total == 0) return;
  col2im_kernel<T><<<grid_for(total, kThreads, device), kThreads, 0, stream>>>(
      col, x, static_cast<uint32_t>(total), static_cast<uint32_t>(samples * g.ohw), col_params(g),
      IntDivider32(static_cast<uint32_t>(g.w)), IntDivider32(static_cast<uint32_t>(g.h)),
      IntDivider32(static_cast<uint32_t>(g.c)));
  check_launch("col2im", stream);
}

template <class T>
void run_gemm(const GemmDesc<T>& d, int device, cudaStream_t stream) {
  if constexpr (std::is_same_v<T, float>) {
    gemm(d, allow_tf32_conv(), device, stream);
  } else {
    gemm(d, device, stream);
  }
}

// grad_out samples [n0, n0 + samples) as (O, samples * OH*OW): the GEMMs' row-major operand.
Tensor gather_grad_rows(const Tensor& grad_out, const ConvGeometry& g, int64_t n0,
                        int64_t samples) {
  Tensor rows = Tensor::empty({g.o, samples * g.ohw}, grad_out.dtype(), grad_out.device());
  Tensor src = grad_out.view_as_strided({samples, g.o, g.ohw}, {g.o * g.ohw, g.ohw, 1},
                                        grad_out.offset() + n0 * g.o * g.ohw);
  Tensor dst = rows.view_as_strided({samples, g.o, g.ohw}, {g.ohw, samples * g.ohw, 1}, 0);
  copy(src, dst);
  return rows;
}

// ---- implicit GEMM on TF32 tensor cores -------------------------------------------------------
// C (M x N) = A (M x K) @ B (K x N) with both operands read straight from the tensors: no column
// buffer is written or read back. Three uses, each for groups == 1 and float32 with TF32 allowed:
//   forward       M = O, N = n*OH*OW, K = C*KH*KW: A = w, B = im2col(x); C scattered into NCHW.
//   input grad    M = C, N = n*H*W,   K = O*KH*KW: A = w with (O, C) swapped, B = im2col of
//                 grad_out over the input grid with the taps mirrored (stride 1).
//   weight grad   M = O, N = C*KH*KW, K = n*OH*OW: A = grad_out (row o, k = (sample, pixel)),
//                 B = im2col(x) with k = pixel; K is split across blocks, partial sums reduced by
//                 a second kernel (deterministic, no atomics).
// Block tiles BM x BN x 32 for 4 warps, three cp.async stages, fragments and mma.sync as in the
// TF32 GEMM of matmul.cu (mma.cuh). BM follows the channel count (32, 64 or 128), so narrow
// layers do not pay for a 128-row tile.
constexpr int kIgThreads = 128, kIgBK = 32, kIgStages = 3;

// Reads src[sample, c, y * stride + offset + i * step, x * stride + offset + j * step] for a GEMM
// row/column index k = (c, i, j) and a pixel p = (sample, y, x) of the grid (grid_h, grid_w); zero
// outside the source.
struct ImplicitCols {
  const float* src;
  int c, h, w;  // source dims per sample
  int kw;
  int stride_h, stride_w, offset_h, offset_w, step_h, step_w;
  int grid_w;
  IntDivider32 by_khw, by_kw, by_grid, by_grid_w;
};

struct IgemmParams {
  int64_t m, n, k;
  const float* a;        // forward / input grad: dense (m, k) with row stride lda
  int64_t lda;           // weight grad: grad_out, a[s * a_sample + row * pixels + p]
  int64_t a_sample;
  bool a_vec;            // 16-byte runs of A may be copied whole
  ImplicitCols cols;
  float* c;
  const float* bias;
  int64_t k_per_split;   // a multiple of kIgBK
  float* workspace;      // (splits, m, n) partial sums when gridDim.y > 1
};

template <int BM, int BN, int WARPS_M, bool kPixelsOnN>
struct IgemmShape {
  static constexpr int kWarpsN = 4 / WARPS_M;
  static constexpr int kMI = BM / WARPS_M / 16, kNI = BN / kWarpsN / 8;
  static constexpr int kAStage = BM * (kIgBK + 4);
  // B is stored k-major ([k][n], padded) when pixels run along N, else n-major ([n][k]).
  static constexpr int kBStage = kPixelsOnN ? kIgBK * (BN + 8) : BN * (kIgBK + 4);
  static constexpr int kSmemBytes = kIgStages * (kAStage + kBStage) * static_cast<int>(sizeof(float));
  // Resident blocks per SM the registers are budgeted for: small tiles need fewer accumulators, so
  // more blocks hide the gathers' latency.
  static constexpr int kMinBlocks = BM * BN >= 64 * 128 ? 2 : (BM * BN >= 64 * 64 ? 3 : 4);
  static_assert(kMI >= 1 && kNI >= 2 && kNI % 2 == 0, "warp tile too small");
};

// Pixel p of the grid -> offset of its sample in src and the top-left tap position.
struct PixelOrigin {
  int64_t base;
  int y, x;
};

__device__ __forceinline__ PixelOrigin pixel_origin(const ImplicitCols& g, uint32_t p) {
  const uint32_t s = g.by_grid.div(p), r = p - s * g.by_grid.divisor;
  const uint32_t y = g.by_grid_w.div(r), x = r - y * g.by_grid_w.divisor;
  return {static_cast<int64_t>(s) * g.c * g.h * g.w,
          static_cast<int>(y) * g.stride_h + g.offset_h, static_cast<int>(x) * g.stride_w + g.offset_w};
}

// Row k = (c, i, j) -> channel offset in a sample and the tap's displacement.
struct Tap {
  int coff, dy, dx;
};

__device__ __forceinline__ Tap tap_of(const ImplicitCols& g, uint32_t k) {
  const uint32_t c = g.by_khw.div(k), r = k - c * g.by_khw.divisor;
  const uint32_t i = g.by_kw.div(r), j = r - i * g.by_kw.divisor;
  return {static_cast<int>(c) * g.h * g.w, static_cast<int>(i) * g.step_h,
          static_cast<int>(j) * g.step_w};
}

__device__ __forceinline__ void gather4(float* dst, const ImplicitCols& g, const PixelOrigin& o,
                                        const Tap& t, bool valid) {
  const int y = o.y + t.dy, x = o.x + t.dx;
  const bool ok = valid && static_cast<unsigned>(y) < static_cast<unsigned>(g.h) &&
                  static_cast<unsigned>(x) < static_cast<unsigned>(g.w);
  cp_async4(dst, ok ? g.src + o.base + t.coff + static_cast<int64_t>(y) * g.w + x : g.src,
            ok ? 4 : 0);
}

template <int BM, int BN, int WARPS_M, bool kPixelsOnN>
__global__ void __launch_bounds__(kIgThreads, (IgemmShape<BM, BN, WARPS_M, kPixelsOnN>::kMinBlocks))
    conv_igemm_kernel(IgemmParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using S = IgemmShape<BM, BN, WARPS_M, kPixelsOnN>;
  constexpr int BK = kIgBK, MI = S::kMI, NI = S::kNI;
  extern __shared__ float4 smem_f4[];
  float* As = reinterpret_cast<float*>(smem_f4);
  float* Bs = As + kIgStages * S::kAStage;
  const ImplicitCols& g = p.cols;

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp / S::kWarpsN, wn = warp % S::kWarpsN;
  const int fg = lane >> 2, t4 = lane & 3;  // mma fragment coordinates
  const int64_t tiles_m = (p.m + BM - 1) / BM;
  const int64_t m0 = (blockIdx.x % tiles_m) * BM, n0 = (blockIdx.x / tiles_m) * BN;
  const int64_t k_begin = static_cast<int64_t>(blockIdx.y) * p.k_per_split;
  const int64_t k_end = p.k < k_begin + p.k_per_split ? p.k : k_begin + p.k_per_split;
  const int ktiles = k_end > k_begin ? static_cast<int>((k_end - k_begin + BK - 1) / BK) : 0;

  // A: runs of four along k; thread row (tid / 8) + 16 q, column (tid % 8) * 4.
  constexpr int kAPasses = BM / 16;
  const int a_kc = (tid & 7) * 4;
  // B is gathered one float at a time, four per thread and row, with neighbouring lanes on
  // neighbouring pixels (coalesced reads, conflict-free shared-memory writes).
  // Pixels on N ([k][n] tiles): this thread's pixel columns (tid % kPerRow) + kPerRow e are fixed
  // for the whole kernel.
  constexpr int kPerRow = BN / 4, kRowsPerPass = kIgThreads / kPerRow;
  constexpr int kBPassesN = BK / kRowsPerPass;
  // Pixels on K ([n][k] tiles): lane l reads pixel l of rows warp + 4 q, so a warp reads 32
  // consecutive pixels of one row; the rows' taps are decoded once into shared memory.
  constexpr int kBPassesK = BN / 4;
  __shared__ int4 col_taps[kPixelsOnN ? 1 : BN];  // (channel offset, dy, dx, valid) per column
  PixelOrigin px[4];
  if constexpr (kPixelsOnN) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int64_t j = n0 + tid % kPerRow + kPerRow * e;
      px[e] = pixel_origin(g, static_cast<uint32_t>(j < p.n ? j : 0));
      if (j >= p.n) px[e].y = INT_MIN / 2;  // never in bounds
    }
  } else {
    for (int r = tid; r < BN; r += kIgThreads) {
      const int64_t j = n0 + r;
      const Tap t = tap_of(g, static_cast<uint32_t>(j < p.n ? j : 0));
      col_taps[r] = make_int4(t.coff, t.dy, t.dx, j < p.n);
    }
    __syncthreads();
  }

  auto load_tile = [&](int stage, int kt) {
    float* as = As + stage * S::kAStage;
    float* bs = Bs + stage * S::kBStage;
    const int64_t kbase = k_begin + static_cast<int64_t>(kt) * BK;
#pragma unroll
    for (int q = 0; q < kAPasses; ++q) {
      const int row = (tid >> 3) + 16 * q;
      const int64_t i = m0 + row, k = kbase + a_kc;
      const int valid = i < p.m ? clamp_run(k_end - k) : 0;
      float* dst = as + row * (BK + 4) + a_kc;
      if constexpr (kPixelsOnN) {
        copy_run4(dst, p.a + i * p.lda + k, valid, p.a_vec, p.a);
      } else {
        // k = (sample, pixel); a run of four stays in one sample when pixels % 4 == 0 (a_vec).
        if (p.a_vec) {
          const uint32_t s = g.by_grid.div(static_cast<uint32_t>(k < p.k ? k : 0));
          const int64_t r = k - static_cast<int64_t>(s) * g.by_grid.divisor;
          copy_run4(dst, p.a + s * p.a_sample + i * g.by_grid.divisor + r, valid, true, p.a);
        } else {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const uint32_t ke = static_cast<uint32_t>(e < valid ? k + e : 0);
            const uint32_t s = g.by_grid.div(ke), r = ke - s * g.by_grid.divisor;
            cp_async4(dst + e, e < valid ? p.a + s * p.a_sample + i * g.by_grid.divisor + r : p.a,
                      e < valid ? 4 : 0);
          }
        }
      }
    }
    if constexpr (kPixelsOnN) {
      const int nc = tid % kPerRow;
#pragma unroll
      for (int q = 0; q < kBPassesN; ++q) {
        const int kr = tid / kPerRow + kRowsPerPass * q;
        const int64_t k = kbase + kr;
        const bool k_ok = k < k_end;
        const Tap t = tap_of(g, static_cast<uint32_t>(k_ok ? k : 0));
#pragma unroll
        for (int e = 0; e < 4; ++e)
          gather4(bs + kr * (BN + 8) + nc + kPerRow * e, g, px[e], t, k_ok);
      }
    } else {
      const int64_t k = kbase + lane;
      PixelOrigin o = pixel_origin(g, static_cast<uint32_t>(k < k_end ? k : 0));
      if (k >= k_end) o.y = INT_MIN / 2;
#pragma unroll 8
      for (int q = 0; q < kBPassesK; ++q) {
        const int row = warp + 4 * q;
        const int4 t = col_taps[row];
        gather4(bs + row * (BK + 4) + lane, g, o, Tap{t.x, t.y, t.z}, t.w != 0);
      }
    }
  };

  float acc[MI][NI][4];
  zero(acc);
  pipelined_k_loop<kIgStages>(ktiles, load_tile, [&](int stage) {
    mma_k_tile<MI, NI, BK, true, kPixelsOnN>(acc, As + stage * S::kAStage, BK + 4,
                                             Bs + stage * S::kBStage,
                                             kPixelsOnN ? BN + 8 : BK + 4, wm * (MI * 16),
                                             wn * (NI * 8), lane);
  });

#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int ni = 0; ni < NI; ++ni) {
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int64_t i = m0 + wm * (MI * 16) + mi * 16 + fg + (q >> 1) * 8;
        const int64_t j = n0 + wn * (NI * 8) + ni * 8 + t4 * 2 + (q & 1);
        if (i >= p.m || j >= p.n) continue;
        float v = acc[mi][ni][q];
        if constexpr (kPixelsOnN) {
          // C(i, j) -> NCHW: sample j / pixels, channel i, pixel j % pixels.
          const uint32_t s = g.by_grid.div(static_cast<uint32_t>(j));
          const int64_t r = j - static_cast<int64_t>(s) * g.by_grid.divisor;
          if (p.bias != nullptr) v += p.bias[i];
          p.c[(s * p.m + i) * g.by_grid.divisor + r] = v;
        } else if (gridDim.y > 1) {
          p.workspace[(static_cast<int64_t>(blockIdx.y) * p.m + i) * p.n + j] = v;
        } else {
          p.c[i * p.n + j] = v;
        }
      }
    }
  }
#else
  __trap();  // the host only selects this kernel on sm_80 and newer
#endif
}

// grad_w = the sum of the split-K partial products.
__global__ void __launch_bounds__(kThreads)
    sum_splits_kernel(const float* workspace, int64_t splits, int64_t mn, float* out) {
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < mn;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float v = 0.0f;
    for (int64_t s = 0; s < splits; ++s) v += workspace[s * mn + idx];
    out[idx] = v;
  }
}

template <int BM, int BN, int WARPS_M, bool kPixelsOnN>
void launch_igemm(const IgemmParams& p, unsigned splits, int device, cudaStream_t stream) {
  using S = IgemmShape<BM, BN, WARPS_M, kPixelsOnN>;
  static std::atomic<uint32_t> configured{0};
  allow_large_smem(conv_igemm_kernel<BM, BN, WARPS_M, kPixelsOnN>, S::kSmemBytes, device,
                   configured);
  const int64_t tiles = ((p.m + BM - 1) / BM) * ((p.n + BN - 1) / BN);
  dim3 grid(static_cast<unsigned>(tiles), splits);
  conv_igemm_kernel<BM, BN, WARPS_M, kPixelsOnN><<<grid, kIgThreads, S::kSmemBytes, stream>>>(p);
  check_launch("conv2d (implicit gemm)", stream);
}

// Tile shape by the row count (channels). Forward and input grad narrow it while the tiles would
// not give every SM a block; the weight gradient keeps wide tiles (each re-gathers the input once)
// and splits K until about two blocks per SM.
template <bool kPixelsOnN>
void run_igemm(IgemmParams p, int device, cudaStream_t stream) {
  const int64_t sms = sm_count(device);
  p.k_per_split = (p.k + kIgBK - 1) / kIgBK * kIgBK;  // one split unless split-K below
  auto tiles = [&](int64_t bm, int64_t bn) { return ((p.m + bm - 1) / bm) * ((p.n + bn - 1) / bn); };
  int bm = p.m <= 32 ? 32 : (p.m <= 64 ? 64 : 128), bn = 128;
  if (kPixelsOnN && bm == 128 && tiles(128, 128) < sms) bm = 64;
  if (kPixelsOnN && bm == 64 && tiles(64, 128) < sms) bn = 64;
  if (bm == 32 && p.n <= 64) bn = 64;  // e.g. the weight gradient of a 3-channel first layer
  unsigned splits = 1;
  Tensor workspace;
  if (!kPixelsOnN) {
    // Split the pixels (K) so that the few (O x C*KH*KW) tiles still fill the GPU.
    const int64_t t = tiles(bm, bn);
    const int64_t want = std::min<int64_t>({(2 * sms + t - 1) / t, p.k / (4 * kIgBK), 128});
    if (want > 1) {
      p.k_per_split = ((p.k + want - 1) / want + kIgBK - 1) / kIgBK * kIgBK;
      splits = static_cast<unsigned>((p.k + p.k_per_split - 1) / p.k_per_split);
    }
    if (splits > 1) {
      workspace = Tensor::empty(Shape{static_cast<int64_t>(splits) * p.m * p.n}, DType::Float32,
                                Device{DeviceType::CUDA, device});
      p.workspace = workspace.data<float>();
    }
  }
  if (bm == 32 && bn == 64) {
    launch_igemm<32, 64, 1, kPixelsOnN>(p, splits, device, stream);
  } else if (bm == 32) {
    launch_igemm<32, 128, 1, kPixelsOnN>(p, splits, device, stream);
  } else if (bm == 64 && bn == 128) {
    launch_igemm<64, 128, 2, kPixelsOnN>(p, splits, device, stream);
  } else if (bm == 64) {
    launch_igemm<64, 64, 2, kPixelsOnN>(p, splits, device, stream);
  } else {
    launch_igemm<128, 128, 2, kPixelsOnN>(p, splits, device, stream);
  }
  if (splits > 1) {
    sum_splits_kernel<<<grid_for(p.m * p.n, kThreads, device), kThreads, 0, stream>>>(
        p.workspace, splits, p.m * p.n, p.c);
    check_launch("conv2d_backward_weight (split-K sum)", stream);
  }
}

// The operand B of a pass: src (samples, c, h, w) read over a grid (grid_h, grid_w).
ImplicitCols implicit_cols(const float* src, int64_t c, int64_t h, int64_t w, int64_t kh,
                           int64_t kw, int64_t grid_h, int64_t grid_w, int64_t stride_h,
                           int64_t stride_w, int64_t offset_h, int64_t offset_w, int64_t step_h,
                           int64_t step_w) {
  ImplicitCols g;
  g.src = src;
  g.c = static_cast<int>(c), g.h = static_cast<int>(h), g.w = static_cast<int>(w);
  g.kw = static_cast<int>(kw);
  g.stride_h = static_cast<int>(stride_h), g.stride_w = static_cast<int>(stride_w);
  g.offset_h = static_cast<int>(offset_h), g.offset_w = static_cast<int>(offset_w);
  g.step_h = static_cast<int>(step_h), g.step_w = static_cast<int>(step_w);
  g.grid_w = static_cast<int>(grid_w);
  g.by_khw = IntDivider32(static_cast<uint32_t>(kh * kw));
  g.by_kw = IntDivider32(static_cast<uint32_t>(kw));
  g.by_grid = IntDivider32(static_cast<uint32_t>(grid_h * grid_w));
  g.by_grid_w = IntDivider32(static_cast<uint32_t>(grid_w));
  return g;
}

// The implicit GEMM serves float32 with TF32 allowed, groups == 1, on sm_80+, when its 32-bit
// index arithmetic covers the tensors.
bool use_implicit_gemm(const ConvGeometry& g, DType dtype, int device) {
  if (dtype != DType::Float32 || !allow_tf32_conv() || g.groups != 1) return false;
  if (compute_capability_major(device) < 8) return false;
  const int64_t limit = INT32_MAX / 2;
  return g.n * g.c * g.h * g.w < limit && g.n * g.o * g.ohw < limit &&
         g.n * g.h * g.w < limit && g.c * g.kh * g.kw < limit && g.o * g.kh * g.kw < limit;
}

#if defined(MYTENSOR_SM90A)
// The Hopper kernels of conv_sm90.cu serve float32 with TF32 allowed and groups == 1 (each
// declines the geometries it does not cover). MYTENSOR_CONV=igemm (read once) keeps them off, for
// benchmarks and tests that compare the two paths.
bool use_sm90(const ConvGeometry& g, DType dtype) {
  static const bool disabled = [] {
    const char* v = std::getenv("MYTENSOR_CONV");
    return v != nullptr && std::string(v) == "igemm";
  }();
  return !disabled && dtype == DType::Float32 && allow_tf32_conv() && g.groups == 1;
}

Conv2dGeom sm90_geom(const ConvGeometry& g) {
  return {g.n,  g.c,  g.h,  g.w,  g.o,  g.kh,  g.kw,  g.oh, g.ow, g.p.stride_h, g.p.stride_w,
          g.p.pad_h, g.p.pad_w, g.p.dilation_h, g.p.dilation_w};
}
#endif

}  // namespace

void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
            const Tensor& out) {
  ConvGeometry g(x.shape(), w.shape(), out.shape(), p);
  if (g.n == 0 || g.o == 0 || g.ohw == 0) return;
  LaunchContext ctx(out);
#if defined(MYTENSOR_SM90A)
  if (use_sm90(g, out.dtype()) &&
      conv2d_sm90(x, w, bias.defined() ? bias.data<float>() : nullptr, sm90_geom(g), out,
                  ctx.device, ctx.stream)) {
    return;
  }
#endif
  if (use_implicit_gemm(g, out.dtype(), ctx.device)) {
    IgemmParams ip{};
    ip.m = g.o, ip.n = g.n * g.ohw, ip.k = g.ckk;
    ip.a = w.data<float>(), ip.lda = g.ckk;
    ip.a_vec = reinterpret_cast<uintptr_t>(ip.a) % 16 == 0 && g.ckk % 4 == 0;
    ip.cols = implicit_cols(x.data<float>(), g.c, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.p.stride_h,
                            g.p.stride_w, -g.p.pad_h, -g.p.pad_w, g.p.dilation_h, g.p.dilation_w);
    ip.c = out.data<float>();
    ip.bias = bias.defined() ? bias.data<float>() : nullptr;
    run_igemm<true>(ip, ctx.device, ctx.stream);
    return;
  }
  dispatch<Accepts::Floating>(out.dtype(), "conv2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    GemmDesc<T> d;
    d.m = g.og;
    d.k = g.ckk;
    d.a = w.data<T>();
    d.lda = g.ckk;
    d.a_row = true;
    d.a_stride_inner = g.og * g.ckk;
    d.batch_inner = g.groups;
    d.bias = bias.defined() ? bias.data<T>() : nullptr;
    d.bias_stride_inner = g.og;
    d.ldc = g.ohw;
    d.c_stride_inner = g.og * g.ohw;
    if (g.pointwise()) {
      // out[s, group] (og x HW) = w[group] (og x cg) @ x[s, group] (cg x HW), one batch per pair.
      d.n = g.ohw;
      d.b = x.data<T>();
      d.ldb = g.ohw;
      d.b_row = true;
      d.b_stride_outer = g.c * g.ohw;
      d.b_stride_inner = g.cg * g.ohw;
      d.c = out.data<T>();
      d.c_stride_outer = g.o * g.ohw;
      d.batch_outer = g.n;
      run_gemm(d, ctx.device, ctx.stream);
      return;
    }
    const int64_t chunk = g.chunk();
    Tensor col = Tensor::empty({g.c * g.kh * g.kw * chunk * g.ohw}, out.dtype(), out.device());
    for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
      const int64_t samples = std::min(chunk, g.n - n0);
      im2col(x.data<T>() + n0 * g.c * g.h * g.w, col.data<T>(), g, samples, ctx.device, ctx.stream);
      d.n = samples * g.ohw;
      d.b = col.data<T>();
      d.ldb = samples * g.ohw;
      d.b_row = true;
      d.b_stride_inner = g.ckk * samples * g.ohw;
      d.c = out.data<T>() + n0 * g.o * g.ohw;
      d.c_col_div = g.ohw;
      d.c_col_hi = g.o * g.ohw;
      run_gemm(d, ctx.device, ctx.stream);
    }
  });
}

void conv2d_backward_input(const Tensor& grad_out, const Tensor& w, const Conv2dParams& p,
                           const Tensor& grad_in) {
  ConvGeometry g(grad_in.shape(), w.shape(), grad_out.shape(), p);
  if (grad_in.numel() == 0) return;
  if (g.o == 0 || g.ohw == 0) {
    fill(grad_in, 0.0);
    return;
  }
  LaunchContext ctx(grad_in);
#if defined(MYTENSOR_SM90A)
  if (use_sm90(g, grad_in.dtype()) &&
      conv2d_backward_input_sm90(grad_out, w, sm90_geom(g), grad_in, ctx.device, ctx.stream)) {
    return;
  }
#endif
  if (g.p.stride_h == 1 && g.p.stride_w == 1 && use_implicit_gemm(g, grad_in.dtype(), ctx.device)) {
    // A = w with out and in channels swapped: (C, O, KH, KW), a small copy.
    Tensor wt = Tensor::empty({g.c, g.o, g.kh, g.kw}, w.dtype(), w.device());
    copy(w.view_as_strided({g.c, g.o, g.kh, g.kw}, {g.kh * g.kw, g.c * g.kh * g.kw, g.kw, 1},
                           w.offset()),
         wt);
    IgemmParams ip{};
    ip.m = g.c, ip.n = g.n * g.h * g.w, ip.k = g.o * g.kh * g.kw;
    ip.a = wt.data<float>(), ip.lda = ip.k;
    ip.a_vec = ip.k % 4 == 0;
    // grad_in[s, c, y, x] sums grad_out[s, o, y + pad - i * dil, x + pad - j * dil] * w[o, c, i, j].
    ip.cols = implicit_cols(grad_out.data<float>(), g.o, g.oh, g.ow, g.kh, g.kw, g.h, g.w, 1, 1,
                            g.p.pad_h, g.p.pad_w, -g.p.dilation_h, -g.p.dilation_w);
    ip.c = grad_in.data<float>();
    run_igemm<true>(ip, ctx.device, ctx.stream);
    return;
  }
  dispatch<Accepts::Floating>(grad_in.dtype(), "conv2d_backward_input", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // grad_cols[group] (ckk x cols) = w[group]^T (ckk x og) @ grad_out[group] (og x cols).
    GemmDesc<T> d;
    d.k = g.og;
    d.a = w.data<T>();
    d.a_row = false;
    d.a_stride_inner = g.og * g.ckk;
    d.batch_inner = g.groups;
    if (g.pointwise()) {
      d.m = g.cg;
      d.lda = g.cg;
      d.n = g.ohw;
      d.b = grad_out.data<T>();
      d.ldb = g.ohw;
      d.b_row = true;
      d.b_stride_outer = g.o * g.ohw;
      d.b_stride_inner = g.og * g.ohw;
      d.c = grad_in.data<T>();
      d.ldc = g.ohw;
      d.c_stride_outer = g.c * g.ohw;
      d.c_stride_inner = g.cg * g.ohw;
      d.batch_outer = g.n;
      run_gemm(d, ctx.device, ctx.stream);
      return;
    }
    d.m = g.ckk;
    d.lda = g.ckk;
    const int64_t chunk = g.chunk();
    Tensor col =
        Tensor::empty({g.c * g.kh * g.kw * chunk * g.ohw}, grad_in.dtype(), grad_in.device());
    for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
      const int64_t samples = std::min(chunk, g.n - n0);
      Tensor rows = gather_grad_rows(grad_out, g, n0, samples);
      d.n = samples * g.ohw;
      d.b = rows.data<T>();
      d.ldb = samples * g.ohw;
      d.b_row = true;
      d.b_stride_inner = g.og * samples * g.ohw;
      d.c = col.data<T>();
      d.ldc = samples * g.ohw;
      d.c_stride_inner = g.ckk * samples * g.ohw;
      run_gemm(d, ctx.device, ctx.stream);
      col2im(col.data<T>(), grad_in.data<T>() + n0 * g.c * g.h * g.w, g, samples, ctx.device,
             ctx.stream);
    }
  });
}

void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Conv2dParams& p,
                            const Tensor& grad_w) {
  ConvGeometry g(x.shape(), grad_w.shape(), grad_out.shape(), p);
  if (grad_w.numel() == 0) return;
  if (g.n == 0 || g.ohw == 0) {
    fill(grad_w, 0.0);
    return;
  }
  LaunchContext ctx(grad_w);
#if defined(MYTENSOR_SM90A)
  if (use_sm90(g, grad_w.dtype()) &&
      conv2d_backward_weight_sm90(grad_out, x, sm90_geom(g), grad_w, ctx.device, ctx.stream)) {
    return;
  }
#endif
  if (use_implicit_gemm(g, grad_w.dtype(), ctx.device)) {
    IgemmParams ip{};
    ip.m = g.o, ip.n = g.ckk, ip.k = g.n * g.ohw;
    ip.a = grad_out.data<float>(), ip.a_sample = g.o * g.ohw;
    ip.a_vec = reinterpret_cast<uintptr_t>(ip.a) % 16 == 0 && g.ohw % 4 == 0;
    ip.cols = implicit_cols(x.data<float>(), g.c, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.p.stride_h,
                            g.p.stride_w, -g.p.pad_h, -g.p.pad_w, g.p.dilation_h, g.p.dilation_w);
    ip.c = grad_w.data<float>();
    run_igemm<false>(ip, ctx.device, ctx.stream);
    return;
  }
  dispatch<Accepts::Floating>(grad_w.dtype(), "conv2d_backward_weight", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // grad_w[group] (og x ckk) = sum over chunks of grad_rows[group] (og x cols) @ cols^T.
    GemmDesc<T> d;
    d.m = g.og;
    d.n = g.ckk;
    d.a_row = true;
    d.b_row = false;
    d.c = grad_w.data<T>();
    d.ldc = g.ckk;
    d.c_stride_inner = g.og * g.ckk;
    d.batch_inner = g.groups;
    const int64_t chunk = g.chunk();
    Tensor col =
        Tensor::empty({g.c * g.kh * g.kw * chunk * g.ohw}, grad_w.dtype(), grad_w.device());
    for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
      const int64_t samples = std::min(chunk, g.n - n0);
      Tensor rows = gather_grad_rows(grad_out, g, n0, samples);
      im2col(x.data<T>() + n0 * g.c * g.h * g.w, col.data<T>(), g, samples, ctx.device, ctx.stream);
      d.k = samples * g.ohw;
      d.a = rows.data<T>();
      d.lda = samples * g.ohw;
      d.a_stride_inner = g.og * samples * g.ohw;
      d.b = col.data<T>();
      d.ldb = samples * g.ohw;
      d.b_stride_inner = g.ckk * samples * g.ohw;
      d.accumulate = n0 > 0;
      run_gemm(d, ctx.device, ctx.stream);
    }
  });
}

}  // namespace mytensor::cuda
