// Internal to the CUDA backend: MT_CUDA_CHECK, the per-device stream, the device guard and the
// device-side error slot that index-reading kernels report bad indices through.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/check.h"

namespace mytensor::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);

// The device's one stream, created non-blocking on first use: every kernel and copy of the
// backend goes there, so stream order is program order and freed blocks can be reused at once.
cudaStream_t current_stream(int device);
int sm_count(int device);
int compute_capability_major(int device);
// MYTENSOR_CUDA_SYNC=1 (read once): synchronize after every launch so that an asynchronous fault
// is reported against the kernel that caused it.
bool sync_after_launch();

// Kernels that read indices never touch memory out of bounds: they skip a bad index and record
// the first one here; check_device_errors() (runtime.h) turns it into std::out_of_range.
enum DeviceErrorOp : int {
  kErrNone = 0,
  kErrCrossEntropy,
  kErrCrossEntropyBackward,
  kErrNllLoss,
  kErrNllLossBackward,
  kErrIndexSelect,
  kErrIndexAdd,
  kErrGather,
  kErrScatterAdd,
};
struct DeviceErrorSlot {
  int flag;
  int op;
  long long value;
  long long bound;
};
// The device's slot (device memory); marks the device as needing a check at the next sync.
DeviceErrorSlot* device_error_slot(int device);

// Makes `device` current for the guard's lifetime (kernels launch on the current device).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
  int device_ = -1;
};

}  // namespace mytensor::cuda

// MT_CUDA_CHECK(expr): throws CudaError naming the expression, file, line and CUDA's message.
#define MT_CUDA_CHECK(expr)                                                   \
  do {                                                                        \
    cudaError_t mt_err_ = (expr);                                             \
    if (mt_err_ != cudaSuccess)                                               \
      ::mytensor::cuda::throw_cuda_error(mt_err_, #expr, __FILE__, __LINE__); \
  } while (0)
