// CPU 2-D convolution: im2col per image + the GEMM for the forward pass, GEMM + col2im for the
// input gradient, and GEMMs against the same columns summed over the batch for the weight
// gradient. Images run in parallel (one column buffer per thread) when there are enough of them;
// otherwise the GEMMs themselves use the threads.
#include <algorithm>
#include <atomic>
#include <unistd.h>  // sysconf: the physical memory a work buffer may not exceed
#include <vector>

#include "core/check.h"
#include "core/dispatch.h"
#include "cpu/gemm.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mytensor::cpu {

namespace {

struct Geometry {
  int64_t N, C, H, W;      // input
  int64_t O, KH, KW;       // weight (O, C/G, KH, KW)
  int64_t OH, OW;          // output
  int64_t G, Cg, Og;       // groups and channels per group
  int64_t ckk, ohw;        // rows of a group's column block (Cg*KH*KW), columns (OH*OW)
  Conv2dParams p;
  // A 1x1 kernel with unit stride and no padding reads the image itself as its columns.
  bool direct() const {
    return KH == 1 && KW == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 &&
           p.pad_w == 0;
  }
};

Geometry geometry(const Shape& x, const Shape& w, const Shape& out, const Conv2dParams& p) {
  Geometry g{};
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.O = w[0], g.KH = w[2], g.KW = w[3];
  g.OH = out[2], g.OW = out[3];
  g.G = p.groups, g.Cg = g.C / g.G, g.Og = g.O / g.G;
  g.ckk = g.Cg * g.KH * g.KW, g.ohw = g.OH * g.OW;
  g.p = p;
  return g;
}

int threads() {
#ifdef _OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

// The elements of one image's column buffer (C*KH*KW, OH*OW), checked before any thread starts:
// it can be far larger than the input or the output.
int64_t column_elements(const Geometry& g, const char* op) {
  if (g.direct()) return 0;
  const int64_t rows = checked_mul(checked_mul(g.C, g.KH, op, "the column buffer"), g.KW, op,
                                   "the column buffer");
  const int64_t n = checked_mul(rows, g.ohw, op, "the column buffer");
  checked_mul(n, static_cast<int64_t>(sizeof(double)), op, "the column buffer's bytes");
  return n;
}

// Sizes a per-thread buffer inside a parallel region, where an exception may not escape: on
// failure sets `failed` and returns false; the caller raises once the region has ended.
// A request above the machine's physical memory fails at once, without trying: an allocator
// that aborts on failure (a sanitizer's, or an overcommitting one) would end the process.
inline bool above_physical_memory(double bytes) {
  static const double physical =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  return physical > 0 && bytes > physical;
}

template <class T>
bool reserve(std::vector<T>& buf, int64_t n, std::atomic<int64_t>& failed) {
  if (above_physical_memory(static_cast<double>(n) * sizeof(T))) {
    failed = n;
    return false;
  }
  try {
    buf.assign(static_cast<size_t>(n), T(0));
    return true;
  } catch (const std::exception&) {
    failed = n;
    return false;
  }
}

template <class T>
void raise_if_failed(const std::atomic<int64_t>& failed, const char* op) {
  const int64_t n = failed.load();
  MT_CHECK(n < 0, OutOfMemoryError, "[", op, "] out of memory: a per-thread work buffer of ",
           n, " elements (", static_cast<double>(n) * sizeof(T) / (1 << 30), " GiB) could not be "
           "allocated");
}

// Images run one per thread when each thread gets at least one; else one at a time.
int64_t image_grain(const Geometry& g) { return g.N >= threads() ? 0 : g.N; }

// The valid output columns [lo, hi) of a row with unit stride, where ow reads input column
// ow + shift.
inline void valid_range(int64_t OW, int64_t W, int64_t shift, int64_t* lo, int64_t* hi) {
  *lo = std::clamp<int64_t>(-shift, 0, OW);
  *hi = std::clamp<int64_t>(W - shift, *lo, OW);
}

// cols (C*KH*KW, OH*OW): row (c, kh, kw) holds the input pixel each output position reads
// through that kernel tap (0 in the padding).
template <class T>
void im2col(const T* x, const Geometry& g, T* cols) {
  const Conv2dParams& p = g.p;
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        T* row = cols + ((c * g.KH + kh) * g.KW + kw) * g.ohw;
        const int64_t shift = kw * p.dilation_w - p.pad_w;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          T* dst = row + oh * g.OW;
          const int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
          if (ih < 0 || ih >= g.H) {
            std::fill(dst, dst + g.OW, T(0));
            continue;
          }
          const T* src = x + (c * g.H + ih) * g.W;
          if (p.stride_w == 1) {
            int64_t lo, hi;
            valid_range(g.OW, g.W, shift, &lo, &hi);
            std::fill(dst, dst + lo, T(0));
            std::copy(src + lo + shift, src + hi + shift, dst + lo);
            std::fill(dst + hi, dst + g.OW, T(0));
          } else {
            for (int64_t ow = 0; ow < g.OW; ++ow) {
              const int64_t iw = ow * p.stride_w + shift;
              dst[ow] = iw >= 0 && iw < g.W ? src[iw] : T(0);
            }
          }
        }
      }
    }
  }
}

// The adjoint of im2col: x (zeroed by the caller) += every column entry at the pixel it read.
template <class T>
void col2im(const T* cols, const Geometry& g, T* x) {
  const Conv2dParams& p = g.p;
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const T* row = cols + ((c * g.KH + kh) * g.KW + kw) * g.ohw;
        const int64_t shift = kw * p.dilation_w - p.pad_w;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
          if (ih < 0 || ih >= g.H) continue;
          const T* src = row + oh * g.OW;
          T* dst = x + (c * g.H + ih) * g.W;
          if (p.stride_w == 1) {
            int64_t lo, hi;
            valid_range(g.OW, g.W, shift, &lo, &hi);
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow + shift] += src[ow];
          } else {
            for (int64_t ow = 0; ow < g.OW; ++ow) {
              const int64_t iw = ow * p.stride_w + shift;
              if (iw >= 0 && iw < g.W) dst[iw] += src[ow];
            }
          }
        }
      }
    }
  }
}

}  // namespace

void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
            const Tensor& out) {
  dispatch<Accepts::Floating>(x.dtype(), "conv2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Geometry g = geometry(x.shape(), w.shape(), out.shape(), p);
    const T* px = x.data<T>();
    const T* pw = w.data<T>();
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    T* po = out.data<T>();
    const int64_t ncols = column_elements(g, "conv2d");
    std::atomic<int64_t> failed{-1};
    parallel_for(g.N, image_grain(g), [&](int64_t begin, int64_t end) {
      std::vector<T> buf;
      if (!reserve(buf, ncols, failed)) return;
      for (int64_t n = begin; n < end; ++n) {
        const T* xn = px + n * g.C * g.H * g.W;
        T* on = po + n * g.O * g.ohw;
        const T* cols = xn;
        if (!g.direct()) {
          im2col(xn, g, buf.data());
          cols = buf.data();
        }
        // The bias is written first and the GEMM accumulates onto it.
        if (pb) {
          for (int64_t o = 0; o < g.O; ++o) std::fill(on + o * g.ohw, on + (o + 1) * g.ohw, pb[o]);
        }
        for (int64_t gi = 0; gi < g.G; ++gi) {
          gemm<T>(g.Og, g.ohw, g.ckk, MatRef<T>{pw + gi * g.Og * g.ckk, g.ckk, 1},
                  MatRef<T>{cols + gi * g.ckk * g.ohw, g.ohw, 1}, on + gi * g.Og * g.ohw, g.ohw,
                  pb != nullptr);
        }
      }
    });
    raise_if_failed<T>(failed, "conv2d");
  });
}

void conv2d_backward_input(const Tensor& grad_out, const Tensor& w, const Conv2dParams& p,
                           const Tensor& grad_in) {
  dispatch<Accepts::Floating>(grad_in.dtype(), "conv2d_backward_input", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Geometry g = geometry(grad_in.shape(), w.shape(), grad_out.shape(), p);
    const T* pg = grad_out.data<T>();
    const T* pw = w.data<T>();
    T* pi = grad_in.data<T>();
    const int64_t ncols = column_elements(g, "conv2d_backward_input");
    std::atomic<int64_t> failed{-1};
    parallel_for(g.N, image_grain(g), [&](int64_t begin, int64_t end) {
      std::vector<T> buf;
      if (!reserve(buf, ncols, failed)) return;
      for (int64_t n = begin; n < end; ++n) {
        const T* gn = pg + n * g.O * g.ohw;
        T* in = pi + n * g.C * g.H * g.W;
        // Columns = W_g^T @ grad_out_g; a direct (1x1) convolution writes them as the gradient.
        T* cols = g.direct() ? in : buf.data();
        for (int64_t gi = 0; gi < g.G; ++gi) {
          const T* wg = pw + gi * g.Og * g.ckk;
          gemm<T>(g.ckk, g.ohw, g.Og, MatRef<T>{wg, 1, g.ckk},
                  MatRef<T>{gn + gi * g.Og * g.ohw, g.ohw, 1}, cols + gi * g.ckk * g.ohw, g.ohw,
                  false);
        }
        if (!g.direct()) {
          std::fill(in, in + g.C * g.H * g.W, T(0));
          col2im(cols, g, in);
        }
      }
    });
    raise_if_failed<T>(failed, "conv2d_backward_input");
  });
}

void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Conv2dParams& p,
                            const Tensor& grad_w) {
  dispatch<Accepts::Floating>(x.dtype(), "conv2d_backward_weight", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Geometry g = geometry(x.shape(), grad_w.shape(), grad_out.shape(), p);
    const T* pg = grad_out.data<T>();
    const T* px = x.data<T>();
    T* pw = grad_w.data<T>();
    const int64_t wsize = g.O * g.ckk;
    std::fill(pw, pw + wsize, T(0));
    const int64_t ncols = column_elements(g, "conv2d_backward_weight");
    std::atomic<int64_t> failed{-1};
    // Each thread sums its images' products into a private gradient, then adds it to grad_w.
    parallel_for(g.N, image_grain(g), [&](int64_t begin, int64_t end) {
      const bool shared = end - begin == g.N;  // one thread does every image: write in place
      std::vector<T> local, buf;
      if (!reserve(local, shared ? 0 : wsize, failed) || !reserve(buf, ncols, failed)) return;
      T* acc = shared ? pw : local.data();
      for (int64_t n = begin; n < end; ++n) {
        const T* gn = pg + n * g.O * g.ohw;
        const T* xn = px + n * g.C * g.H * g.W;
        const T* cols = xn;
        if (!g.direct()) {
          im2col(xn, g, buf.data());
          cols = buf.data();
        }
        for (int64_t gi = 0; gi < g.G; ++gi) {
          gemm<T>(g.Og, g.ckk, g.ohw, MatRef<T>{gn + gi * g.Og * g.ohw, g.ohw, 1},
                  MatRef<T>{cols + gi * g.ckk * g.ohw, 1, g.ohw}, acc + gi * g.Og * g.ckk, g.ckk,
                  true);
        }
      }
      if (!shared) {
#pragma omp critical(mytensor_conv2d_backward_weight)
        for (int64_t i = 0; i < wsize; ++i) pw[i] += acc[i];
      }
    });
    raise_if_failed<T>(failed, "conv2d_backward_weight");
  });
}

}  // namespace mytensor::cpu
