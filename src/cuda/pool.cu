// CUDA 2-d pooling with PyTorch's semantics: max_pool2d (indices are h*W+w within the input
// plane, padding never wins, NaN propagates), avg_pool2d (count_include_pad counts padding only
// inside the padded bounds), adaptive_avg_pool2d, and their backward passes.
#include <algorithm>
#include <cstdint>

#include "cuda/kernels.h"
#include "cuda/launch.cuh"

namespace mytensor::cuda {

namespace {

struct PoolGeometry {
  int h, w, oh, ow;
  int kh, kw, sh, sw, ph, pw;
  bool count_include_pad;
};

PoolGeometry pool_geometry(const Shape& in, const Shape& out, const Pool2dParams& p) {
  return {static_cast<int>(in[2]),      static_cast<int>(in[3]),      static_cast<int>(out[2]),
          static_cast<int>(out[3]),     static_cast<int>(p.kernel_h), static_cast<int>(p.kernel_w),
          static_cast<int>(p.stride_h), static_cast<int>(p.stride_w), static_cast<int>(p.pad_h),
          static_cast<int>(p.pad_w),    p.count_include_pad};
}

// One thread per output: the first maximum of the in-bounds window, or the last NaN (as the
// PyTorch CUDA kernel, whose test is `val > max || isnan(val)`).
template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    max_pool2d_kernel(Index total, Div by_ow, Div by_oh, const T* x, T* out, int64_t* indices,
                      PoolGeometry g) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_ow.div(i);
    const int ox = static_cast<int>(i - t * by_ow.divisor);
    const Index plane = by_oh.div(t);
    const int oy = static_cast<int>(t - plane * by_oh.divisor);
    int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
    const int y1 = std::min(y0 + g.kh, g.h), x1 = std::min(x0 + g.kw, g.w);
    y0 = std::max(y0, 0);
    x0 = std::max(x0, 0);
    const T* xp = x + static_cast<int64_t>(plane) * g.h * g.w;
    T best = -INFINITY;
    int64_t best_idx = static_cast<int64_t>(y0) * g.w + x0;
    for (int y = y0; y < y1; ++y) {
      for (int xx = x0; xx < x1; ++xx) {
        T v = xp[y * g.w + xx];
        if (v > best || v != v) {
          best = v;
          best_idx = static_cast<int64_t>(y) * g.w + xx;
        }
      }
    }
    out[i] = best;
    if (indices != nullptr) indices[i] = best_idx;
  }
}

// grad_in is zeroed first; windows may overlap, hence the atomics.
template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    max_pool2d_backward_kernel(Index total, Div by_plane, const T* grad_out, const int64_t* indices,
                               T* grad_in, int64_t plane_in) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t idx = indices[i];
    if (idx < 0 || idx >= plane_in) continue;
    const int64_t plane = static_cast<int64_t>(by_plane.div(i));
    atomicAdd(grad_in + plane * plane_in + idx, grad_out[i]);
  }
}

// The window of output (oy, ox) clipped to the padded input, its divisor, and the part inside
// the input.
struct AvgWindow {
  int y0, y1, x0, x1;
  int divisor;
};

__device__ __forceinline__ AvgWindow avg_window(int oy, int ox, const PoolGeometry& g) {
  int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
  int y1 = std::min(y0 + g.kh, g.h + g.ph), x1 = std::min(x0 + g.kw, g.w + g.pw);
  const int pool_size = (y1 - y0) * (x1 - x0);
  y0 = std::max(y0, 0);
  x0 = std::max(x0, 0);
  y1 = std::min(y1, g.h);
  x1 = std::min(x1, g.w);
  return {y0, y1, x0, x1, g.count_include_pad ? pool_size : (y1 - y0) * (x1 - x0)};
}

template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    avg_pool2d_kernel(Index total, Div by_ow, Div by_oh, const T* x, T* out, PoolGeometry g) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_ow.div(i);
    const int ox = static_cast<int>(i - t * by_ow.divisor);
    const Index plane = by_oh.div(t);
    const int oy = static_cast<int>(t - plane * by_oh.divisor);
    const AvgWindow win = avg_window(oy, ox, g);
    if (win.y0 >= win.y1 || win.x0 >= win.x1) {
      out[i] = T(0);
      continue;
    }
    const T* xp = x + static_cast<int64_t>(plane) * g.h * g.w;
    T sum = T(0);
    for (int y = win.y0; y < win.y1; ++y) {
      for (int xx = win.x0; xx < win.x1; ++xx) sum += xp[y * g.w + xx];
    }
    out[i] = sum / static_cast<T>(win.divisor);
  }
}

// A gather over the outputs whose window holds input (y, x): deterministic, no atomics.
template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    avg_pool2d_backward_kernel(Index total, Div by_w, Div by_h, const T* grad_out, T* grad_in,
                               PoolGeometry g) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_w.div(i);
    const int x = static_cast<int>(i - t * by_w.divisor);
    const Index plane = by_h.div(t);
    const int y = static_cast<int>(t - plane * by_h.divisor);
    const int yp = y + g.ph, xp = x + g.pw;
    const int oy0 = yp < g.kh ? 0 : (yp - g.kh) / g.sh + 1;
    const int oy1 = std::min(yp / g.sh + 1, g.oh);
    const int ox0 = xp < g.kw ? 0 : (xp - g.kw) / g.sw + 1;
    const int ox1 = std::min(xp / g.sw + 1, g.ow);
    const T* gp = grad_out + static_cast<int64_t>(plane) * g.oh * g.ow;
    T acc = T(0);
    for (int oy = oy0; oy < oy1; ++oy) {
      for (int ox = ox0; ox < ox1; ++ox) {
        const AvgWindow win = avg_window(oy, ox, g);
        if (win.y0 >= win.y1 || win.x0 >= win.x1) continue;
        acc += gp[oy * g.ow + ox] / static_cast<T>(win.divisor);
      }
    }
    grad_in[i] = acc;
  }
}

// PyTorch's adaptive bins: [floor(i*H/OH), ceil((i+1)*H/OH)).
__device__ __forceinline__ int bin_start(int i, int in, int out) {
  return static_cast<int>((static_cast<int64_t>(i) * in) / out);
}
__device__ __forceinline__ int bin_end(int i, int in, int out) {
  return static_cast<int>(((static_cast<int64_t>(i) + 1) * in + out - 1) / out);
}

template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    adaptive_avg_pool2d_kernel(Index total, Div by_ow, Div by_oh, const T* x, T* out,
                               PoolGeometry g) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_ow.div(i);
    const int ox = static_cast<int>(i - t * by_ow.divisor);
    const Index plane = by_oh.div(t);
    const int oy = static_cast<int>(t - plane * by_oh.divisor);
    const int y0 = bin_start(oy, g.h, g.oh), y1 = bin_end(oy, g.h, g.oh);
    const int x0 = bin_start(ox, g.w, g.ow), x1 = bin_end(ox, g.w, g.ow);
    const T* xp = x + static_cast<int64_t>(plane) * g.h * g.w;
    T sum = T(0);
    for (int y = y0; y < y1; ++y) {
      for (int xx = x0; xx < x1; ++xx) sum += xp[y * g.w + xx];
    }
    out[i] = sum / static_cast<T>((y1 - y0) * (x1 - x0));
  }
}

template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    adaptive_avg_pool2d_backward_kernel(Index total, Div by_w, Div by_h, const T* grad_out,
                                        T* grad_in, PoolGeometry g) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_w.div(i);
    const int x = static_cast<int>(i - t * by_w.divisor);
    const Index plane = by_h.div(t);
    const int y = static_cast<int>(t - plane * by_h.divisor);
    // Exactly the bins that contain y: [floor(y*OH/H), ceil((y+1)*OH/H)).
    const int oy0 = bin_start(y, g.oh, g.h), oy1 = bin_end(y, g.oh, g.h);
    const int ox0 = bin_start(x, g.ow, g.w), ox1 = bin_end(x, g.ow, g.w);
    const T* gp = grad_out + static_cast<int64_t>(plane) * g.oh * g.ow;
    T acc = T(0);
    for (int oy = oy0; oy < oy1 && oy < g.oh; ++oy) {
      const int y0 = bin_start(oy, g.h, g.oh), y1 = bin_end(oy, g.h, g.oh);
      if (y < y0 || y >= y1) continue;
      for (int ox = ox0; ox < ox1 && ox < g.ow; ++ox) {
        const int x0 = bin_start(ox, g.w, g.ow), x1 = bin_end(ox, g.w, g.ow);
        if (x < x0 || x >= x1) continue;
        acc += gp[oy * g.ow + ox] / static_cast<T>((y1 - y0) * (x1 - x0));
      }
    }
    grad_in[i] = acc;
  }
}

}  // namespace

void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out, const Tensor& indices) {
  const int64_t total = out.numel();
  if (total == 0) return;
  LaunchContext ctx(out);
  PoolGeometry g = pool_geometry(x.shape(), out.shape(), p);
  dispatch<Accepts::Floating>(out.dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "max_pool2d", total, max_pool2d_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(g.ow), Div(g.oh), x.data<T>(), out.data<T>(),
          indices.defined() ? indices.data<int64_t>() : nullptr, g);
    });
  });
}

void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in) {
  if (grad_in.numel() == 0) return;
  fill(grad_in, 0.0);
  const int64_t total = grad_out.numel();
  if (total == 0) return;
  LaunchContext ctx(grad_in);
  const int64_t plane_out = grad_out.size(2) * grad_out.size(3);
  const int64_t plane_in = grad_in.size(2) * grad_in.size(3);
  dispatch<Accepts::Floating>(grad_in.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "max_pool2d_backward", total, max_pool2d_backward_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(plane_out), grad_out.data<T>(), indices.data<int64_t>(),
          grad_in.data<T>(), plane_in);
    });
  });
}

void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out) {
  const int64_t total = out.numel();
  if (total == 0) return;
  LaunchContext ctx(out);
  PoolGeometry g = pool_geometry(x.shape(), out.shape(), p);
  dispatch<Accepts::Floating>(out.dtype(), "avg_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "avg_pool2d", total, avg_pool2d_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(g.ow), Div(g.oh), x.data<T>(), out.data<T>(), g);
    });
  });
}

void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p, const Tensor& grad_in) {
  const int64_t total = grad_in.numel();
  if (total == 0) return;
  LaunchContext ctx(grad_in);
  PoolGeometry g = pool_geometry(grad_in.shape(), grad_out.shape(), p);
  dispatch<Accepts::Floating>(grad_in.dtype(), "avg_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "avg_pool2d_backward", total, avg_pool2d_backward_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(g.w), Div(g.h), grad_out.data<T>(), grad_in.data<T>(), g);
    });
  });
}

void adaptive_avg_pool2d(const Tensor& x, const Tensor& out) {
  const int64_t total = out.numel();
  if (total == 0) return;
  LaunchContext ctx(out);
  PoolGeometry g = pool_geometry(x.shape(), out.shape(), Pool2dParams{});
  dispatch<Accepts::Floating>(out.dtype(), "adaptive_avg_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "adaptive_avg_pool2d", total, adaptive_avg_pool2d_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(g.ow), Div(g.oh), x.data<T>(), out.data<T>(), g);
    });
  });
}

void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in) {
  const int64_t total = grad_in.numel();
  if (total == 0) return;
  LaunchContext ctx(grad_in);
  PoolGeometry g = pool_geometry(grad_in.shape(), grad_out.shape(), Pool2dParams{});
  dispatch<Accepts::Floating>(grad_in.dtype(), "adaptive_avg_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "adaptive_avg_pool2d_backward", total,
          adaptive_avg_pool2d_backward_kernel<T, Index, Div>, static_cast<Index>(total), Div(g.w),
          Div(g.h), grad_out.data<T>(), grad_in.data<T>(), g);
    });
  });
}

}  // namespace mytensor::cuda
