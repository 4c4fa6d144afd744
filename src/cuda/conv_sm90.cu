// Hopper (sm_90a) implicit-GEMM convolutions on wgmma tensor cores, fed by the bulk tensor copy
// engine (TMA) through an mbarrier ring: the pipeline of gemm_sm90.cu (one producer warpgroup,
// two consumer warpgroups of 64 rows, persistent CTAs), with the im2col done by the copy engine.
// A k-tile is 32 floats (128 bytes) of K, one SWIZZLE_128B row per GEMM row, in both operands.
//
// Forward (and the stride-1 input gradient, the same product with the roles renamed):
//   D[o, pixel] = sum over taps (i, j) and channels c of W[o, tap, c] X[pixel shifted by the tap, c]
//   M = output channels, N = output pixels, K = taps x channels. A is the weight as (o, tap, c);
//   the B box is a (tn, th, tw) block of 128 or 256 output pixels x 32 channels of a
//   channels-last (NHWC) copy of the input: one TMA load per k-tile at the tap's offset, with
//   the convolution stride as the box's element stride and the padding as out-of-bounds zero
//   fill. The epilogue writes NCHW (plus the bias), runs of consecutive pixels per channel.
// Weight gradient (stride 1, "same" padding):
//   dW[o, c, tap] = sum over pixels p of dY[o, p] X[c, p shifted by the tap]
//   M = O, N = (tap, c), K = pixels, read from the NCHW tensors over the flat H*W index: a
//   k-tile is 32 consecutive pixels of one image, so both boxes are K-major 128-byte rows. The
//   copy engine shifts a box only by 16-byte multiples along its innermost dim (else it faults)
//   and pads box rows narrower than 128 bytes to the swizzle span; a tap's row shift is a
//   multiple of W (W % 4 == 0), and its column shift comes from kw column-shifted copies of X
//   (none when every shift is a multiple of 4 columns, as for 1x1). The pixels are split across
//   CTAs; each split writes its partial (tap, o, c) product to a workspace that a second kernel
//   sums (deterministic, no atomics) into (o, c, kh, kw).
//
// Two numbers (METHOD.md), ResNet-18's 64->64 3x3 layer at 32x32, batch 256, forward: 19.3 GFLOP
// at ~495 TFLOP/s dense tf32 = 39 us; 67 MB in + 67 MB out (+ 134 MB for the NHWC copy) at
// 4.8 TB/s = 28 (56) us: both matter, which is why channels-last activations are the next step.
#include <cuda.h>
#include <cuda_runtime.h>
#include <cudaTypedefs.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/check.h"
#include "core/tensor_impl.h"
#include "cuda/conv_sm90.h"
#include "cuda/cuda_check.h"
#include "cuda/sm90.cuh"

namespace mytensor::cuda {

namespace {

using namespace sm90;  // NOLINT: the PTX wrappers

constexpr int kKBytes = 128;  // one k-tile: 32 floats of K, one swizzle row
constexpr int kBK = 32;
constexpr int kConsumers = 2;
constexpr int kCtaThreads = 128 * (1 + kConsumers);
constexpr int kProducerRegs = 40, kConsumerRegs = 232;

// A CTA tile is BM x BN. BM = 128: the two consumer warpgroups take 64 rows each (m64 x BN);
// BM = 64: they share the 64 rows and take half the columns each (m64 x BN/2), so that 64-channel
// layers do not run half-empty 128-row tiles.
template <int BM, int BN>
struct Tile {
  static constexpr int kWN = BM == 128 ? BN : BN / 2;  // columns of one warpgroup
  static constexpr int kABytes = BM * kKBytes;
  static constexpr int kBBytes = BN * kKBytes;
  static constexpr int kStageBytes = kABytes + kBBytes;
  static constexpr int kStages = std::min(8, (192 * 1024) / kStageBytes);
  // + 1 KiB to align the ring to the 1024-byte swizzle atom, + the barriers
  static constexpr int kSmemBytes = kStages * kStageBytes + 1024 + 2 * kStages * 8;
};

std::atomic<int64_t> g_launches{0};

constexpr int kMaxPhaseTaps = 16;  // taps of one phase of a strided input gradient

// ---- the two problems --------------------------------------------------------------------------

// Forward-shaped: rows = output channels (A = the weight as (cout, tap, cin)), columns = an
// output-pixel tile of BN pixels as a (tn, th, tw) box (powers of two) of a channels-last input
// (B). The epilogue writes NCHW: each warp stores runs of consecutive pixels of a channel.
struct Fprop {
  int n, oh, ow, cout;
  int tw_log, th_log, tn_log;
  int tiles_x, tiles_y, tiles_o;
  int64_t tiles;
  int cblocks, kw, ktiles;
  int s_h, s_w, off_h, off_w, step_h, step_w;  // input = out * s + off + tap * step
  int bm;
  int64_t ohw;
  float* out;
  const float* bias;
  // One phase of a strided input gradient: the k-tiles run over `ktiles / cblocks` listed taps
  // (tap index, row and column offset of the input), and output pixel (y, x) of the grid is
  // (y * osy + ofy, x * osx + ofx) of an (out_h, out_w) plane. phased = false: all taps, from
  // off + tap * step, written densely.
  bool phased;
  int out_h, out_w, osy, osx, ofy, ofx;
  int16_t tap_idx[kMaxPhaseTaps], tap_dy[kMaxPhaseTaps], tap_dx[kMaxPhaseTaps];

  __device__ __forceinline__ int64_t count() const { return tiles; }
  __device__ __forceinline__ void range(int64_t, int* b, int* e) const {
    *b = 0;
    *e = ktiles;
  }
  __device__ __forceinline__ void origin(int64_t t, int* n0, int* y0, int* x0, int* o0) const {
    const int64_t p = t / tiles_o;
    *o0 = static_cast<int>(t - p * tiles_o) * bm;
    const int64_t q = p / tiles_x;
    *x0 = static_cast<int>(p - q * tiles_x) << tw_log;
    const int64_t nt = q / tiles_y;
    *y0 = static_cast<int>(q - nt * tiles_y) << th_log;
    *n0 = static_cast<int>(nt) << tn_log;
  }
  __device__ __forceinline__ void load(int64_t t, int kt, uint32_t sa, uint32_t sb, uint32_t bar,
                                       const CUtensorMap* ta, const CUtensorMap* tb) const {
    int n0, y0, x0, o0;
    origin(t, &n0, &y0, &x0, &o0);
    const int slot = kt / cblocks, cb = kt - slot * cblocks;
    int tap, dy, dx;
    if (phased) {
      tap = tap_idx[slot], dy = tap_dy[slot], dx = tap_dx[slot];
    } else {
      const int i = slot / kw, j = slot - i * kw;
      tap = slot, dy = off_h + i * step_h, dx = off_w + j * step_w;
    }
    tma_load3(sa, ta, bar, cb * kBK, tap, o0);
    tma_load(sb, tb, bar, cb * kBK, x0 * s_w + dx, y0 * s_h + dy, n0);
  }
  // C from one consumer thread's registers (the m64nN accumulator layout: warp w of the
  // warpgroup holds rows 16w..16w+15; register 4i+2h+e is row 16w + lane/4 + 8h, column
  // 8i + 2(lane%4) + e), offset by the warpgroup's (row0, col0) in the tile.
  template <int WN>
  __device__ __forceinline__ void store(int64_t t, const float (&acc)[WN / 2], int row0, int col0,
                                        int tid) const {
    int n0, y0, x0, o0;
    origin(t, &n0, &y0, &x0, &o0);
    const int warp = tid >> 5, lane = tid & 31;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int o = o0 + row0 + warp * 16 + (lane >> 2) + 8 * h;
      if (o >= cout) continue;
      const float b = bias != nullptr ? bias[o] : 0.0f;
      const int64_t plane_size = static_cast<int64_t>(out_h) * out_w;
      float* plane = out + static_cast<int64_t>(o) * plane_size;
#pragma unroll
      for (int i = 0; i < WN / 8; ++i) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int q = col0 + i * 8 + (lane & 3) * 2 + e;
          const int x = x0 + (q & ((1 << tw_log) - 1));
          const int y = y0 + ((q >> tw_log) & ((1 << th_log) - 1));
          const int s = n0 + (q >> (tw_log + th_log));
          if (x < ow && y < oh && s < n) {
            plane[static_cast<int64_t>(s) * cout * plane_size +
                  static_cast<int64_t>(y * osy + ofy) * out_w + (x * osx + ofx)] =
                acc[4 * i + 2 * h + e] + b;
          }
        }
      }
    }
  }
};

// Weight-gradient-shaped: rows = O, columns = (tap, c) tap-major, K = the pixels of all
// images, 32 consecutive pixels of one image per k-tile (the flat H*W index, so images of any
// width whose H*W is a multiple of 32 fill whole k-tiles). A column tile holds `tpt` taps of
// `cpt` channels: one box of dY and one box of X per tap and k-tile. A tap's row offset is a
// shift of the flat pixel index by a multiple of W (out-of-bounds rows read zeros); its column
// offset comes from column-shifted copies of X (coordinate 3), or from the flat index when it
// is a multiple of 4 columns (1x1 convolutions). The pixels are split across CTAs.
struct Wgrad {
  int o, c, taps, kw, w;
  int kpi;           // k-tiles per image: H*W / 32
  int ktotal, kps;   // k-tiles in all, per split
  int tpt, cpt, cblocks, tap_tiles;
  int tiles_m, tiles_n, splits;
  int64_t tiles;
  int off_h, off_w, step_h, step_w;
  int copies;  // column-shifted copies of X (1: X itself, shifted through the flat index)
  bool cols;   // B is an explicit (tap, c, pixel) im2col of X: coordinate 3 is the tap
  int bm;
  float* ws;  // (splits, taps, o, c)

  __device__ __forceinline__ int64_t count() const { return tiles; }
  __device__ __forceinline__ void split(int64_t t, int* s, int* tap0, int* m0, int* c0) const {
    const int tn = static_cast<int>(t % tiles_n);
    t /= tiles_n;
    const int tm = static_cast<int>(t % tiles_m);
    *s = static_cast<int>(t / tiles_m);
    *m0 = tm * bm;
    const int tt = tn / cblocks;
    *tap0 = tt * tpt;
    *c0 = (tn - tt * cblocks) * cpt;
  }
  __device__ __forceinline__ void range(int64_t t, int* b, int* e) const {
    int s, tap0, m0, c0;
    split(t, &s, &tap0, &m0, &c0);
    *b = s * kps;
    *e = min(*b + kps, ktotal);
  }
  __device__ __forceinline__ void load(int64_t t, int kt, uint32_t sa, uint32_t sb, uint32_t bar,
                                       const CUtensorMap* ta, const CUtensorMap* tb) const {
    int s, tap0, m0, c0;
    split(t, &s, &tap0, &m0, &c0);
    const int img = kt / kpi, p0 = (kt - img * kpi) * kBK;
    tma_load3(sa, ta, bar, p0, m0, img);
    for (int u = 0; u < tpt; ++u) {
      const int tap = tap0 + u;
      const uint32_t dst = sb + u * cpt * kKBytes;
      if (tap >= taps) {  // past the last tap: an all-out-of-bounds box (zeros, same bytes)
        tma_load(dst, tb, bar, p0, c0, img, copies);
        continue;
      }
      if (cols) {
        tma_load(dst, tb, bar, p0, c0, img, tap);
        continue;
      }
      const int i = tap / kw, j = tap - i * kw;
      const int row = (off_h + i * step_h) * w;
      if (copies > 1) {
        tma_load(dst, tb, bar, p0 + row, c0, img, j);
      } else {
        tma_load(dst, tb, bar, p0 + row + off_w + j * step_w, c0, img, 0);
      }
    }
  }
  template <int WN>
  __device__ __forceinline__ void store(int64_t t, const float (&acc)[WN / 2], int row0, int col0,
                                        int tid) const {
    int s, tap0, m0, c0;
    split(t, &s, &tap0, &m0, &c0);
    const int warp = tid >> 5, lane = tid & 31;
    const int64_t oc = static_cast<int64_t>(o) * c;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = m0 + row0 + warp * 16 + (lane >> 2) + 8 * h;
      if (row >= o) continue;
#pragma unroll
      for (int i = 0; i < WN / 8; ++i) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int q = col0 + i * 8 + (lane & 3) * 2 + e;
          const int u = q / cpt, col = c0 + q - u * cpt, tap = tap0 + u;
          if (tap < taps && col < c) {
            ws[(static_cast<int64_t>(s) * taps + tap) * oc + static_cast<int64_t>(row) * c + col] =
                acc[4 * i + 2 * h + e];
          }
        }
      }
    }
  }
};

// ---- the kernel (the ring and roles of gemm_sm90.cu) ------------------------------------------

template <class P, int BM, int BN>
__global__ void __launch_bounds__(kCtaThreads, 1)
    conv_sm90_kernel(const __grid_constant__ CUtensorMap tmap_a,
                     const __grid_constant__ CUtensorMap tmap_b, const P p) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using R = Tile<BM, BN>;
  constexpr int kStages = R::kStages, kWN = R::kWN;
  extern __shared__ uint8_t smem_raw[];
  const uint32_t raw = smem_u32(smem_raw);
  const uint32_t ring = (raw + 1023) & ~1023u;
  const uint32_t sa = ring, sb = ring + kStages * R::kABytes;
  const uint32_t full0 = ring + kStages * R::kStageBytes, empty0 = full0 + kStages * 8;
  const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      mbar_init(full0 + 8 * s, 1);                // the producer's arrive + the TMA bytes
      mbar_init(empty0 + 8 * s, kConsumers * 4);  // one arrive per consumer warp
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  if (wg == 0) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kProducerRegs));
    if (tid == 0) {
      asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(&tmap_a))
                   : "memory");
      asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(&tmap_b))
                   : "memory");
      int stage = 0;
      uint32_t phase = 0;
      for (int64_t t = blockIdx.x; t < p.count(); t += gridDim.x) {
        int kb, ke;
        p.range(t, &kb, &ke);
        for (int kt = kb; kt < ke; ++kt) {
          mbar_wait(empty0 + 8 * stage, phase ^ 1);
          const uint32_t full = full0 + 8 * stage;
          mbar_arrive_expect_tx(full, R::kStageBytes);
          p.load(t, kt, sa + stage * R::kABytes, sb + stage * R::kBBytes, full, &tmap_a, &tmap_b);
          if (++stage == kStages) {
            stage = 0;
            phase ^= 1;
          }
        }
      }
    }
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kConsumerRegs));
    const int cw = wg - 1;
    const int row0 = BM == 128 ? cw * 64 : 0, col0 = BM == 128 ? 0 : cw * kWN;
    const bool arrives = (tid & 31) == 0;
    int stage = 0;
    uint32_t phase = 0;
    for (int64_t t = blockIdx.x; t < p.count(); t += gridDim.x) {
      int kb, ke;
      p.range(t, &kb, &ke);
      float acc[kWN / 2];
#pragma unroll
      for (int i = 0; i < kWN / 2; ++i) acc[i] = 0.0f;
      fence_regs(acc);
      int prev = -1;
      for (int kt = kb; kt < ke; ++kt) {
        mbar_wait(full0 + 8 * stage, phase);
        const uint64_t da = smem_desc(sa + stage * R::kABytes + row0 * kKBytes);
        const uint64_t db = smem_desc(sb + stage * R::kBBytes + col0 * kKBytes);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < kKBytes / 32; ++kk) {  // 32 bytes of K (k8 tf32) per wgmma
          wgmma_tile<float, kWN>(acc, da + 2 * kk, db + 2 * kk);
        }
        wgmma_commit();
        wgmma_wait<1>();  // the previous k-tile's products are done: its stage may be refilled
        fence_regs(acc);
        if (prev >= 0 && arrives) mbar_arrive(empty0 + 8 * prev);
        prev = stage;
        if (++stage == kStages) {
          stage = 0;
          phase ^= 1;
        }
      }
      wgmma_wait<0>();
      fence_regs(acc);
      if (prev >= 0 && arrives) mbar_arrive(empty0 + 8 * prev);
      p.template store<kWN>(t, acc, row0, col0, tid);
    }
  }
#else
  __trap();  // only the sm_90a pass has the kernel; the host launches it on 9.0 devices only
#endif
}

// dst[b][j][i] = src[b][i][j] for src (batches, rows, cols): NCHW -> NHWC and the weight
// permutations, through a 32 x 33 shared tile so that reads and writes are both coalesced.
__global__ void __launch_bounds__(256)
    transpose_kernel(const float* __restrict__ src, float* __restrict__ dst, int64_t batches,
                     int64_t rows, int64_t cols) {
  __shared__ float tile[32][33];
  const int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
  const int64_t rt = (rows + 31) / 32, ct = (cols + 31) / 32;
  for (int64_t w = blockIdx.x; w < batches * rt * ct; w += gridDim.x) {
    const int64_t b = w / (rt * ct), rc = w - b * rt * ct;
    const int64_t r0 = (rc / ct) * 32, c0 = (rc % ct) * 32;
    const float* s = src + b * rows * cols;
    float* d = dst + b * rows * cols;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int64_t r = r0 + ty + 8 * q, cidx = c0 + tx;
      if (r < rows && cidx < cols) tile[ty + 8 * q][tx] = s[r * cols + cidx];
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int64_t cidx = c0 + ty + 8 * q, r = r0 + tx;
      if (r < rows && cidx < cols) d[cidx * rows + r] = tile[tx][ty + 8 * q];
    }
    __syncthreads();
  }
}

// dst[j][r][x] = src[r][x + off + j * step] (zero outside the source row) for j < copies, source
// rows of width w, destination rows of width dw.
__global__ void __launch_bounds__(256)
    shift_columns_kernel(const float* __restrict__ src, float* __restrict__ dst, int64_t rows,
                         int w, int dw, int copies, int off, int step) {
  const int64_t per_copy = rows * dw;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       idx < per_copy * copies; idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = idx / per_copy, rx = idx - j * per_copy;
    const int64_t r = rx / dw;
    const int x = static_cast<int>(rx - r * dw) + off + static_cast<int>(j) * step;
    dst[idx] = x >= 0 && x < w ? src[r * w + x] : 0.0f;
  }
}

// dst[b][a][p] = src[a][b][p] for src (na, nb, np): (n, o, pixels) -> (o, n, pixels).
__global__ void __launch_bounds__(256)
    swap_outer_kernel(const float* __restrict__ src, float* __restrict__ dst, int64_t na,
                      int64_t nb, int64_t np) {
  const int64_t total = na * nb * np;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pp = idx % np, ab = idx / np;
    const int64_t b = ab / na, a = ab - b * na;
    dst[idx] = src[(a * nb + b) * np + pp];
  }
}

struct ColsGeom {
  int64_t n, c, h, w, oh, ow, kw, taps;
  int64_t s_h, s_w, p_h, p_w, d_h, d_w;
};

// cols[tap][c][s][y][x] = X[s][c][y s_h - p_h + i d_h][x s_w - p_w + j d_w], zero outside: the
// weight gradient's K-major im2col (pixels contiguous), for activations small enough to copy.
__global__ void __launch_bounds__(256)
    im2col_kmajor_kernel(const float* __restrict__ x, float* __restrict__ cols, ColsGeom g) {
  const int64_t ohw = g.oh * g.ow, total = g.taps * g.c * g.n * ohw;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t r = idx;
    const int64_t ox = r % g.ow;
    r /= g.ow;
    const int64_t oy = r % g.oh;
    r /= g.oh;
    const int64_t s = r % g.n;
    r /= g.n;
    const int64_t c = r % g.c;
    const int64_t tap = r / g.c;
    const int64_t i = tap / g.kw, j = tap - i * g.kw;
    const int64_t y = oy * g.s_h - g.p_h + i * g.d_h, xx = ox * g.s_w - g.p_w + j * g.d_w;
    cols[idx] = y >= 0 && y < g.h && xx >= 0 && xx < g.w ? x[((s * g.c + c) * g.h + y) * g.w + xx]
                                                          : 0.0f;
  }
}

// grad_w[o][c][tap] = sum over splits of ws[split][tap][o][c].
__global__ void __launch_bounds__(256)
    wgrad_sum_kernel(const float* __restrict__ ws, int splits, int taps, int64_t oc,
                     float* __restrict__ out) {
  const int64_t total = oc * taps;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t occ = idx / taps;
    const int tap = static_cast<int>(idx - occ * taps);
    float v = 0.0f;
    for (int s = 0; s < splits; ++s) v += ws[(static_cast<int64_t>(s) * taps + tap) * oc + occ];
    out[idx] = v;
  }
}

// ---- host side ---------------------------------------------------------------------------------

void after_launch(cudaStream_t stream) {
  MT_CUDA_CHECK(cudaGetLastError());
  if (sync_after_launch()) MT_CUDA_CHECK(cudaStreamSynchronize(stream));
}

int grid_size(int64_t work, int device) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(work, device_info(device).sms * 8)));
}

void transpose(const float* src, float* dst, int64_t batches, int64_t rows, int64_t cols,
               int device, cudaStream_t stream) {
  const int64_t tiles = batches * ((rows + 31) / 32) * ((cols + 31) / 32);
  if (tiles == 0) return;
  transpose_kernel<<<grid_size(tiles, device), 256, 0, stream>>>(src, dst, batches, rows, cols);
  after_launch(stream);
}

Tensor scratch(int64_t floats, int device) {
  return Tensor::empty(Shape{std::max<int64_t>(floats, 1)}, DType::Float32,
                       Device{DeviceType::CUDA, device});
}

template <class P, int BM, int BN>
void launch(const CUtensorMap& ta, const CUtensorMap& tb, const P& p, int device,
            cudaStream_t stream) {
  static std::atomic<uint64_t> configured{0};
  const uint64_t bit = device < 64 ? (uint64_t(1) << device) : 0;
  constexpr int bytes = Tile<BM, BN>::kSmemBytes;
  if (bit == 0 || !(configured.load() & bit)) {
    MT_CUDA_CHECK(cudaFuncSetAttribute(conv_sm90_kernel<P, BM, BN>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
    configured.fetch_or(bit);
  }
  const int grid = static_cast<int>(std::min<int64_t>(p.tiles, device_info(device).sms));
  conv_sm90_kernel<P, BM, BN><<<grid, kCtaThreads, bytes, stream>>>(ta, tb, p);
  after_launch(stream);
}

// The tile shapes: BM in {64, 128}, BN in {64, 128, 256} (BM 64 with BN 64 gives m64n32 halves).
template <class P>
void launch_tile(const CUtensorMap& ta, const CUtensorMap& tb, const P& p, int bm, int bn,
                 int device, cudaStream_t stream) {
  if (bm == 128) {
    if (bn == 256) {
      launch<P, 128, 256>(ta, tb, p, device, stream);
    } else if (bn == 128) {
      launch<P, 128, 128>(ta, tb, p, device, stream);
    } else {
      launch<P, 128, 64>(ta, tb, p, device, stream);
    }
  } else {
    if (bn == 256) {
      launch<P, 64, 256>(ta, tb, p, device, stream);
    } else if (bn == 128) {
      launch<P, 64, 128>(ta, tb, p, device, stream);
    } else {
      launch<P, 64, 64>(ta, tb, p, device, stream);
    }
  }
}

int ceil_log2(int64_t v) {
  int l = 0;
  while ((int64_t(1) << l) < v) ++l;
  return l;
}

bool fits_int(std::initializer_list<int64_t> vs) {
  for (int64_t v : vs) {
    if (v < 0 || v > INT32_MAX / 4) return false;
  }
  return true;
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// One phase (ofy, ofx) of a strided input gradient: its taps and where its pixels go.
struct Phase {
  int out_h = 0, out_w = 0, osy = 1, osx = 1, ofy = 0, ofx = 0;
  int taps = 0;
  int16_t idx[kMaxPhaseTaps] = {}, dy[kMaxPhaseTaps] = {}, dx[kMaxPhaseTaps] = {};
};

// The forward-shaped pass: out (n, cout, oh, ow) NCHW from `in` (n, ih, iw, cin) channels-last
// and wp (cout, taps, cin), with input = out * stride + off + tap * step per axis.
bool fprop(const float* in, int64_t n, int64_t cin, int64_t ih, int64_t iw, const float* wp,
           int64_t cout, int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t s_h,
           int64_t s_w, int64_t off_h, int64_t off_w, int64_t step_h, int64_t step_w,
           const float* bias, float* out, int device, cudaStream_t stream,
           const Phase* phase = nullptr) {
  const int64_t taps = kh * kw;
  const int64_t sms = device_info(device).sms;
  // Rows: output channels, 64 or 128 per tile. Columns: a box of 256 output pixels, or 128
  // when 256 would leave SMs idle.
  const int bm = cout <= 64 ? 64 : 128;
  auto box = [&](int log_pixels, int* tw_log, int* th_log, int* tn_log) {
    *tw_log = std::min(ceil_log2(ow), log_pixels);
    *th_log = std::min(ceil_log2(oh), log_pixels - *tw_log);
    *tn_log = log_pixels - *tw_log - *th_log;
  };
  auto pixel_tiles = [&](int log_pixels) {
    int a, b, c;
    box(log_pixels, &a, &b, &c);
    return ((ow + (int64_t(1) << a) - 1) >> a) * ((oh + (int64_t(1) << b) - 1) >> b) *
           ((n + (int64_t(1) << c) - 1) >> c);
  };
  const int64_t o_tiles = (cout + bm - 1) / bm;
  const int log_pixels = pixel_tiles(8) * o_tiles >= sms ? 8 : 7;
  const int bn = 1 << log_pixels;

  Fprop p{};
  p.n = static_cast<int>(n), p.oh = static_cast<int>(oh), p.ow = static_cast<int>(ow);
  p.cout = static_cast<int>(cout);
  box(log_pixels, &p.tw_log, &p.th_log, &p.tn_log);
  const int64_t tw = int64_t(1) << p.tw_log, th = int64_t(1) << p.th_log;
  const int64_t tn = int64_t(1) << p.tn_log;
  if (tw * s_w > 256 || th * s_h > 256 || s_w > 8 || s_h > 8) return false;
  p.tiles_x = static_cast<int>((ow + tw - 1) / tw);
  p.tiles_y = static_cast<int>((oh + th - 1) / th);
  p.bm = bm;
  p.tiles_o = static_cast<int>(o_tiles);
  p.tiles = pixel_tiles(log_pixels) * o_tiles;
  p.cblocks = static_cast<int>((cin + kBK - 1) / kBK);
  p.kw = static_cast<int>(kw);
  p.ktiles = static_cast<int>(taps * p.cblocks);
  p.s_h = static_cast<int>(s_h), p.s_w = static_cast<int>(s_w);
  p.off_h = static_cast<int>(off_h), p.off_w = static_cast<int>(off_w);
  p.step_h = static_cast<int>(step_h), p.step_w = static_cast<int>(step_w);
  p.ohw = oh * ow;
  p.out = out;
  p.bias = bias;
  p.phased = phase != nullptr;
  p.out_h = static_cast<int>(oh), p.out_w = static_cast<int>(ow);
  p.osy = p.osx = 1;
  p.ofy = p.ofx = 0;
  if (phase != nullptr) {
    p.ktiles = phase->taps * p.cblocks;
    p.out_h = phase->out_h, p.out_w = phase->out_w;
    p.osy = phase->osy, p.osx = phase->osx, p.ofy = phase->ofy, p.ofx = phase->ofx;
    for (int t = 0; t < phase->taps; ++t) {
      p.tap_idx[t] = phase->idx[t], p.tap_dy[t] = phase->dy[t], p.tap_dx[t] = phase->dx[t];
    }
  }

  CUtensorMap ta, tb;
  const int64_t es = sizeof(float);
  const int64_t a_dims[3] = {cin, taps, cout};
  const int64_t a_strides[2] = {cin * es, taps * cin * es};
  const int a_box[3] = {kBK, 1, bm};
  const int ones[3] = {1, 1, 1};
  const int64_t b_dims[4] = {cin, iw, ih, n};
  const int64_t b_strides[3] = {cin * es, iw * cin * es, ih * iw * cin * es};
  const int b_box[4] = {kBK, static_cast<int>(tw * s_w), static_cast<int>(th * s_h),
                        static_cast<int>(tn)};
  const int b_es[4] = {1, static_cast<int>(s_w), static_cast<int>(s_h), 1};
  if (!encode_tiled(&ta, tma_type<float>(), 3, wp, a_dims, a_strides, a_box, ones,
                    CU_TENSOR_MAP_SWIZZLE_128B) ||
      !encode_tiled(&tb, tma_type<float>(), 4, in, b_dims, b_strides, b_box, b_es,
                    CU_TENSOR_MAP_SWIZZLE_128B)) {
    return false;
  }
  launch_tile(ta, tb, p, bm, bn, device, stream);
  return true;
}

bool common_ok(const Conv2dGeom& g, int device) {
  if (device_info(device).cc != 90) return false;
  if (g.n <= 0 || g.c <= 0 || g.o <= 0 || g.oh <= 0 || g.ow <= 0) return false;
  return fits_int({g.n * g.c * g.h * g.w, g.n * g.o * g.oh * g.ow, g.o * g.c * g.kh * g.kw,
                   g.h + 2 * g.pad_h + g.dil_h * g.kh, g.w + 2 * g.pad_w + g.dil_w * g.kw});
}

}  // namespace

int64_t conv_sm90_launches() { return g_launches.load(); }

bool conv2d_sm90(const Tensor& x, const Tensor& w, const float* bias, const Conv2dGeom& g,
                 const Tensor& out, int device, cudaStream_t stream) {
  if (!common_ok(g, device) || g.c % 4 != 0) return false;
  // A strided 1x1 convolution reads a quarter of its input or less: the channels-last copy of
  // all of it costs more than the older kernel's whole pass (measured: 0.119 against 0.065 ms).
  if (g.kh * g.kw == 1 && (g.stride_h > 1 || g.stride_w > 1)) return false;
  const int64_t taps = g.kh * g.kw;
  Tensor xh = scratch(g.n * g.h * g.w * g.c, device);
  Tensor wp = scratch(g.o * taps * g.c, device);
  transpose(x.data<float>(), xh.data<float>(), g.n, g.c, g.h * g.w, device, stream);
  transpose(w.data<float>(), wp.data<float>(), g.o, g.c, taps, device, stream);
  if (!fprop(xh.data<float>(), g.n, g.c, g.h, g.w, wp.data<float>(), g.o, g.kh, g.kw, g.oh,
             g.ow, g.stride_h, g.stride_w, -g.pad_h, -g.pad_w, g.dil_h, g.dil_w, bias,
             out.data<float>(), device, stream)) {
    return false;
  }
  g_launches.fetch_add(1);
  return true;
}

bool conv2d_backward_input_sm90(const Tensor& grad_out, const Tensor& w, const Conv2dGeom& g,
                                const Tensor& grad_in, int device, cudaStream_t stream) {
  if (!common_ok(g, device) || g.o % 4 != 0) return false;
  const int64_t taps = g.kh * g.kw;
  const bool strided = g.stride_h != 1 || g.stride_w != 1;
  // A strided input gradient splits into stride_h x stride_w phases: the pixels
  // (ofy + stride_h * y, ofx + stride_w * x) of grad_in take only the taps i, j with
  // ofy + pad - i dil = stride_h * di (and the same for columns), from grad_out[y + di, x + dj].
  std::vector<Phase> phases;
  bool empty_phase = false;
  if (strided) {
    if (g.stride_h > 8 || g.stride_w > 8) return false;
    for (int64_t a = 0; a < g.stride_h; ++a) {
      for (int64_t b = 0; b < g.stride_w; ++b) {
        Phase ph;
        ph.out_h = static_cast<int>(g.h), ph.out_w = static_cast<int>(g.w);
        ph.osy = static_cast<int>(g.stride_h), ph.osx = static_cast<int>(g.stride_w);
        ph.ofy = static_cast<int>(a), ph.ofx = static_cast<int>(b);
        if (a >= g.h || b >= g.w) continue;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t ty = a + g.pad_h - i * g.dil_h;
          if (((ty % g.stride_h) + g.stride_h) % g.stride_h != 0) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t tx = b + g.pad_w - j * g.dil_w;
            if (((tx % g.stride_w) + g.stride_w) % g.stride_w != 0) continue;
            if (ph.taps == kMaxPhaseTaps) return false;
            const int64_t dy = ty / g.stride_h, dx = tx / g.stride_w;  // exact: divisible
            if (i * g.kw + j > INT16_MAX || std::max(std::abs(dy), std::abs(dx)) > INT16_MAX) {
              return false;  // the tap table holds 16-bit entries
            }
            ph.idx[ph.taps] = static_cast<int16_t>(i * g.kw + j);
            ph.dy[ph.taps] = static_cast<int16_t>(dy);
            ph.dx[ph.taps] = static_cast<int16_t>(dx);
            ++ph.taps;
          }
        }
        if (ph.taps == 0) {
          empty_phase = true;
        } else {
          phases.push_back(ph);
        }
      }
    }
  }
  // grad_in[s, c, y, x] = sum over (o, i, j) of grad_out[s, o, y + pad - i dil, x + pad - j dil]
  // w[o, c, i, j]: the forward product over grad_out (channels-last) with w as (c, tap, o).
  Tensor gh = scratch(g.n * g.oh * g.ow * g.o, device);
  Tensor wp = scratch(g.o * taps * g.c, device);
  transpose(grad_out.data<float>(), gh.data<float>(), g.n, g.o, g.oh * g.ow, device, stream);
  transpose(w.data<float>(), wp.data<float>(), 1, g.o, g.c * taps, device, stream);
  if (!strided) {
    if (!fprop(gh.data<float>(), g.n, g.o, g.oh, g.ow, wp.data<float>(), g.c, g.kh, g.kw, g.h,
               g.w, 1, 1, g.pad_h, g.pad_w, -g.dil_h, -g.dil_w, nullptr, grad_in.data<float>(),
               device, stream)) {
      return false;
    }
    g_launches.fetch_add(1);
    return true;
  }
  if (empty_phase) {  // pixels that no tap reaches (e.g. a 1x1 stride-2 convolution)
    MT_CUDA_CHECK(cudaMemsetAsync(grad_in.data<float>(), 0,
                                  static_cast<size_t>(g.n * g.c * g.h * g.w) * sizeof(float),
                                  stream));
  }
  for (const Phase& ph : phases) {
    const int64_t gh_rows = (g.h - ph.ofy + g.stride_h - 1) / g.stride_h;
    const int64_t gw_cols = (g.w - ph.ofx + g.stride_w - 1) / g.stride_w;
    if (!fprop(gh.data<float>(), g.n, g.o, g.oh, g.ow, wp.data<float>(), g.c, g.kh, g.kw, gh_rows,
               gw_cols, 1, 1, 0, 0, 0, 0, nullptr, grad_in.data<float>(), device, stream, &ph)) {
      // Only a tensor map the driver refuses gets here, the same for every phase: the first
      // phase fails before anything is written, so the older kernels can take the pass.
      return false;
    }
  }
  g_launches.fetch_add(1);
  return true;
}

bool conv2d_backward_weight_sm90(const Tensor& grad_out, const Tensor& x, const Conv2dGeom& g,
                                 const Tensor& grad_w, int device, cudaStream_t stream) {
  if (!common_ok(g, device)) return false;
  // Flat: stride 1 with the output grid equal to the input grid (the flat pixel index of dY is
  // that of X), whole 32-pixel k-tiles per image, and 16-byte aligned row shifts. Otherwise an
  // explicit K-major im2col of X (cols) when it stays small: strided layers, 4x4 images.
  const int64_t hw = g.h * g.w, taps = g.kh * g.kw, sms = device_info(device).sms;
  const float* dy = grad_out.data<float>();
  const float* xs_src = x.data<float>();
  const bool flat = g.stride_h == 1 && g.stride_w == 1 && g.oh == g.h && g.ow == g.w &&
                    hw % kBK == 0 && g.w % 4 == 0 && aligned16(dy) && aligned16(xs_src);
  const int64_t kcols = g.n * g.oh * g.ow;  // K of the cols form
  if (!flat && (kcols % 4 != 0 || taps * g.c * kcols > (int64_t(128) << 20))) return false;
  bool shifted = false;
  for (int64_t j = 0; flat && j < g.kw; ++j) {
    if ((g.dil_w * j - g.pad_w) % 4 != 0) shifted = true;
  }

  Wgrad p{};
  p.o = static_cast<int>(g.o), p.c = static_cast<int>(g.c), p.taps = static_cast<int>(taps);
  p.kw = static_cast<int>(g.kw), p.w = static_cast<int>(g.w);
  p.bm = g.o <= 64 ? 64 : 128;
  // Columns: 256 (or 128) per tile; channels below that share a tile among several taps.
  int bn = 0;
  if (g.c >= 256) {
    bn = 256, p.tpt = 1, p.cpt = 256;
  } else {
    for (int cand : {256, 128, 64}) {
      if (cand % g.c == 0 && cand / g.c <= 4) {
        bn = cand, p.tpt = static_cast<int>(cand / g.c), p.cpt = static_cast<int>(g.c);
        break;
      }
    }
    if (bn == 0) return false;  // e.g. 3 channels: the older kernels
  }
  p.cblocks = static_cast<int>((g.c + p.cpt - 1) / p.cpt);
  p.tap_tiles = static_cast<int>((taps + p.tpt - 1) / p.tpt);
  p.tiles_m = static_cast<int>((g.o + p.bm - 1) / p.bm);
  p.tiles_n = p.tap_tiles * p.cblocks;
  p.kpi = static_cast<int>(flat ? hw / kBK : (kcols + kBK - 1) / kBK);
  const int64_t ktotal = flat ? g.n * p.kpi : p.kpi;
  if (ktotal > INT32_MAX / 2) return false;
  p.ktotal = static_cast<int>(ktotal);
  const int64_t per_split = static_cast<int64_t>(p.tiles_m) * p.tiles_n;
  // About two waves of CTAs, each split at least 8 k-tiles deep.
  const int64_t want = std::max<int64_t>(
      1, std::min<int64_t>((2 * sms + per_split - 1) / per_split, ktotal / 8));
  p.kps = static_cast<int>((ktotal + want - 1) / want);
  p.splits = static_cast<int>((ktotal + p.kps - 1) / p.kps);
  p.tiles = per_split * p.splits;
  p.off_h = static_cast<int>(-g.pad_h), p.off_w = static_cast<int>(-g.pad_w);
  p.step_h = static_cast<int>(g.dil_h), p.step_w = static_cast<int>(g.dil_w);
  p.copies = shifted ? static_cast<int>(g.kw) : (flat ? 1 : static_cast<int>(taps));
  p.cols = !flat;
  Tensor ws = scratch(static_cast<int64_t>(p.splits) * taps * g.o * g.c, device);
  p.ws = ws.data<float>();
  Tensor xs;
  if (shifted) {
    const int64_t rows = g.n * g.c * g.h, total = p.copies * rows * g.w;
    xs = scratch(total, device);
    shift_columns_kernel<<<grid_size((total + 255) / 256, device), 256, 0, stream>>>(
        xs_src, xs.data<float>(), rows, static_cast<int>(g.w), static_cast<int>(g.w), p.copies,
        p.off_w, p.step_w);
    after_launch(stream);
  }

  Tensor dyt, xcols;
  if (!flat) {  // dY as (o, n * pixels) and X as (tap, c, n * pixels)
    const int64_t ohw = g.oh * g.ow;
    dyt = scratch(g.o * kcols, device);
    swap_outer_kernel<<<grid_size((g.o * kcols + 255) / 256, device), 256, 0, stream>>>(
        dy, dyt.data<float>(), g.n, g.o, ohw);
    after_launch(stream);
    xcols = scratch(taps * g.c * kcols, device);
    const ColsGeom cg{g.n,      g.c,      g.h,      g.w,      g.oh,     g.ow,     g.kw,
                      taps,     g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h, g.dil_w};
    im2col_kmajor_kernel<<<grid_size((taps * g.c * kcols + 255) / 256, device), 256, 0, stream>>>(
        xs_src, xcols.data<float>(), cg);
    after_launch(stream);
  }

  CUtensorMap ta, tb;
  const int64_t es = sizeof(float);
  const int64_t ka = flat ? hw : kcols, na = flat ? g.n : 1;
  const int64_t a_dims[3] = {ka, g.o, na};
  const int64_t a_strides[2] = {ka * es, g.o * ka * es};
  const int a_box[3] = {kBK, p.bm, 1};
  const int64_t b_dims[4] = {ka, g.c, na, p.copies};
  const int64_t b_strides[3] = {ka * es, g.c * ka * es, na * g.c * ka * es};
  const int b_box[4] = {kBK, p.cpt, 1, 1};
  const int ones[4] = {1, 1, 1, 1};
  const float* a_src = flat ? dy : dyt.data<float>();
  const float* b_src = flat ? (shifted ? xs.data<float>() : xs_src) : xcols.data<float>();
  if (!encode_tiled(&ta, tma_type<float>(), 3, a_src, a_dims, a_strides, a_box, ones,
                    CU_TENSOR_MAP_SWIZZLE_128B) ||
      !encode_tiled(&tb, tma_type<float>(), 4, b_src, b_dims, b_strides, b_box, ones,
                    CU_TENSOR_MAP_SWIZZLE_128B)) {
    return false;
  }
  launch_tile(ta, tb, p, p.bm, bn, device, stream);
  const int64_t total = g.o * g.c * taps;
  wgrad_sum_kernel<<<grid_size((total + 255) / 256, device), 256, 0, stream>>>(
      p.ws, p.splits, p.taps, g.o * g.c, grad_w.data<float>());
  after_launch(stream);
  g_launches.fetch_add(1);
  return true;
}

}  // namespace mytensor::cuda
