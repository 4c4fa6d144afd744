// Plain parameter structs passed from core/ops to the backends (validated, resolved values).
#pragma once
#include <cstdint>

namespace mytensor {

// A contiguous tensor read as (outer, r, inner): r is the reduced extent.
struct ReduceDims {
  int64_t outer = 1, r = 1, inner = 1;
};

// A contiguous tensor read as (outer, n, inner) around an indexed dim of size n.
struct IndexDims {
  int64_t outer = 1, n = 1, inner = 1;
};

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

struct Pool2dParams {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  bool count_include_pad = true;  // avg_pool2d only
};

struct AdamParams {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  int64_t step = 1;      // the step being taken, counted from 1 (for bias correction)
  bool decoupled = false;  // AdamW: weight decay applied to the parameter, not the gradient
  bool amsgrad = false;
  bool maximize = false;
  // Inside a CUDA graph capture: slots of the graph (cuda/runtime.h) that each replay fills with
  // lr, the step and beta1 as doubles (beta1 for schedules that cycle it), -1 for none. core/ops
  // resolves them to device addresses, which the kernel then reads instead of the values above.
  int64_t lr_slot = -1, step_slot = -1, beta1_slot = -1;
  const double* lr_dev = nullptr;
  const double* step_dev = nullptr;
  const double* beta1_dev = nullptr;
};

struct SgdParams {
  double lr = 1e-2, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false;
  bool first_step = false;  // momentum buffers are initialised to the gradient on the first step
  bool maximize = false;
  int64_t lr_slot = -1, momentum_slot = -1;  // as AdamParams
  const double* lr_dev = nullptr;
  const double* momentum_dev = nullptr;
};

// Where the counters of a random draw start: element i uses Philox(seed, offset + i). Inside a
// CUDA graph `base` points at two device words {seed, base offset} rewritten before each replay;
// the kernel then uses seed = base[0] and offset = base[1] + offset. CUDA only; null otherwise.
struct PhiloxArgs {
  uint64_t seed = 0, offset = 0;
  const uint64_t* base = nullptr;
};

}  // namespace mytensor
