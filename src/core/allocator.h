// Host memory for CPU tensors, with live-byte statistics (CUDA memory: cuda/allocator.cu).
#pragma once
#include <cstddef>
#include <cstdint>

namespace mytensor::cpu {

void* allocate(size_t nbytes);
void deallocate(void* ptr, size_t nbytes);
int64_t memory_allocated();
int64_t max_memory_allocated();
void reset_peak_memory_stats();

}  // namespace mytensor::cpu
