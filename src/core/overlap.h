// Memory overlap between tensors, for the ops that write into an existing tensor (PyTorch's
// MemoryOverlap): a write must not hit one location twice, nor read an input it is overwriting.
#pragma once
#include <vector>

#include "core/tensor_impl.h"

namespace mytensor {

// Whether two elements of a tensor share one memory location. TooHard: strides that could alias
// but cannot be proved to (PyTorch then lets the op run, and so do we).
enum class MemOverlap { No, Yes, TooHard };
// How the memory of two tensors relates. Full: the same elements in the same order (x.add_(x) is
// fine); Partial: some shared bytes (x.add_(x.t()), x[1:].add_(x[:-1])); TooHard: not dense, so
// the byte ranges say nothing exact.
enum class MemOverlapStatus { Full, Partial, TooHard, No };

// Every element at its own address and no gap (a permutation of a contiguous layout).
bool is_non_overlapping_and_dense(const Tensor& t);
MemOverlap has_internal_overlap(const Tensor& t);
MemOverlapStatus get_overlap_status(const Tensor& a, const Tensor& b);

// RuntimeError "[op] unsupported operation: more than one element of the written-to tensor ...".
void assert_no_internal_overlap(const Tensor& out, const char* op);
// RuntimeError "[op] unsupported operation: some elements of the input tensor and the written-to
// tensor ..." on a Partial overlap.
void assert_no_partial_overlap(const Tensor& out, const Tensor& in, const char* op);
// The input to read while writing `out` in place: `in` itself, or a copy of it where the two may
// share memory in a way the checks above cannot prove harmless (PyTorch reads a half-written
// input there; a copy gives the result of reading the whole input first).
Tensor unaliased_input(const Tensor& out, const Tensor& in, const char* op);
// All the checks of an in-place write into `out` that reads `inputs`, for ops composed in Python.
void check_inplace_overlap(const Tensor& out, const std::vector<Tensor>& inputs, const char* op);

}  // namespace mytensor
