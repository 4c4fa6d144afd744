// How a reduction over some dims reads its input: a contiguous (outer, r, inner) view.
#pragma once
#include "core/kernel_params.h"
#include "core/ops.h"

namespace mytensor {

struct ReducePlan {
  Tensor input;     // contiguous, read as (outer, r, inner)
  ReduceDims dims;
  Shape out_shape;  // with keepdim applied
  Shape kept_shape; // the keepdim=true shape (reduced dims of size 1)
};

// dims empty = every dim. The input is copied only when the reduced dims are not one
// contiguous block of a contiguous tensor.
ReducePlan plan_reduction(const Tensor& x, const Dims& dims, bool keepdim, const char* op);

}  // namespace mytensor
