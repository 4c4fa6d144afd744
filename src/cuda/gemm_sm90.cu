// Hopper (sm_90a) GEMM core: wgmma tensor-core products fed by TMA through an mbarrier ring,
// warp-specialised and persistent. Used by gemm() (matmul.cu) for float32 with TF32 allowed on
// compute capability 9.0; the bf16 instantiation is compiled for issue #13 but not yet exposed.
//
// Tiling: a CTA owns 128 x kBN of C (kBN = 256 or 128) for one batch entry; three warpgroups:
// warpgroup 0 is the producer (one thread issues the TMA copies, setmaxnreg gives its registers
// away), warpgroups 1-2 are consumers, each computing 64 x kBN with wgmma m64nNk8 (tf32) or
// m64nNk16 (bf16) into kBN / 2 fp32 accumulator registers per thread. One k-tile is 128 bytes of
// K (32 floats, 64 bf16): exactly one 128-byte swizzle row, so the TMA box and the wgmma shared
// memory descriptor agree on the canonical K-major SWIZZLE_128B layout. kStages k-tiles are in
// flight (full/empty mbarrier pairs). The grid is one CTA per SM, walking tiles with a stride of
// the grid size, in groups of 8 tile rows for L2 reuse; the epilogue writes C from registers
// (bias, accumulate, the convolutions' column scatter, bounds) while the producer already loads
// the next tile.
//
// wgmma reads tf32 (and, without a transpose bit, bf16) operands K-major only: A must be
// row-major (k contiguous) and B column-major. Operands in the other layout, or whose pointer or
// strides are not 16-byte aligned as TMA needs, are first packed into a K-major scratch buffer
// (one transposing copy, 8 bytes per element moved against 2 * other_dim flops per element).
//
// Two numbers (METHOD.md), 4096^3 tf32: 137 GFLOP at ~495 TFLOP/s dense tf32 = 0.28 ms; 201 MB
// moved at 4.8 TB/s = 0.04 ms: arithmetic-bound, floor ~0.28 ms (cuBLAS measured 337-393 TFLOP/s).
#include <cuda.h>  // CUtensorMap and its enums only: the driver is reached through the runtime
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cudaTypedefs.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <type_traits>

#include "core/check.h"
#include "core/tensor_impl.h"
#include "cuda/cuda_check.h"
#include "cuda/gemm.h"
#include "cuda/sm90.cuh"

namespace mytensor::cuda {

namespace {

using namespace sm90;  // NOLINT: the PTX wrappers

constexpr int kBM = 128;             // CTA tile rows: two consumer warpgroups of 64
constexpr int kKBytes = 128;         // one k-tile: 128 bytes of K = one swizzle row
constexpr int kConsumers = 2;        // consumer warpgroups
constexpr int kSm90Threads = 128 * (1 + kConsumers);
constexpr int kProducerRegs = 40, kConsumerRegs = 232;  // 128*40 + 256*232 <= 64K registers

template <int BN>
struct Sm90Config {
  static constexpr int kABytes = kBM * kKBytes;  // one stage of A: 16 KiB
  static constexpr int kBBytes = BN * kKBytes;   // one stage of B: 32 or 16 KiB
  static constexpr int kStageBytes = kABytes + kBBytes;
  static constexpr int kStages = BN == 256 ? 4 : 6;  // 192 KiB of ring either way
  // + 1 KiB to align the ring to the 1024-byte swizzle atom, + the barriers
  static constexpr int kSmemBytes = kStages * kStageBytes + 1024 + 2 * kStages * 8;
};

template <class T>
struct Sm90Params {
  GemmDesc<T> d;
  int64_t tiles_m, tiles_n, tiles;  // tiles = tiles_m * tiles_n * batches
  int ktiles;
  int a_ui, a_uo, b_ui, b_uo;  // 1 when the tensor map has that batch dim, 0 when broadcast
  bool vec2;                   // C rows admit aligned float2 stores (float, no scatter)
};

// ---- the kernel --------------------------------------------------------------------------------

// Tile index -> (batch z, tile row, tile column), in groups of 8 tile rows per batch.
__device__ __forceinline__ void sm90_tile(int64_t t, int64_t tiles_m, int64_t tiles_n, int64_t* z,
                                          int64_t* tm, int64_t* tn) {
  constexpr int64_t kGroup = 8;
  const int64_t per_batch = tiles_m * tiles_n;
  *z = t / per_batch;
  const int64_t r0 = t - *z * per_batch;
  const int64_t per_group = kGroup * tiles_n;
  const int64_t group = r0 / per_group;
  const int64_t first_m = group * kGroup;
  const int64_t gm = tiles_m - first_m < kGroup ? tiles_m - first_m : kGroup;
  const int64_t r = r0 - group * per_group;
  *tm = first_m + r % gm;
  *tn = r / gm;
}

template <class T>
__device__ __forceinline__ float to_f32(T v) {
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else {
    return __bfloat162float(v);
  }
}
template <class T>
__device__ __forceinline__ T from_f32(float v) {
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else {
    return __float2bfloat16(v);
  }
}

template <class T>
__device__ __forceinline__ void sm90_store(const GemmDesc<T>& d, T* crow, int64_t j, float v) {
  int64_t col = j;
  if (d.c_col_div > 0) {
    const int64_t q = j / d.c_col_div;
    col = q * d.c_col_hi + (j - q * d.c_col_div);
  }
  if (d.accumulate) v += to_f32(crow[col]);
  crow[col] = from_f32<T>(v);
}

// C from one consumer thread's registers. The m64nN accumulator layout: warp w of the warpgroup
// holds rows 16w..16w+15; register 4i+2h+e is row 16w + lane/4 + 8h, column 8i + 2(lane%4) + e.
template <class T, int BN>
__device__ __forceinline__ void sm90_epilogue(const Sm90Params<T>& p, const float (&acc)[BN / 2],
                                              int64_t z, int64_t m0, int64_t n0, int wg, int tid) {
  const GemmDesc<T>& d = p.d;
  const int warp = tid >> 5, lane = tid & 31;
  const int64_t zo = z / d.batch_inner, zi = z - zo * d.batch_inner;
  T* c = d.c + zo * d.c_stride_outer + zi * d.c_stride_inner;
  const T* bias = d.bias != nullptr ? d.bias + zi * d.bias_stride_inner : nullptr;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int64_t row = m0 + wg * 64 + warp * 16 + (lane >> 2) + 8 * h;
    if (row >= d.m) continue;
    const float bv = bias != nullptr ? to_f32(bias[row]) : 0.0f;
    T* crow = c + row * d.ldc;
#pragma unroll
    for (int i = 0; i < BN / 8; ++i) {
      const int64_t j = n0 + i * 8 + (lane & 3) * 2;
      float v0 = acc[4 * i + 2 * h] + bv, v1 = acc[4 * i + 2 * h + 1] + bv;
      if constexpr (std::is_same_v<T, float>) {
        if (p.vec2 && j + 1 < d.n) {
          float2* dst = reinterpret_cast<float2*>(crow + j);
          if (d.accumulate) {
            const float2 old = *dst;
            v0 += old.x;
            v1 += old.y;
          }
          *dst = make_float2(v0, v1);
          continue;
        }
      }
      if (j < d.n) sm90_store(d, crow, j, v0);
      if (j + 1 < d.n) sm90_store(d, crow, j + 1, v1);
    }
  }
}

template <class T, int BN>
__global__ void __launch_bounds__(kSm90Threads, 1)
    gemm_sm90_kernel(const __grid_constant__ CUtensorMap tmap_a,
                     const __grid_constant__ CUtensorMap tmap_b, const Sm90Params<T> p) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using C = Sm90Config<BN>;
  constexpr int kStages = C::kStages;
  constexpr int kBK = kKBytes / static_cast<int>(sizeof(T));  // elements of K per k-tile
  extern __shared__ uint8_t smem_raw[];
  const uint32_t raw = smem_u32(smem_raw);
  const uint32_t ring = (raw + 1023) & ~1023u;
  const uint32_t sa = ring, sb = ring + kStages * C::kABytes;
  const uint32_t full0 = ring + kStages * C::kStageBytes, empty0 = full0 + kStages * 8;
  const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      mbar_init(full0 + 8 * s, 1);                    // the producer's arrive + the TMA bytes
      mbar_init(empty0 + 8 * s, kConsumers * 4);      // one arrive per consumer warp
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  const GemmDesc<T>& d = p.d;
  if (wg == 0) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kProducerRegs));
    if (tid == 0) {
      asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(&tmap_a))
                   : "memory");
      asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(&tmap_b))
                   : "memory");
      int stage = 0;
      uint32_t phase = 0;
      for (int64_t t = blockIdx.x; t < p.tiles; t += gridDim.x) {
        int64_t z, tm, tn;
        sm90_tile(t, p.tiles_m, p.tiles_n, &z, &tm, &tn);
        const int zo = static_cast<int>(z / d.batch_inner);
        const int zi = static_cast<int>(z - static_cast<int64_t>(zo) * d.batch_inner);
        const int m0 = static_cast<int>(tm * kBM), n0 = static_cast<int>(tn * BN);
        for (int kt = 0; kt < p.ktiles; ++kt) {
          mbar_wait(empty0 + 8 * stage, phase ^ 1);
          const uint32_t full = full0 + 8 * stage;
          mbar_arrive_expect_tx(full, C::kStageBytes);
          tma_load(sa + stage * C::kABytes, &tmap_a, full, kt * kBK, m0, zi * p.a_ui, zo * p.a_uo);
          tma_load(sb + stage * C::kBBytes, &tmap_b, full, kt * kBK, n0, zi * p.b_ui, zo * p.b_uo);
          if (++stage == kStages) {
            stage = 0;
            phase ^= 1;
          }
        }
      }
    }
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kConsumerRegs));
    const int cw = wg - 1;  // consumer warpgroup: rows 64 * cw .. 64 * cw + 63 of the tile
    const bool arrives = (tid & 31) == 0;
    int stage = 0;
    uint32_t phase = 0;
    for (int64_t t = blockIdx.x; t < p.tiles; t += gridDim.x) {
      int64_t z, tm, tn;
      sm90_tile(t, p.tiles_m, p.tiles_n, &z, &tm, &tn);
      float acc[BN / 2];
#pragma unroll
      for (int i = 0; i < BN / 2; ++i) acc[i] = 0.0f;
      fence_regs(acc);
      int prev = -1;
      for (int kt = 0; kt < p.ktiles; ++kt) {
        mbar_wait(full0 + 8 * stage, phase);
        const uint64_t da = smem_desc(sa + stage * C::kABytes + cw * 64 * kKBytes);
        const uint64_t db = smem_desc(sb + stage * C::kBBytes);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < kKBytes / 32; ++kk) {  // 32 bytes of K per wgmma (k8 tf32, k16 bf16)
          wgmma_tile<T, BN>(acc, da + 2 * kk, db + 2 * kk);
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
      sm90_epilogue<T, BN>(p, acc, z, tm * kBM, tn * BN, cw, tid);
    }
  }
#else
  __trap();  // only the sm_90a pass has the kernel; the host launches it on 9.0 devices only
#endif
}

// Copies one operand into K-major rows (rows x k, row pitch ldp, batches packed), through a
// 32 x 32 shared-memory tile so that both the read (along the source's contiguous dim) and the
// write (along K) are coalesced.
template <class T, bool kKContig>
__global__ void __launch_bounds__(256) sm90_pack_kernel(const T* src, int64_t ld, int64_t s_inner,
                                                        int64_t s_outer, int64_t dim_inner,
                                                        int64_t batches, int64_t rows, int64_t k,
                                                        T* dst, int64_t ldp) {
  __shared__ T tile[32][33];
  const int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
  const int64_t p0 = static_cast<int64_t>(blockIdx.x) * 32;
  const int64_t row_tiles = (rows + 31) / 32;
  for (int64_t w = blockIdx.z * static_cast<int64_t>(gridDim.y) + blockIdx.y;
       w < batches * row_tiles; w += static_cast<int64_t>(gridDim.y) * gridDim.z) {
    const int64_t zp = w / row_tiles, r0 = (w - zp * row_tiles) * 32;
    const int64_t zo = zp / dim_inner, zi = zp - zo * dim_inner;
    const T* s = src + zo * s_outer + zi * s_inner;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int a = ty + 8 * q;
      if constexpr (kKContig) {
        const int64_t r = r0 + a, pk = p0 + tx;
        if (r < rows && pk < k) tile[a][tx] = s[r * ld + pk];
      } else {
        const int64_t r = r0 + tx, pk = p0 + a;
        if (r < rows && pk < k) tile[tx][a] = s[r + pk * ld];
      }
    }
    __syncthreads();
    T* o = dst + zp * rows * ldp;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int a = ty + 8 * q;
      const int64_t r = r0 + a, pk = p0 + tx;
      if (r < rows && pk < k) o[r * ldp + pk] = tile[a][tx];
    }
    __syncthreads();
  }
}

// ---- host side ---------------------------------------------------------------------------------

// One operand as TMA reads it: `rows` K-major rows of `k` elements, row pitch ld, and two batch
// dims (size 1 where the operand is broadcast along that batch dim).
struct Operand {
  const void* ptr = nullptr;
  int64_t rows = 0, k = 0, ld = 0;
  int64_t dim_inner = 1, dim_outer = 1, s_inner = 0, s_outer = 0;
};

template <class T>
bool tma_ready(const Operand& o) {
  constexpr int64_t es = sizeof(T);
  auto ok16 = [](int64_t bytes) { return bytes % 16 == 0 && bytes > 0 && bytes < (int64_t(1) << 40); };
  if (reinterpret_cast<uintptr_t>(o.ptr) % 16 != 0) return false;
  if (o.rows > 1 && !ok16(o.ld * es)) return false;
  if (o.dim_inner > 1 && !ok16(o.s_inner * es)) return false;
  if (o.dim_outer > 1 && !ok16(o.s_outer * es)) return false;
  return true;
}

template <class T>
bool encode(CUtensorMap* map, const Operand& o, int box_rows) {
  constexpr int64_t es = sizeof(T);
  const int64_t row_bytes = o.rows > 1 ? o.ld * es : (o.k * es + 15) / 16 * 16;
  const int64_t mat_bytes = row_bytes * o.rows;
  const int64_t dims[4] = {o.k, o.rows, o.dim_inner, o.dim_outer};
  const int64_t strides[3] = {row_bytes, o.dim_inner > 1 ? o.s_inner * es : mat_bytes,
                              o.dim_outer > 1 ? o.s_outer * es : mat_bytes * o.dim_inner};
  const int box[4] = {static_cast<int>(kKBytes / es), box_rows, 1, 1};
  const int ones[4] = {1, 1, 1, 1};
  return encode_tiled(map, tma_type<T>(), 4, o.ptr, dims, strides, box, ones,
                      CU_TENSOR_MAP_SWIZZLE_128B);
}

// The tensor map of one operand: over the operand itself when it is K-major (k_contig) and TMA
// can read it, else over a packed K-major copy in `holder`. False when neither can be encoded.
template <class T>
bool map_operand(CUtensorMap* map, int box_rows, const T* ptr, bool k_contig, int64_t rows,
                 int64_t k, int64_t ld, int64_t s_inner, int64_t s_outer, int64_t batch_inner,
                 int64_t batch_outer, int device, cudaStream_t stream, Tensor* holder,
                 Operand* used) {
  Operand o;
  o.ptr = ptr;
  o.rows = rows;
  o.k = k;
  o.ld = ld;
  o.dim_inner = s_inner != 0 ? batch_inner : 1;
  o.dim_outer = s_outer != 0 ? batch_outer : 1;
  o.s_inner = s_inner;
  o.s_outer = s_outer;
  if (k_contig && tma_ready<T>(o) && encode<T>(map, o, box_rows)) {
    *used = o;
    return true;
  }

  constexpr int64_t align = 16 / sizeof(T);
  const int64_t ldp = (k + align - 1) / align * align;
  const int64_t batches = o.dim_inner * o.dim_outer;
  const int64_t elems = batches * rows * ldp;
  *holder = Tensor::empty(Shape{(elems * static_cast<int64_t>(sizeof(T)) + 3) / 4}, DType::Float32,
                          Device{DeviceType::CUDA, device});
  T* dst = static_cast<T*>(holder->data_ptr());
  Operand packed;
  packed.ptr = dst;
  packed.rows = rows;
  packed.k = k;
  packed.ld = ldp;
  packed.dim_inner = o.dim_inner;
  packed.dim_outer = o.dim_outer;
  packed.s_inner = rows * ldp;
  packed.s_outer = o.dim_inner * rows * ldp;
  if (!encode<T>(map, packed, box_rows)) return false;
  // x: 32-wide K slices; (y, z): (batch, row tile) pairs, grid-strided.
  const int64_t pairs = batches * ((rows + 31) / 32);
  dim3 grid(static_cast<unsigned>((k + 31) / 32),
            static_cast<unsigned>(std::min<int64_t>(pairs, 65535)),
            static_cast<unsigned>(std::min<int64_t>((pairs + 65534) / 65535, 65535)));
  if (k_contig) {
    sm90_pack_kernel<T, true><<<grid, 256, 0, stream>>>(ptr, ld, s_inner, s_outer, o.dim_inner,
                                                         batches, rows, k, dst, ldp);
  } else {
    sm90_pack_kernel<T, false><<<grid, 256, 0, stream>>>(ptr, ld, s_inner, s_outer, o.dim_inner,
                                                          batches, rows, k, dst, ldp);
  }
  MT_CUDA_CHECK(cudaGetLastError());
  if (sync_after_launch()) MT_CUDA_CHECK(cudaStreamSynchronize(stream));
  *used = packed;
  return true;
}

template <class T, int BN>
void launch_sm90(const CUtensorMap& ta, const CUtensorMap& tb, const Sm90Params<T>& p, int grid,
                 int device, cudaStream_t stream) {
  static std::atomic<uint64_t> configured{0};
  const uint64_t bit = device < 64 ? (uint64_t(1) << device) : 0;
  constexpr int bytes = Sm90Config<BN>::kSmemBytes;
  if (bit == 0 || !(configured.load() & bit)) {
    MT_CUDA_CHECK(cudaFuncSetAttribute(gemm_sm90_kernel<T, BN>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
    configured.fetch_or(bit);
  }
  gemm_sm90_kernel<T, BN><<<grid, kSm90Threads, bytes, stream>>>(ta, tb, p);
  MT_CUDA_CHECK(cudaGetLastError());
  if (sync_after_launch()) MT_CUDA_CHECK(cudaStreamSynchronize(stream));
}

template <class T>
bool gemm_sm90_impl(const GemmDesc<T>& d, bool force, int device, cudaStream_t stream) {
  const DeviceInfo info = device_info(device);
  if (info.cc != 90) return false;
  const int64_t batches = d.batch_outer * d.batch_inner;
  if (d.m <= 0 || d.n <= 0 || d.k <= 0 || batches <= 0) return false;
  if (d.m > INT32_MAX / 2 || d.n > INT32_MAX / 2 || d.k > INT32_MAX / 2) return false;
  if (d.batch_inner > INT32_MAX || d.batch_outer > INT32_MAX) return false;

  // 128 x 256 tiles where they fill the GPU, else 128 x 128.
  const int64_t tiles_m = (d.m + kBM - 1) / kBM;
  const int bn = d.n > 128 && tiles_m * ((d.n + 255) / 256) * batches >= info.sms ? 256 : 128;
  const int64_t tiles_n = (d.n + bn - 1) / bn;
  const int64_t tiles = tiles_m * tiles_n * batches;
  const bool a_direct = d.a_row, b_direct = !d.b_row;
  if (!force) {
    // Worth it when the tiles fill most of the GPU and K is deep enough to pipeline; packing an
    // operand costs 8 bytes per element against 2 * (other dim) flops per element.
    if (tiles < info.sms / 4 || d.k < 128) return false;
    if (!a_direct && d.n < 256) return false;
    if (!b_direct && d.m < 256) return false;
  }

  Tensor a_holder, b_holder;
  CUtensorMap ta, tb;
  Operand a, b;
  if (!map_operand<T>(&ta, kBM, d.a, d.a_row, d.m, d.k, d.lda, d.a_stride_inner, d.a_stride_outer,
                      d.batch_inner, d.batch_outer, device, stream, &a_holder, &a) ||
      !map_operand<T>(&tb, bn, d.b, !d.b_row, d.n, d.k, d.ldb, d.b_stride_inner, d.b_stride_outer,
                      d.batch_inner, d.batch_outer, device, stream, &b_holder, &b)) {
    return false;  // cuTensorMapEncodeTiled refused even a packed copy: the old kernels run it
  }

  Sm90Params<T> p;
  p.d = d;
  p.tiles_m = tiles_m;
  p.tiles_n = tiles_n;
  p.tiles = tiles;
  p.ktiles = static_cast<int>((d.k + kKBytes / sizeof(T) - 1) / (kKBytes / sizeof(T)));
  p.a_ui = a.dim_inner > 1;
  p.a_uo = a.dim_outer > 1;
  p.b_ui = b.dim_inner > 1;
  p.b_uo = b.dim_outer > 1;
  p.vec2 = std::is_same_v<T, float> && d.c_col_div == 0 &&
           reinterpret_cast<uintptr_t>(d.c) % 8 == 0 && d.ldc % 2 == 0 &&
           d.c_stride_inner % 2 == 0 && d.c_stride_outer % 2 == 0;
  const int grid = static_cast<int>(std::min<int64_t>(tiles, info.sms));
  if (bn == 256) {
    launch_sm90<T, 256>(ta, tb, p, grid, device, stream);
  } else {
    launch_sm90<T, 128>(ta, tb, p, grid, device, stream);
  }
  return true;
}

}  // namespace

bool gemm_sm90(const GemmDesc<float>& desc, bool force, int device, cudaStream_t stream) {
  return gemm_sm90_impl<float>(desc, force, device, stream);
}

bool gemm_sm90(const GemmDesc<__nv_bfloat16>& desc, bool force, int device, cudaStream_t stream) {
  return gemm_sm90_impl<__nv_bfloat16>(desc, force, device, stream);
}

}  // namespace mytensor::cuda
