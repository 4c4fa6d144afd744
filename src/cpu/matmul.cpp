// CPU matrix products: a packed, cache-blocked GEMM (the Goto/BLIS loop nest around a
// register-blocked micro-kernel) and bmm over it.
#include <algorithm>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/dispatch.h"
#include "cpu/gemm.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {

// MR x NR is the tile of C held in registers: 6 x 2 AVX2 vectors for either dtype, leaving
// registers for one broadcast of A and two loads of B. KC x NR of packed B (16 KiB for float)
// stays in L1 across a row of tiles, the MC x KC block of packed A in L2, and the KC x NC panel
// of packed B in L3.
template <class T>
struct Blocking;
template <>
struct Blocking<float> {
  static constexpr int MR = 6, NR = 16;
  static constexpr int64_t KC = 256, MC = 120, NC = 2048;
};
template <>
struct Blocking<double> {
  static constexpr int MR = 6, NR = 8;
  static constexpr int64_t KC = 256, MC = 120, NC = 1024;
};

template <class T>
using MicroKernel = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool add,
                             int mr, int nr);

// C[0:mr, 0:nr] (+)= sum over k of a[k] (an MR column of packed A) times b[k] (an NR row of
// packed B). Plain loops over fixed-size arrays: the compiler unrolls them and keeps `acc` in
// vector registers. Edge tiles (mr < MR or nr < NR) compute the full tile on zero-padded panels
// and store only the valid part.
template <class T, int MR, int NR>
[[gnu::always_inline]] inline void micro_kernel_body(int64_t kc, const T* __restrict a,
                                                     const T* __restrict b, T* __restrict c,
                                                     int64_t ldc, bool add, int mr, int nr) {
  T acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i];
#pragma omp simd
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
  }
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; ++i) {
      T* ci = c + i * ldc;
      if (add) {
#pragma omp simd
        for (int j = 0; j < NR; ++j) ci[j] += acc[i][j];
      } else {
#pragma omp simd
        for (int j = 0; j < NR; ++j) ci[j] = acc[i][j];
      }
    }
    return;
  }
  for (int i = 0; i < mr; ++i) {
    T* ci = c + i * ldc;
    for (int j = 0; j < nr; ++j) ci[j] = add ? ci[j] + acc[i][j] : acc[i][j];
  }
}

template <class T>
void micro_kernel_generic(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool add, int mr,
                          int nr) {
  micro_kernel_body<T, Blocking<T>::MR, Blocking<T>::NR>(kc, a, b, c, ldc, add, mr, nr);
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same kernel compiled for AVX2 + FMA, picked at run time: the build targets baseline x86-64
// (no -march=native), which would leave the kernel at SSE2 speed on every modern CPU.
template <class T>
[[gnu::target("avx2,fma")]] void micro_kernel_avx2(int64_t kc, const T* a, const T* b, T* c,
                                                   int64_t ldc, bool add, int mr, int nr) {
  micro_kernel_body<T, Blocking<T>::MR, Blocking<T>::NR>(kc, a, b, c, ldc, add, mr, nr);
}
#endif

template <class T>
MicroKernel<T> select_micro_kernel() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return &micro_kernel_avx2<T>;
#endif
  return &micro_kernel_generic<T>;
}

template <class T>
MicroKernel<T> micro_kernel() {
  static const MicroKernel<T> kernel = select_micro_kernel<T>();
  return kernel;
}

// Packs A[0:mc, 0:kc] into MR-row panels, each stored k-major (MR values per k), zero-padding
// the last panel so the micro-kernel never branches on the edge.
template <class T>
void pack_a(int64_t mc, int64_t kc, MatRef<T> A, T* out) {
  constexpr int MR = Blocking<T>::MR;
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int rows = static_cast<int>(std::min<int64_t>(MR, mc - i0));
    const T* src = A.data + i0 * A.rs;
    if (rows == MR && A.rs == 1) {  // column-major A: each k is MR contiguous values
      for (int64_t k = 0; k < kc; ++k)
        for (int i = 0; i < MR; ++i) out[k * MR + i] = src[k * A.cs + i];
    } else {
      for (int i = 0; i < MR; ++i) {
        if (i < rows) {
          const T* row = src + i * A.rs;
          for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = row[k * A.cs];
        } else {
          for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = T(0);
        }
      }
    }
    out += kc * MR;
  }
}

// Packs B[0:kc, 0:nc] into NR-column panels, each stored k-major (NR values per k).
template <class T>
void pack_b(int64_t kc, int64_t nc, MatRef<T> B, T* out) {
  constexpr int NR = Blocking<T>::NR;
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    const int cols = static_cast<int>(std::min<int64_t>(NR, nc - j0));
    const T* src = B.data + j0 * B.cs;
    if (cols == NR && B.cs == 1) {  // row-major B: each k is NR contiguous values
      for (int64_t k = 0; k < kc; ++k) {
        const T* row = src + k * B.rs;
#pragma omp simd
        for (int j = 0; j < NR; ++j) out[k * NR + j] = row[j];
      }
    } else {
      for (int j = 0; j < NR; ++j) {
        if (j < cols) {
          const T* col = src + j * B.cs;
          for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = col[k * B.rs];
        } else {
          for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = T(0);
        }
      }
    }
    out += kc * NR;
  }
}

// Packing buffers, reused across calls: one pair per thread.
template <class T>
T* scratch(std::vector<T>& buf, int64_t n) {
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(n);
  return buf.data();
}

// The single-threaded GEMM: jc (NC columns) > pc (KC depth, packing B) > ic (MC rows, packing
// A) > jr > ir (micro-kernel).
template <class T>
void gemm_serial(int64_t M, int64_t N, int64_t K, MatRef<T> A, MatRef<T> B, T* C, int64_t ldc,
                 bool accumulate) {
  using Blk = Blocking<T>;
  constexpr int MR = Blk::MR, NR = Blk::NR;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  thread_local std::vector<T> a_buf, b_buf;
  const int64_t kc_max = std::min(K, Blk::KC);
  T* a_pack = scratch(a_buf, ((std::min(M, Blk::MC) + MR - 1) / MR) * MR * kc_max);
  T* b_pack = scratch(b_buf, ((std::min(N, Blk::NC) + NR - 1) / NR) * NR * kc_max);
  const MicroKernel<T> kernel = micro_kernel<T>();
  for (int64_t jc = 0; jc < N; jc += Blk::NC) {
    const int64_t nc = std::min(Blk::NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += Blk::KC) {
      const int64_t kc = std::min(Blk::KC, K - pc);
      // The first K block overwrites C unless the caller accumulates; later blocks add.
      const bool add = accumulate || pc > 0;
      pack_b(kc, nc, MatRef<T>{B.data + pc * B.rs + jc * B.cs, B.rs, B.cs}, b_pack);
      for (int64_t ic = 0; ic < M; ic += Blk::MC) {
        const int64_t mc = std::min(Blk::MC, M - ic);
        pack_a(mc, kc, MatRef<T>{A.data + ic * A.rs + pc * A.cs, A.rs, A.cs}, a_pack);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
          const T* b_panel = b_pack + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            kernel(kc, a_pack + ir * kc, b_panel, C + (ic + ir) * ldc + jc + jr, ldc, add, mr,
                   nr);
          }
        }
      }
    }
  }
}

int max_threads() {
#ifdef _OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

// Below this many multiply-adds a GEMM runs on one thread (thread start-up would dominate).
constexpr int64_t kParallelFlops = int64_t(1) << 18;

}  // namespace

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, MatRef<T> A, MatRef<T> B, T* C, int64_t ldc,
          bool accumulate) {
  if (M <= 0 || N <= 0) return;
  const int threads = max_threads();
  if (threads <= 1 || M * N * std::max<int64_t>(K, 1) < kParallelFlops) {
    gemm_serial(M, N, K, A, B, C, ldc, accumulate);
    return;
  }
  // Split the larger of M and N into per-thread slabs aligned to the register tile; each thread
  // packs its own panels (the shared operand is packed once per thread, a cost of K*N or K*M
  // against the slab's M*N*K/threads multiply-adds).
  constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
  const bool split_m = M / MR >= N / NR;
  const int64_t unit = split_m ? MR : NR;
  const int64_t units = ((split_m ? M : N) + unit - 1) / unit;
  parallel_for(units, 0, [&](int64_t u0, int64_t u1) {
    const int64_t begin = u0 * unit, end = std::min(u1 * unit, split_m ? M : N);
    if (split_m) {
      gemm_serial(end - begin, N, K, MatRef<T>{A.data + begin * A.rs, A.rs, A.cs}, B,
                  C + begin * ldc, ldc, accumulate);
    } else {
      gemm_serial(M, end - begin, K, A, MatRef<T>{B.data + begin * B.cs, B.rs, B.cs},
                  C + begin, ldc, accumulate);
    }
  });
}

template void gemm<float>(int64_t, int64_t, int64_t, MatRef<float>, MatRef<float>, float*,
                          int64_t, bool);
template void gemm<double>(int64_t, int64_t, int64_t, MatRef<double>, MatRef<double>, double*,
                           int64_t, bool);

void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate) {
  dispatch<Accepts::Floating>(out.dtype(), "bmm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t batch = out.shape()[0], M = out.shape()[1], N = out.shape()[2];
    const int64_t K = a.shape()[2];
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.data<T>();
    auto one = [&](int64_t i) {
      gemm(M, N, K, MatRef<T>{pa + i * a.strides()[0], a.strides()[1], a.strides()[2]},
           MatRef<T>{pb + i * b.strides()[0], b.strides()[1], b.strides()[2]}, pc + i * M * N, N,
           accumulate);
    };
    // Many small products: one thread per product. Few large ones: threads inside each GEMM.
    const int64_t flops = std::max<int64_t>(M * N * K, 1);
    if (batch >= 4 * max_threads() || flops < kParallelFlops) {
      parallel_for(batch, kParallelFlops / flops, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) one(i);
      });
    } else {
      for (int64_t i = 0; i < batch; ++i) one(i);
    }
  });
}

}  // namespace mytensor::cpu
