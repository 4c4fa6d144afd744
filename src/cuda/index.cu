// CUDA indexing: index_select / index_add along one dim, gather / scatter_add. Index values are
// checked on the device: a bad one is skipped and reported through the device error slot
// (check_device_errors raises it at the next synchronize or device-to-host copy).
#include <array>
#include <cstdint>

#include "cuda/kernels.h"
#include "cuda/launch.cuh"

namespace mytensor::cuda {

namespace {

int64_t stride0(const Tensor& t) { return t.ndim() == 0 ? 0 : t.strides()[0]; }

// out (outer, k, inner) = x (outer, n, inner) at index[j] along the middle dim.
template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    index_select_kernel(Index total, Div by_inner, Div by_k, const T* x, int64_t n,
                        const int64_t* index, int64_t index_stride, T* out, DeviceErrorSlot* err) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_inner.div(i);
    const int64_t in = static_cast<int64_t>(i - t * by_inner.divisor);
    const Index o = by_k.div(t);
    const int64_t j = static_cast<int64_t>(t - o * by_k.divisor);
    const int64_t idx = index[j * index_stride];
    if (idx < 0 || idx >= n) {
      report_bad_index(err, kErrIndexSelect, idx, n);
      out[i] = T(0);
      continue;
    }
    out[i] = x[(static_cast<int64_t>(o) * n + idx) * static_cast<int64_t>(by_inner.divisor) + in];
  }
}

// grad_in (outer, n, inner) += grad_out (outer, k, inner) scattered along index; repeated
// indices collide, hence the atomics.
template <class T, class Index, class Div>
__global__ void __launch_bounds__(kThreads)
    index_add_kernel(Index total, Div by_inner, Div by_k, const T* grad_out, int64_t n,
                     const int64_t* index, int64_t index_stride, T* grad_in, DeviceErrorSlot* err) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const Index t = by_inner.div(i);
    const int64_t in = static_cast<int64_t>(i - t * by_inner.divisor);
    const Index o = by_k.div(t);
    const int64_t j = static_cast<int64_t>(t - o * by_k.divisor);
    const int64_t idx = index[j * index_stride];
    if (idx < 0 || idx >= n) {
      report_bad_index(err, kErrIndexAdd, idx, n);
      continue;
    }
    atomicAdd(
        grad_in + (static_cast<int64_t>(o) * n + idx) * static_cast<int64_t>(by_inner.divisor) + in,
        grad_out[i]);
  }
}

// Operands of the offset calculator: 0 = out (gather) / src (scatter_add), 1 = index, 2 = the
// indexed tensor with its `dim` stride zeroed (the index supplies that coordinate).
template <class T, class Index, class Calc>
__global__ void __launch_bounds__(kThreads)
    gather_kernel(Index total, Calc calc, const T* x, int64_t dim_stride, int64_t dim_size,
                  const int64_t* index, T* out, DeviceErrorSlot* err) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const auto off = calc.get(i);
    const int64_t idx = index[off.v[1]];
    if (idx < 0 || idx >= dim_size) {
      report_bad_index(err, kErrGather, idx, dim_size);
      out[off.v[0]] = T(0);
      continue;
    }
    out[off.v[0]] = x[static_cast<int64_t>(off.v[2]) + idx * dim_stride];
  }
}

template <class T, class Index, class Calc>
__global__ void __launch_bounds__(kThreads)
    scatter_add_kernel(Index total, Calc calc, const T* src, const int64_t* index, T* out,
                       int64_t dim_stride, int64_t dim_size, DeviceErrorSlot* err) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const auto off = calc.get(i);
    const int64_t idx = index[off.v[1]];
    if (idx < 0 || idx >= dim_size) {
      report_bad_index(err, kErrScatterAdd, idx, dim_size);
      continue;
    }
    atomicAdd(out + static_cast<int64_t>(off.v[2]) + idx * dim_stride, src[off.v[0]]);
  }
}

// The three-operand geometry over index's shape, with the indexed tensor's `dim` stride zeroed.
Geometry<3> indexed_geometry(const char* op, const Tensor& first, const Tensor& index,
                             const Tensor& indexed, int64_t dim) {
  Shape zeroed = indexed.strides();
  if (indexed.ndim() > 0) zeroed[dim] = 0;
  std::array<const Shape*, 3> strides = {&first.strides(), &index.strides(), &zeroed};
  Geometry<3> g = make_geometry<3>(index.shape(), strides, /*reorder=*/true);
  MT_CHECK(g.ndim() <= kMaxDims, ShapeError, "[", op, "] tensors with more than ", kMaxDims,
           " non-mergeable dims are not supported on CUDA");
  return g;
}

// dim normalised, and the indexed tensor's stride and extent along it (a 0-d tensor: 0 and 1).
struct IndexedDim {
  int64_t dim, stride, size;
};
IndexedDim indexed_dim(const Tensor& t, int64_t dim) {
  if (t.ndim() == 0) return {0, 0, 1};
  if (dim < 0) dim += t.ndim();
  return {dim, t.strides()[dim], t.shape()[dim]};
}

// Calls launch(n, calc) with 32-bit indices and offsets when they cover the geometry.
template <class Launch>
void with_offset_calc(const Geometry<3>& g, int64_t total, Launch&& launch) {
  if (fits_32bit(g)) {
    launch(static_cast<uint32_t>(total), OffsetCalc32<3>(g));
  } else {
    launch(total, OffsetCalc64<3>(g));
  }
}

}  // namespace

void index_select(const Tensor& x, const IndexDims& d, const Tensor& index, const Tensor& out) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int64_t k = index.numel();
  LaunchContext ctx(out);
  DeviceErrorSlot* err = device_error_slot(ctx.device);
  dispatch_by_size(x.dtype(), "index_select", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "index_select", total, index_select_kernel<T, Index, Div>,
          static_cast<Index>(total), Div(d.inner), Div(k), static_cast<const T*>(x.data_ptr()), d.n,
          index.data<int64_t>(), stride0(index), static_cast<T*>(out.data_ptr()), err);
    });
  });
}

void index_add(const Tensor& grad_out, const IndexDims& d, const Tensor& index,
               const Tensor& grad_in) {
  const int64_t total = grad_out.numel();
  if (total == 0) return;
  const int64_t k = index.numel();
  LaunchContext ctx(grad_in);
  DeviceErrorSlot* err = device_error_slot(ctx.device);
  dispatch<Accepts::Floating>(grad_in.dtype(), "index_add", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(total, [&](auto it, auto dt) {
      using Index = typename decltype(it)::type;
      using Div = typename decltype(dt)::type;
      launch_1d(ctx, "index_add", total, index_add_kernel<T, Index, Div>, static_cast<Index>(total),
          Div(d.inner), Div(k), grad_out.data<T>(), d.n, index.data<int64_t>(), stride0(index),
          grad_in.data<T>(), err);
    });
  });
}

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  const int64_t total = index.numel();
  if (total == 0) return;
  LaunchContext ctx(out);
  DeviceErrorSlot* err = device_error_slot(ctx.device);
  const IndexedDim id = indexed_dim(x, dim);
  Geometry<3> g = indexed_geometry("gather", out, index, x, id.dim);
  dispatch_by_size(x.dtype(), "gather", [&](auto tag) {
    using T = typename decltype(tag)::type;
    with_offset_calc(g, total, [&](auto n, auto calc) {
      launch_1d(ctx, "gather", total, gather_kernel<T, decltype(n), decltype(calc)>, n, calc,
          static_cast<const T*>(x.data_ptr()), id.stride, id.size, index.data<int64_t>(),
          static_cast<T*>(out.data_ptr()), err);
    });
  });
}

void scatter_add(const Tensor& src, int64_t dim, const Tensor& index, const Tensor& out) {
  const int64_t total = index.numel();
  if (total == 0) return;
  LaunchContext ctx(out);
  DeviceErrorSlot* err = device_error_slot(ctx.device);
  const IndexedDim id = indexed_dim(out, dim);
  Geometry<3> g = indexed_geometry("scatter_add", src, index, out, id.dim);
  dispatch<Accepts::Floating>(out.dtype(), "scatter_add", [&](auto tag) {
    using T = typename decltype(tag)::type;
    with_offset_calc(g, total, [&](auto n, auto calc) {
      launch_1d(ctx, "scatter_add", total, scatter_add_kernel<T, decltype(n), decltype(calc)>, n,
          calc, src.data<T>(), index.data<int64_t>(), out.data<T>(), id.stride, id.size, err);
    });
  });
}

}  // namespace mytensor::cuda
