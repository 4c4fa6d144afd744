// The CUDA runtime as the core sees it: devices, the caching allocator, copies, the stream.
// Implemented in cuda/runtime.cu, or by no_cuda/kernels.cpp (raising DeviceError) without CUDA.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mytensor::cuda {

bool is_available();  // compiled in and at least one device visible
int device_count();
void synchronize(int device);
// Raises DeviceError naming `op` when CUDA is not compiled in or `device` does not exist.
void check_device(int device, const char* op);
// Reads the device-side error slot (this waits for the device's stream); if a kernel recorded a
// bad index there, clears it and raises std::out_of_range naming the op. synchronize() and
// copy_device_to_host() call it, since CUDA kernels cannot raise while they run.
void check_device_errors(int device);

// Caching allocator: blocks are kept in size classes and reused in stream order.
void* allocate(size_t nbytes, int device);
void deallocate(void* ptr, size_t nbytes, int device);
int64_t memory_allocated(int device);
int64_t max_memory_allocated(int device);
int64_t memory_reserved(int device);
void reset_peak_memory_stats(int device);
void empty_cache();

// Copies on the device's stream. Host-to-device goes through pinned staging and does not wait;
// device-to-host waits for the stream (the host needs the bytes).
void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device);
void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device);
void copy_device_to_device(void* dst, const void* src, size_t nbytes, int device);

}  // namespace mytensor::cuda

namespace mytensor::cuda {
// Tensor-core TF32 for float32 GEMMs and convolutions, as torch.backends.*.allow_tf32
// (PyTorch's defaults: off for matmul, on for convolutions).
void set_allow_tf32(bool matmul, bool conv);
bool allow_tf32_matmul();
bool allow_tf32_conv();
}  // namespace mytensor::cuda
