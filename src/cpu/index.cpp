// CPU indexing kernels: index_select / index_add over (outer, n, inner) views, and gather /
// scatter_add along one dim. Accumulating kernels split work so that no two threads ever add into
// the same element, which keeps them race-free and deterministic.
#include <vector>

#include "core/dispatch.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {

// Element offsets, under `strides`, of every position of shape[begin:end] in row-major order.
std::vector<int64_t> offsets(const Shape& shape, const Shape& strides, int64_t begin, int64_t end) {
  std::vector<int64_t> out{0};
  for (int64_t d = begin; d < end; ++d) {
    std::vector<int64_t> next;
    next.reserve(out.size() * static_cast<size_t>(shape[d]));
    for (int64_t base : out)
      for (int64_t i = 0; i < shape[d]; ++i) next.push_back(base + i * strides[d]);
    out.swap(next);
  }
  return out;
}

// gather / scatter_add walk the index as (outer, k, inner) around `dim`; each index position
// (o, j, i) addresses target[outer_off[o] + index * dim_stride + inner_off[i]], where the target
// (gather's input, scatter_add's output) may be strided.
struct AlongDim {
  int64_t outer = 1, inner = 1, k;
  std::vector<int64_t> outer_off, inner_off;
  int64_t dim_stride;

  AlongDim(const Shape& shape, const Shape& target_strides, int64_t dim)
      : k(shape[dim]),
        outer_off(offsets(shape, target_strides, 0, dim)),
        inner_off(offsets(shape, target_strides, dim + 1, static_cast<int64_t>(shape.size()))),
        dim_stride(target_strides[dim]) {
    for (int64_t i = 0; i < dim; ++i) outer *= shape[i];
    for (int64_t i = dim + 1; i < static_cast<int64_t>(shape.size()); ++i) inner *= shape[i];
  }
};

// Splits (outer, inner) work into tasks: whole `outer` slices when there are enough of them,
// otherwise chunks of the inner extent too. f(o, i0, i1).
template <class F>
void outer_inner_tasks(int64_t outer, int64_t inner, int64_t work_per_inner, F&& f) {
  const int64_t chunk = outer >= 64 ? inner : std::max<int64_t>(256, kGrain / 8);
  const int64_t chunks = (inner + chunk - 1) / chunk;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, work_per_inner * chunk));
  parallel_for(outer * chunks, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / chunks, i0 = (t % chunks) * chunk;
      f(o, i0, std::min(inner, i0 + chunk));
    }
  });
}

}  // namespace

void index_select(const Tensor& x, const IndexDims& d, const Tensor& index, const Tensor& out) {
  dispatch<Accepts::All>(x.dtype(), "index_select", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const int64_t* idx = index.data<int64_t>();
    const int64_t k = index.numel(), n = d.n, inner = d.inner;
    if (inner == 1) {
      parallel_for(d.outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(k, 1)),
                   [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const T* src = in + r * n;
          T* dst = o + r * k;
          for (int64_t j = 0; j < k; ++j) dst[j] = src[idx[j]];
        }
      });
      return;
    }
    parallel_for(d.outer * k, std::max<int64_t>(1, kGrain / inner), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* src = in + ((r / k) * n + idx[r % k]) * inner;
        T* dst = o + r * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] = src[i];
      }
    });
  });
}

void index_add(const Tensor& grad_out, const IndexDims& d, const Tensor& index,
               const Tensor& grad_in) {
  dispatch<Accepts::Numeric>(grad_out.dtype(), "index_add", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* g = grad_out.data<T>();
    T* gi = grad_in.data<T>();
    const int64_t* idx = index.data<int64_t>();
    const int64_t k = index.numel(), n = d.n, inner = d.inner;
    // Each task owns grad_in[o, :, i0:i1] and adds the k selected rows into it in order.
    outer_inner_tasks(d.outer, inner, k, [&](int64_t o, int64_t i0, int64_t i1) {
      for (int64_t j = 0; j < k; ++j) {
        const T* src = g + (o * k + j) * inner;
        T* dst = gi + (o * n + idx[j]) * inner;
        for (int64_t i = i0; i < i1; ++i) dst[i] += src[i];
      }
    });
  });
}

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  const AlongDim a(index.shape(), x.strides(), dim);
  const int64_t outer = a.outer, inner = a.inner, k = a.k, dim_stride = a.dim_stride;
  const std::vector<int64_t>& outer_off = a.outer_off;
  const std::vector<int64_t>& inner_off = a.inner_off;
  dispatch<Accepts::All>(x.dtype(), "gather", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const int64_t* idx = index.data<int64_t>();
    parallel_for(outer * k, std::max<int64_t>(1, kGrain / inner), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* base = in + outer_off[r / k];
        const int64_t* ir = idx + r * inner;
        T* dst = o + r * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] = base[ir[i] * dim_stride + inner_off[i]];
      }
    });
  });
}

void scatter_add(const Tensor& src, int64_t dim, const Tensor& index, const Tensor& out) {
  const AlongDim a(index.shape(), out.strides(), dim);
  const int64_t outer = a.outer, inner = a.inner, k = a.k, dim_stride = a.dim_stride;
  const std::vector<int64_t>& outer_off = a.outer_off;
  const std::vector<int64_t>& inner_off = a.inner_off;
  dispatch<Accepts::Numeric>(src.dtype(), "scatter_add", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* s = src.data<T>();
    T* o = out.data<T>();
    const int64_t* idx = index.data<int64_t>();
    // Distinct (outer, inner) positions of the index land in distinct slices of out, so a task
    // owning outer slice o and inner range [i0, i1) is the only writer of what it touches.
    outer_inner_tasks(outer, inner, k, [&](int64_t ou, int64_t i0, int64_t i1) {
      T* base = o + outer_off[ou];
      for (int64_t j = 0; j < k; ++j) {
        const int64_t r = ou * k + j;
        const int64_t* ir = idx + r * inner;
        const T* sr = s + r * inner;
        for (int64_t i = i0; i < i1; ++i) base[ir[i] * dim_stride + inner_off[i]] += sr[i];
      }
    });
  });
}

}  // namespace mytensor::cpu
