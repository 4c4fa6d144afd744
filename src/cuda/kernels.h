// The CUDA backend's kernel entry points: the contract in core/backend_contract.inc, declared
// in namespace mytensor::cuda (defined in src/cuda/*.cu, or by src/no_cuda/ without CUDA).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "core/kernel_params.h"
#include "core/scalar.h"
#include "core/tensor_impl.h"

namespace mytensor::cuda {
#include "core/backend_contract.inc"
}  // namespace mytensor::cuda
