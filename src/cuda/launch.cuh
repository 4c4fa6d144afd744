// Shared launch machinery of the CUDA backend: dispatch by element size, launch checks,
// grid sizing, fast integer division, the strided offset calculator, and the generic elementwise
// driver that every elementwise kernel (and copy/fill) is a one-line use of.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/dispatch.h"
#include "core/tensor_impl.h"
#include "cuda/cuda_check.h"

namespace mytensor::cuda {

constexpr int kMaxDims = 8;
constexpr int kThreads = 256;

// ---- dtype dispatch ---------------------------------------------------------------------------
// Kernels dispatch on dtype with core's dispatch<Accepts::...>() (core/dispatch.h), which
// instantiates only the dtypes of the family asked for.

// Kernels that only move elements (index_select, gather) dispatch on the element's size.
template <class F>
void dispatch_by_size(DType dtype, const char* op, F&& f) {
  switch (itemsize(dtype)) {
    case 1: return f(TypeTag<uint8_t>{});
    case 2: return f(TypeTag<uint16_t>{});
    case 4: return f(TypeTag<uint32_t>{});
    case 8: return f(TypeTag<uint64_t>{});
    default:
      detail::throw_error<DTypeError>("[", op, "] dtype ", dtype_name(dtype), " is not supported ",
                                      "(expected a dtype of 1, 2, 4 or 8 bytes)");
  }
}

// ---- launch checks and grids ------------------------------------------------------------------

// A capture records launches without running them: there is nothing to wait for, and waiting
// would invalidate the capture.
inline bool stream_is_capturing(cudaStream_t stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  return cudaStreamIsCapturing(stream, &status) == cudaSuccess &&
         status != cudaStreamCaptureStatusNone;
}

inline void check_launch(const char* kernel, cudaStream_t stream) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    detail::throw_error<CudaError>("[", kernel, "] kernel launch failed: ", cudaGetErrorString(err),
                                   " (", cudaGetErrorName(err), ")");
  }
  if (sync_after_launch() && !stream_is_capturing(stream)) {
    err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess) {
      cudaGetLastError();
      detail::throw_error<CudaError>(
          "[", kernel, "] kernel failed while running: ", cudaGetErrorString(err), " (",
          cudaGetErrorName(err), "; reported by MYTENSOR_CUDA_SYNC=1)");
    }
  }
}

// Blocks for a grid-stride loop over `items` work items, `per_block` items per block: enough to
// fill the device a few times over, never more blocks than there is work, never zero.
inline unsigned grid_for(int64_t items, int64_t per_block, int device, int blocks_per_sm = 32) {
  int64_t blocks = (items + per_block - 1) / per_block;
  int64_t cap = static_cast<int64_t>(sm_count(device)) * blocks_per_sm;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(blocks, cap)));
}

// The stream of `t`'s device, with that device made current for the guard's lifetime.
struct LaunchContext {
  int device;
  DeviceGuard guard;
  cudaStream_t stream;
  explicit LaunchContext(const Tensor& t)
      : device(t.device().index), guard(device), stream(current_stream(device)) {}
};

// Launches `kernel`, a grid-stride loop over `items` work items, with kThreads threads per block
// on ctx's stream, then checks the launch under `name`: the common case of every 1-D kernel.
template <class... Params, class... Args>
void launch_1d(const LaunchContext& ctx, const char* name, int64_t items,
               void (*kernel)(Params...), Args&&... args) {
  kernel<<<grid_for(items, kThreads, ctx.device), kThreads, 0, ctx.stream>>>(
      std::forward<Args>(args)...);
  check_launch(name, ctx.stream);
}

// Records a bad index in the device's error slot (first one wins) for check_device_errors().
__device__ __forceinline__ void report_bad_index(DeviceErrorSlot* slot, int op, long long value,
                                                 long long bound) {
  if (atomicCAS(&slot->flag, 0, 1) == 0) {
    slot->op = op;
    slot->value = value;
    slot->bound = bound;
  }
}

// ---- small device helpers ---------------------------------------------------------------------

template <class T, int N>
struct Array {
  T v[N > 0 ? N : 1];
};

// Division by a runtime constant as a multiply-high and a shift (Granlund & Montgomery; the
// same scheme as PyTorch's IntDivider): valid for divisors in [1, 2^31] and dividends < 2^31.
struct IntDivider32 {
  uint32_t divisor = 1, magic = 1, shift = 0;
  IntDivider32() = default;
  explicit IntDivider32(uint32_t d) : divisor(d) {
    for (shift = 0; shift < 32; ++shift) {
      if ((uint64_t(1) << shift) >= divisor) break;
    }
    uint64_t one = 1;
    magic = static_cast<uint32_t>(((one << 32) * ((one << shift) - divisor)) / divisor + 1);
  }
  __host__ __device__ __forceinline__ uint32_t div(uint32_t n) const {
#ifdef __CUDA_ARCH__
    uint32_t t = __umulhi(n, magic);
#else
    uint32_t t = static_cast<uint32_t>((static_cast<uint64_t>(n) * magic) >> 32);
#endif
    return (t + n) >> shift;
  }
};

// The 64-bit fallback with the same interface, for sizes beyond 2^31.
struct IntDivider64 {
  int64_t divisor = 1;
  IntDivider64() = default;
  explicit IntDivider64(int64_t d) : divisor(d) {}
  __host__ __device__ __forceinline__ int64_t div(int64_t n) const { return n / divisor; }
};

// Calls f(TypeTag<Index>, TypeTag<Divider>): 32-bit indices and multiply-shift division when
// `total` fits, 64-bit otherwise.
template <class F>
void dispatch_index(int64_t total, F&& f) {
  if (total <= INT32_MAX) {
    f(TypeTag<uint32_t>{}, TypeTag<IntDivider32>{});
  } else {
    f(TypeTag<int64_t>{}, TypeTag<IntDivider64>{});
  }
}

// ---- strided geometry -------------------------------------------------------------------------

// Dims of an N-operand elementwise loop (operand 0 is the output), innermost first, after
// dropping size-1 dims and merging dims that are contiguous in every operand.
template <int N>
struct Geometry {
  std::vector<int64_t> sizes;
  std::vector<std::array<int64_t, N>> strides;
  int ndim() const { return static_cast<int>(sizes.size()); }
};

// `reorder` sorts the dims by the output's strides (so a transposed output is written in memory
// order); kernels whose element i must be the i-th in row-major order pass false.
template <int N>
Geometry<N> make_geometry(const Shape& shape, const std::array<const Shape*, N>& strides,
                          bool reorder) {
  std::vector<int> dims;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    if (shape[d] != 1) dims.push_back(d);
  }
  if (reorder) {
    std::stable_sort(dims.begin(), dims.end(), [&](int a, int b) {
      return std::llabs((*strides[0])[a]) > std::llabs((*strides[0])[b]);
    });
  }
  Geometry<N> g;
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
    int d = dims[i];
    std::array<int64_t, N> st;
    for (int k = 0; k < N; ++k) st[k] = (*strides[k])[d];
    if (!g.sizes.empty()) {
      bool merge = true;
      for (int k = 0; k < N; ++k) merge = merge && st[k] == g.strides.back()[k] * g.sizes.back();
      if (merge) {
        g.sizes.back() *= shape[d];
        continue;
      }
    }
    g.sizes.push_back(shape[d]);
    g.strides.push_back(st);
  }
  return g;
}

// Whether 32-bit indices and offsets cover every element this geometry reaches.
template <int N>
bool fits_32bit(const Geometry<N>& g) {
  int64_t n = 1;
  for (int64_t s : g.sizes) n *= s;
  if (n > INT32_MAX) return false;
  for (int k = 0; k < N; ++k) {
    int64_t span = 0;
    for (int d = 0; d < g.ndim(); ++d) span += (g.sizes[d] - 1) * std::llabs(g.strides[d][k]);
    if (span > INT32_MAX) return false;
  }
  return true;
}

// Maps a linear index (row-major over the geometry) to one element offset per operand.
template <int N>
struct OffsetCalc32 {
  int ndim = 0;
  IntDivider32 div[kMaxDims];
  int32_t strides[kMaxDims][N];

  OffsetCalc32() = default;
  explicit OffsetCalc32(const Geometry<N>& g) : ndim(g.ndim()) {
    for (int d = 0; d < kMaxDims; ++d) {
      div[d] = IntDivider32(d < ndim ? static_cast<uint32_t>(g.sizes[d]) : 1u);
      for (int k = 0; k < N; ++k)
        strides[d][k] = d < ndim ? static_cast<int32_t>(g.strides[d][k]) : 0;
    }
  }
  __device__ __forceinline__ Array<int32_t, N> get(uint32_t linear) const {
    Array<int32_t, N> off;
#pragma unroll
    for (int k = 0; k < N; ++k) off.v[k] = 0;
#pragma unroll
    for (int d = 0; d < kMaxDims; ++d) {
      if (d == ndim) break;
      uint32_t idx = linear;
      if (d + 1 < ndim) {  // the outermost dim needs no division
        uint32_t q = div[d].div(linear);
        idx = linear - q * div[d].divisor;
        linear = q;
      }
#pragma unroll
      for (int k = 0; k < N; ++k) off.v[k] += static_cast<int32_t>(idx) * strides[d][k];
    }
    return off;
  }
};

template <int N>
struct OffsetCalc64 {
  int ndim = 0;
  int64_t sizes[kMaxDims];
  int64_t strides[kMaxDims][N];

  OffsetCalc64() = default;
  explicit OffsetCalc64(const Geometry<N>& g) : ndim(g.ndim()) {
    for (int d = 0; d < kMaxDims; ++d) {
      sizes[d] = d < ndim ? g.sizes[d] : 1;
      for (int k = 0; k < N; ++k) strides[d][k] = d < ndim ? g.strides[d][k] : 0;
    }
  }
  __device__ __forceinline__ Array<int64_t, N> get(int64_t linear) const {
    Array<int64_t, N> off;
#pragma unroll
    for (int k = 0; k < N; ++k) off.v[k] = 0;
#pragma unroll
    for (int d = 0; d < kMaxDims; ++d) {
      if (d == ndim) break;
      int64_t idx = linear;
      if (d + 1 < ndim) {
        int64_t q = linear / sizes[d];
        idx = linear - q * sizes[d];
        linear = q;
      }
#pragma unroll
      for (int k = 0; k < N; ++k) off.v[k] += idx * strides[d][k];
    }
    return off;
  }
};

// ---- the elementwise driver -------------------------------------------------------------------

namespace detail_ew {

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// A minimal tuple for the per-input vectors of the vectorised kernel.
template <class... T>
struct Tuple;
template <>
struct Tuple<> {};
template <class H, class... T>
struct Tuple<H, T...> {
  H head;
  Tuple<T...> tail;
};
template <size_t I>
struct Get {
  template <class Tup>
  __device__ __forceinline__ static auto& get(Tup& t) {
    return Get<I - 1>::get(t.tail);
  }
};
template <>
struct Get<0> {
  template <class Tup>
  __device__ __forceinline__ static auto& get(Tup& t) {
    return t.head;
  }
};

template <int V, class T>
__device__ __forceinline__ Vec<T, V> load_vec(const void* p, int64_t base, bool broadcast) {
  const T* q = static_cast<const T*>(p);
  if (broadcast) {
    Vec<T, V> r;
    T x = q[0];
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = x;
    return r;
  }
  return *reinterpret_cast<const Vec<T, V>*>(q + base);
}

template <int V, class F, class Out, class... In, size_t... I>
__device__ __forceinline__ void apply_vec(const F& f, Out* out,
                                          const Array<const void*, sizeof...(In)>& in, int64_t base,
                                          unsigned bcast, std::index_sequence<I...>) {
  Tuple<Vec<In, V>...> x;
  ((Get<I>::get(x) = load_vec<V, In>(in.v[I], base, (bcast >> I) & 1u)), ...);
  Vec<Out, V> r;
#pragma unroll
  for (int j = 0; j < V; ++j) r.v[j] = f(Get<I>::get(x).v[j]...);
  *reinterpret_cast<Vec<Out, V>*>(out + base) = r;
}

template <class F, class Out, class... In, size_t... I>
__device__ __forceinline__ Out apply_at(const F& f, const Array<const void*, sizeof...(In)>& in,
                                        const int64_t* idx, std::index_sequence<I...>) {
  return f(static_cast<const In*>(in.v[I])[idx[I]]...);
}

template <class F, class Out, class... In, class Off, size_t... I>
__device__ __forceinline__ Out apply_off(const F& f, const Array<const void*, sizeof...(In)>& in,
                                         const Off& off, std::index_sequence<I...>) {
  return f(static_cast<const In*>(in.v[I])[off.v[I + 1]]...);
}

}  // namespace detail_ew

// All operands contiguous (inputs may be broadcast scalars, bit i of `bcast`): V elements per
// thread through 16-byte loads and stores. The first threads also handle the n % V tail.
template <int V, class F, class Out, class... In>
__global__ void __launch_bounds__(kThreads)
    elementwise_contig_kernel(int64_t n, F f, Out* out, Array<const void*, sizeof...(In)> in,
                              unsigned bcast) {
  using Seq = std::index_sequence_for<In...>;
  int64_t nvec = n / V;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t v = tid; v < nvec; v += stride) {
    detail_ew::apply_vec<V, F, Out, In...>(f, out, in, v * V, bcast, Seq{});
  }
  int64_t t = nvec * V + tid;
  if (t < n) {
    int64_t idx[sizeof...(In) > 0 ? sizeof...(In) : 1];
#pragma unroll
    for (int k = 0; k < static_cast<int>(sizeof...(In)); ++k) idx[k] = ((bcast >> k) & 1u) ? 0 : t;
    out[t] = detail_ew::apply_at<F, Out, In...>(f, in, idx, Seq{});
  }
}

template <class F, class Out, class... In>
__global__ void __launch_bounds__(kThreads)
    elementwise_strided32_kernel(uint32_t n, F f, Out* out, Array<const void*, sizeof...(In)> in,
                                 OffsetCalc32<sizeof...(In) + 1> oc) {
  uint32_t stride = gridDim.x * blockDim.x;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    auto off = oc.get(i);
    out[off.v[0]] =
        detail_ew::apply_off<F, Out, In...>(f, in, off, std::index_sequence_for<In...>{});
  }
}

template <class F, class Out, class... In>
__global__ void __launch_bounds__(kThreads)
    elementwise_strided64_kernel(int64_t n, F f, Out* out, Array<const void*, sizeof...(In)> in,
                                 OffsetCalc64<sizeof...(In) + 1> oc) {
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    auto off = oc.get(i);
    out[off.v[0]] =
        detail_ew::apply_off<F, Out, In...>(f, in, off, std::index_sequence_for<In...>{});
  }
}

namespace detail_ew {

template <class T, class... Rest>
constexpr size_t max_size() {
  if constexpr (sizeof...(Rest) == 0) {
    return sizeof(T);
  } else {
    return std::max(sizeof(T), max_size<Rest...>());
  }
}

template <class Out, class... In, class F>
void launch_geometry(const char* name, const F& f, Geometry<sizeof...(In) + 1> g, char* out,
                     std::array<const char*, sizeof...(In)> in, int device, cudaStream_t stream) {
  constexpr int NIN = sizeof...(In);
  constexpr int N = NIN + 1;
  constexpr size_t sizes[N] = {sizeof(Out), sizeof(In)...};
  if (g.ndim() > kMaxDims) {
    // Rare (more than 8 dims that cannot be merged): loop over the outermost dim on the host.
    int64_t outer = g.sizes.back();
    std::array<int64_t, N> st = g.strides.back();
    g.sizes.pop_back();
    g.strides.pop_back();
    for (int64_t i = 0; i < outer; ++i) {
      std::array<const char*, NIN> sub_in = in;
      for (int k = 0; k < NIN; ++k) sub_in[k] += i * st[k + 1] * static_cast<int64_t>(sizes[k + 1]);
      launch_geometry<Out, In...>(name, f, g, out + i * st[0] * static_cast<int64_t>(sizes[0]),
                                  sub_in, device, stream);
    }
    return;
  }
  int64_t n = 1;
  for (int64_t s : g.sizes) n *= s;
  Array<const void*, NIN> in_arr{};
  for (int k = 0; k < NIN; ++k) in_arr.v[k] = in[k];

  // Contiguous fast path: one dim (or none), unit output stride, inputs unit or broadcast.
  constexpr int V = static_cast<int>(16 / max_size<Out, In...>()) > 0
                        ? static_cast<int>(16 / max_size<Out, In...>())
                        : 1;
  bool contiguous = g.ndim() == 0 || (g.ndim() == 1 && g.strides[0][0] == 1);
  unsigned bcast = 0;
  bool aligned = reinterpret_cast<uintptr_t>(out) % (V * sizeof(Out)) == 0;
  for (int k = 0; k < NIN && contiguous; ++k) {
    int64_t s = g.ndim() == 0 ? 0 : g.strides[0][k + 1];
    if (g.ndim() == 0 || s == 0) {
      bcast |= 1u << k;
    } else if (s == 1) {
      aligned = aligned && reinterpret_cast<uintptr_t>(in[k]) % (V * sizes[k + 1]) == 0;
    } else {
      contiguous = false;
    }
  }
  if (contiguous && aligned) {
    unsigned grid = grid_for((n + V - 1) / V, kThreads, device);
    elementwise_contig_kernel<V, F, Out, In...>
        <<<grid, kThreads, 0, stream>>>(n, f, reinterpret_cast<Out*>(out), in_arr, bcast);
  } else if (fits_32bit(g)) {
    unsigned grid = grid_for(n, kThreads, device);
    elementwise_strided32_kernel<F, Out, In...><<<grid, kThreads, 0, stream>>>(
        static_cast<uint32_t>(n), f, reinterpret_cast<Out*>(out), in_arr, OffsetCalc32<N>(g));
  } else {
    unsigned grid = grid_for(n, kThreads, device);
    elementwise_strided64_kernel<F, Out, In...><<<grid, kThreads, 0, stream>>>(
        n, f, reinterpret_cast<Out*>(out), in_arr, OffsetCalc64<N>(g));
  }
  check_launch(name, stream);
}

}  // namespace detail_ew

// out = f(inputs...) element by element. Every input has out's shape (stride 0 where broadcast,
// negative strides allowed); `Out` and `In...` are the element types of out and the inputs.
template <class Out, class... In, class F, class... Ts>
void launch_elementwise(const char* name, const F& f, const Tensor& out, const Ts&... inputs) {
  static_assert(sizeof...(In) == sizeof...(Ts), "one element type per input tensor");
  if (out.numel() == 0) return;
  LaunchContext ctx(out);
  constexpr int N = sizeof...(In) + 1;
  std::array<const Shape*, N> strides = {&out.strides(), &inputs.strides()...};
  Geometry<N> g = make_geometry<N>(out.shape(), strides, /*reorder=*/true);
  std::array<const char*, sizeof...(In)> in = {static_cast<const char*>(inputs.data_ptr())...};
  detail_ew::launch_geometry<Out, In...>(name, f, std::move(g), static_cast<char*>(out.data_ptr()),
                                         in, ctx.device, ctx.stream);
}

}  // namespace mytensor::cuda
