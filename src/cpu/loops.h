// The CPU backend's shared drivers: a parallel range loop and a strided N-operand loop.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/tensor_impl.h"

namespace mytensor::cpu {

// Runs f(begin, end) over [0, n) split across threads; small ranges stay on one thread.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
#ifdef _OPENMP
  if (n > grain && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel
    {
      int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
      int64_t chunk = (n + threads - 1) / threads;
      int64_t begin = t * chunk, end = std::min(n, begin + chunk);
      if (begin < end) f(begin, end);
    }
    return;
  }
#endif
  f(0, n);
}

constexpr int64_t kGrain = 32768;

// Geometry of N operands over one shape: byte strides per operand, with dims of size 1 dropped
// and adjacent dims merged where every operand allows it.
template <int N>
struct StridedLayout {
  std::vector<int64_t> shape;
  std::array<std::vector<int64_t>, N> strides;  // bytes

  StridedLayout(const Shape& full_shape, const std::array<const Tensor*, N>& ops) {
    for (size_t d = 0; d < full_shape.size(); ++d) {
      if (full_shape[d] == 1) continue;
      shape.push_back(full_shape[d]);
      for (int k = 0; k < N; ++k)
        strides[k].push_back(ops[k]->strides()[d] * static_cast<int64_t>(ops[k]->itemsize()));
    }
    // Merge dim i into i+1 when, for every operand, stride[i] == stride[i+1] * shape[i+1].
    for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i) {
      bool mergeable = true;
      for (int k = 0; k < N; ++k)
        mergeable = mergeable && strides[k][i] == strides[k][i + 1] * shape[i + 1];
      if (!mergeable) continue;
      shape[i] *= shape[i + 1];
      shape.erase(shape.begin() + i + 1);
      for (int k = 0; k < N; ++k) strides[k].erase(strides[k].begin() + i);
    }
  }
};

// Calls f(ptrs) for every element, where ptrs[k] points at operand k's element. Operands are
// given as tensors viewed with `shape` (broadcast dims have stride 0).
template <int N, class F>
void for_each_strided(const Shape& shape, const std::array<const Tensor*, N>& ops, F&& f) {
  int64_t numel = shape_numel(shape);
  if (numel == 0) return;
  StridedLayout<N> layout(shape, ops);
  std::array<char*, N> base;
  for (int k = 0; k < N; ++k) base[k] = static_cast<char*>(ops[k]->data_ptr());
  const int64_t ndim = static_cast<int64_t>(layout.shape.size());
  if (ndim == 0) {
    f(base);
    return;
  }
  const int64_t inner = layout.shape[ndim - 1];
  const int64_t rows = numel / inner;
  std::array<int64_t, N> inner_stride;
  for (int k = 0; k < N; ++k) inner_stride[k] = layout.strides[k][ndim - 1];
  parallel_for(rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      std::array<char*, N> p = base;
      int64_t rem = row;
      for (int64_t d = ndim - 2; d >= 0; --d) {
        int64_t idx = rem % layout.shape[d];
        rem /= layout.shape[d];
        for (int k = 0; k < N; ++k) p[k] += idx * layout.strides[k][d];
      }
      for (int64_t i = 0; i < inner; ++i) {
        f(p);
        for (int k = 0; k < N; ++k) p[k] += inner_stride[k];
      }
    }
  });
}

inline bool all_contiguous(std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    if (!t->is_contiguous()) return false;
  return true;
}

}  // namespace mytensor::cpu
