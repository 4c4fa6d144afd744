// Memory-overlap checks of in-place writes (see overlap.h); the rules are PyTorch's MemoryOverlap.
#include "core/overlap.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "core/check.h"
#include "core/ops.h"

namespace mytensor {

namespace {

// [begin, end) of the bytes any element of t occupies; empty for an empty tensor.
struct ByteRange {
  uintptr_t begin = 0, end = 0;
};

ByteRange byte_range(const Tensor& t) {
  if (t.numel() == 0) return {};
  int64_t lo = 0, hi = 0;  // in elements, relative to the first element
  for (int64_t d = 0; d < t.ndim(); ++d) {
    int64_t span = (t.shape()[d] - 1) * t.strides()[d];
    (span < 0 ? lo : hi) += span;
  }
  auto base = reinterpret_cast<uintptr_t>(t.data_ptr());
  auto item = static_cast<int64_t>(t.itemsize());
  return {base + lo * item, base + (hi + 1) * item};
}

bool same_memory_space(const Tensor& a, const Tensor& b) { return a.device() == b.device(); }

constexpr const char* kClone = ". Please clone() the tensor before performing the operation.";

}  // namespace

bool is_non_overlapping_and_dense(const Tensor& t) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < t.ndim(); ++d)
    if (t.shape()[d] > 1) dims.push_back(d);
  std::sort(dims.begin(), dims.end(),
            [&](int64_t a, int64_t b) { return t.strides()[a] < t.strides()[b]; });
  int64_t expected = 1;
  for (int64_t d : dims) {
    if (t.strides()[d] != expected) return false;
    expected *= t.shape()[d];
  }
  return true;
}

MemOverlap has_internal_overlap(const Tensor& t) {
  if (t.numel() == 0 || is_non_overlapping_and_dense(t)) return MemOverlap::No;
  for (int64_t d = 0; d < t.ndim(); ++d)
    if (t.strides()[d] == 0 && t.shape()[d] > 1) return MemOverlap::Yes;
  return MemOverlap::TooHard;
}

MemOverlapStatus get_overlap_status(const Tensor& a, const Tensor& b) {
  if (a.numel() == 0 || b.numel() == 0 || !same_memory_space(a, b)) return MemOverlapStatus::No;
  ByteRange ra = byte_range(a), rb = byte_range(b);
  // Disjoint byte ranges never share an element, dense or not (a stricter test than PyTorch's,
  // which calls every non-dense pair TooHard).
  if (!(ra.begin < rb.end && rb.begin < ra.end)) return MemOverlapStatus::No;
  if (!is_non_overlapping_and_dense(a) || !is_non_overlapping_and_dense(b))
    return MemOverlapStatus::TooHard;
  if (ra.begin == rb.begin && ra.end == rb.end && a.strides() == b.strides())
    return MemOverlapStatus::Full;
  return MemOverlapStatus::Partial;
}

void assert_no_internal_overlap(const Tensor& out, const char* op) {
  MT_CHECK(has_internal_overlap(out) != MemOverlap::Yes, std::runtime_error, "[", op,
           "] unsupported operation: more than one element of the written-to tensor (shape ",
           shape_str(out.shape()), ", strides ", shape_str(out.strides()),
           ") refers to a single memory location", kClone);
}

void assert_no_partial_overlap(const Tensor& out, const Tensor& in, const char* op) {
  MT_CHECK(get_overlap_status(out, in) != MemOverlapStatus::Partial, std::runtime_error, "[", op,
           "] unsupported operation: some elements of the input tensor (shape ",
           shape_str(in.shape()), ") and the written-to tensor (shape ", shape_str(out.shape()),
           ") refer to a single memory location", kClone);
}

Tensor unaliased_input(const Tensor& out, const Tensor& in, const char* op) {
  assert_no_partial_overlap(out, in, op);
  return get_overlap_status(out, in) == MemOverlapStatus::TooHard ? clone(in) : in;
}

void check_inplace_overlap(const Tensor& out, const std::vector<Tensor>& inputs, const char* op) {
  assert_no_internal_overlap(out, op);
  for (const Tensor& in : inputs) assert_no_partial_overlap(out, in, op);
}

}  // namespace mytensor
