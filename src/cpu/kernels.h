// The CPU backend's kernel entry points: the contract in core/backend_contract.inc, declared
// in namespace mytensor::cpu (defined in src/cpu/*.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "core/kernel_params.h"
#include "core/scalar.h"
#include "core/tensor_impl.h"

namespace mytensor::cpu {
#include "core/backend_contract.inc"
}  // namespace mytensor::cpu
