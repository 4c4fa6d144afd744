// CUDA 2-d convolution as im2col + the GEMM of matmul.cu (TF32 tensor cores for float32 when
// allow_tf32_conv()). Columns are laid out (C*KH*KW, n*OH*OW) for a chunk of n samples, so one
// GEMM covers the chunk; its epilogue writes straight into NCHW and adds the bias. 1x1 stride-1
// unpadded convolutions skip im2col and multiply the input in place.
#include <algorithm>
#include <climits>
#include <cstdint>

#include "cuda/gemm.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"
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

}  // namespace

void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
            const Tensor& out) {
  ConvGeometry g(x.shape(), w.shape(), out.shape(), p);
  if (g.n == 0 || g.o == 0 || g.ohw == 0) return;
  LaunchContext ctx(out);
  dispatch_float(out.dtype(), "conv2d", [&](auto tag) {
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
  dispatch_float(grad_in.dtype(), "conv2d_backward_input", [&](auto tag) {
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
  dispatch_float(grad_w.dtype(), "conv2d_backward_weight", [&](auto tag) {
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
