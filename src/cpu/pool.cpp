// CPU pooling: max, average and adaptive average over (N, C, H, W), one input plane per task.
// Window bounds follow PyTorch's CPU kernels exactly (including which index a tie or NaN keeps).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/dispatch.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {

struct Planes {
  int64_t count, H, W, OH, OW;
};

Planes planes(const Tensor& in, const Tensor& out) {
  const Shape& s = in.shape();
  return {s[0] * s[1], s[2], s[3], out.shape()[2], out.shape()[3]};
}

// A plane's work estimate, OH * OW * kH * kW, saturating: it only picks a grain, and a huge
// (padded) kernel over a tiny output would overflow it.
int64_t window_work(const Planes& pl, const Pool2dParams& p) {
  int64_t w = 1;
  for (int64_t f : {pl.OH, pl.OW, p.kernel_h, p.kernel_w})
    if (__builtin_mul_overflow(w, f, &w)) return INT64_MAX;
  return w;
}

// Runs f(plane) over every plane, several planes per thread task when planes are small.
template <class F>
void for_each_plane(const Planes& pl, int64_t work_per_plane, F&& f) {
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(work_per_plane, 1));
  parallel_for(pl.count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) f(i);
  });
}

// Adaptive pooling window [start, end) of output i: floor(i*in/out) to ceil((i+1)*in/out).
inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

// The clipped window of an average pool and its divisor (count_include_pad counts the padding
// inside H + pad, as PyTorch does).
struct AvgWindow {
  int64_t hs, he, ws, we;
  int64_t divisor;
};

inline AvgWindow avg_window(int64_t oh, int64_t ow, int64_t H, int64_t W, const Pool2dParams& p) {
  int64_t hs = oh * p.stride_h - p.pad_h, ws = ow * p.stride_w - p.pad_w;
  int64_t he = std::min(hs + p.kernel_h, H + p.pad_h), we = std::min(ws + p.kernel_w, W + p.pad_w);
  const int64_t padded = (he - hs) * (we - ws);
  hs = std::max<int64_t>(hs, 0), ws = std::max<int64_t>(ws, 0);
  he = std::min(he, H), we = std::min(we, W);
  return {hs, he, ws, we, p.count_include_pad ? padded : (he - hs) * (we - ws)};
}

}  // namespace

void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out, const Tensor& indices) {
  dispatch<Accepts::Floating>(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Planes pl = planes(x, out);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    int64_t* pi = indices.data<int64_t>();
    for_each_plane(pl, window_work(pl, p), [&](int64_t plane) {
      const T* src = px + plane * pl.H * pl.W;
      T* dst = po + plane * pl.OH * pl.OW;
      int64_t* idx = pi + plane * pl.OH * pl.OW;
      for (int64_t oh = 0; oh < pl.OH; ++oh) {
        const int64_t h0 = oh * p.stride_h - p.pad_h;
        const int64_t hs = std::max<int64_t>(h0, 0), he = std::min(h0 + p.kernel_h, pl.H);
        for (int64_t ow = 0; ow < pl.OW; ++ow) {
          const int64_t w0 = ow * p.stride_w - p.pad_w;
          const int64_t ws = std::max<int64_t>(w0, 0), we = std::min(w0 + p.kernel_w, pl.W);
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_i = hs * pl.W + ws;
          for (int64_t ih = hs; ih < he; ++ih) {
            for (int64_t iw = ws; iw < we; ++iw) {
              const T v = src[ih * pl.W + iw];
              // NaN propagates (the last NaN of the window wins), as in PyTorch.
              if (v > best || std::isnan(v)) {
                best = v;
                best_i = ih * pl.W + iw;
              }
            }
          }
          dst[oh * pl.OW + ow] = best;
          idx[oh * pl.OW + ow] = best_i;
        }
      }
    });
  });
}

void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in) {
  dispatch<Accepts::Floating>(grad_in.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Planes pl = planes(grad_in, grad_out);
    const T* pg = grad_out.data<T>();
    const int64_t* pi = indices.data<int64_t>();
    T* pin = grad_in.data<T>();
    for_each_plane(pl, pl.H * pl.W + pl.OH * pl.OW, [&](int64_t plane) {
      T* dst = pin + plane * pl.H * pl.W;
      std::fill(dst, dst + pl.H * pl.W, T(0));
      const T* g = pg + plane * pl.OH * pl.OW;
      const int64_t* idx = pi + plane * pl.OH * pl.OW;
      for (int64_t i = 0; i < pl.OH * pl.OW; ++i) dst[idx[i]] += g[i];
    });
  });
}

void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out) {
  dispatch<Accepts::Floating>(x.dtype(), "avg_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Planes pl = planes(x, out);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for_each_plane(pl, window_work(pl, p), [&](int64_t plane) {
      const T* src = px + plane * pl.H * pl.W;
      T* dst = po + plane * pl.OH * pl.OW;
      for (int64_t oh = 0; oh < pl.OH; ++oh) {
        for (int64_t ow = 0; ow < pl.OW; ++ow) {
          const AvgWindow win = avg_window(oh, ow, pl.H, pl.W, p);
          T sum = 0;
          for (int64_t ih = win.hs; ih < win.he; ++ih)
            for (int64_t iw = win.ws; iw < win.we; ++iw) sum += src[ih * pl.W + iw];
          dst[oh * pl.OW + ow] = sum / static_cast<T>(win.divisor);
        }
      }
    });
  });
}

void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p, const Tensor& grad_in) {
  dispatch<Accepts::Floating>(grad_in.dtype(), "avg_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Planes pl = planes(grad_in, grad_out);
    const T* pg = grad_out.data<T>();
    T* pin = grad_in.data<T>();
    for_each_plane(pl, window_work(pl, p), [&](int64_t plane) {
      T* dst = pin + plane * pl.H * pl.W;
      std::fill(dst, dst + pl.H * pl.W, T(0));
      const T* g = pg + plane * pl.OH * pl.OW;
      for (int64_t oh = 0; oh < pl.OH; ++oh) {
        for (int64_t ow = 0; ow < pl.OW; ++ow) {
          const AvgWindow win = avg_window(oh, ow, pl.H, pl.W, p);
          const T share = g[oh * pl.OW + ow] / static_cast<T>(win.divisor);
          for (int64_t ih = win.hs; ih < win.he; ++ih)
            for (int64_t iw = win.ws; iw < win.we; ++iw) dst[ih * pl.W + iw] += share;
        }
      }
    });
  });
}

void adaptive_avg_pool2d(const Tensor& x, const Tensor& out) {
  dispatch<Accepts::Floating>(x.dtype(), "adaptive_avg_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Planes pl = planes(x, out);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for_each_plane(pl, pl.H * pl.W + pl.OH * pl.OW, [&](int64_t plane) {
      const T* src = px + plane * pl.H * pl.W;
      T* dst = po + plane * pl.OH * pl.OW;
      for (int64_t oh = 0; oh < pl.OH; ++oh) {
        const int64_t hs = adaptive_start(oh, pl.H, pl.OH), he = adaptive_end(oh, pl.H, pl.OH);
        for (int64_t ow = 0; ow < pl.OW; ++ow) {
          const int64_t ws = adaptive_start(ow, pl.W, pl.OW), we = adaptive_end(ow, pl.W, pl.OW);
          T sum = 0;
          for (int64_t ih = hs; ih < he; ++ih)
            for (int64_t iw = ws; iw < we; ++iw) sum += src[ih * pl.W + iw];
          dst[oh * pl.OW + ow] = sum / static_cast<T>((he - hs) * (we - ws));
        }
      }
    });
  });
}

void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in) {
  dispatch<Accepts::Floating>(grad_in.dtype(), "adaptive_avg_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Planes pl = planes(grad_in, grad_out);
    const T* pg = grad_out.data<T>();
    T* pin = grad_in.data<T>();
    for_each_plane(pl, pl.H * pl.W + pl.OH * pl.OW, [&](int64_t plane) {
      T* dst = pin + plane * pl.H * pl.W;
      std::fill(dst, dst + pl.H * pl.W, T(0));
      const T* g = pg + plane * pl.OH * pl.OW;
      for (int64_t oh = 0; oh < pl.OH; ++oh) {
        const int64_t hs = adaptive_start(oh, pl.H, pl.OH), he = adaptive_end(oh, pl.H, pl.OH);
        for (int64_t ow = 0; ow < pl.OW; ++ow) {
          const int64_t ws = adaptive_start(ow, pl.W, pl.OW), we = adaptive_end(ow, pl.W, pl.OW);
          const T share = g[oh * pl.OW + ow] / static_cast<T>((he - hs) * (we - ws));
          for (int64_t ih = hs; ih < he; ++ih)
            for (int64_t iw = ws; iw < we; ++iw) dst[ih * pl.W + iw] += share;
        }
      }
    });
  });
}

}  // namespace mytensor::cpu
