// Built when CUDA is off: every CUDA entry point raises DeviceError saying how to rebuild.
#include "core/check.h"
#include "cuda/kernels.h"
#include "cuda/runtime.h"

namespace mytensor::cuda {

namespace {
[[noreturn]] void unavailable(const char* op) {
  detail::throw_error<DeviceError>(
      "[", op, "] mytensor was built without CUDA; rebuild with nvcc on PATH "
      "(MYTENSOR_CUDA=ON uv sync --reinstall-package mytensor) to use 'cuda' devices");
}
}  // namespace

bool is_available() { return false; }
int device_count() { return 0; }
void synchronize(int) { unavailable("cuda.synchronize"); }
void check_device(int, const char* op) { unavailable(op); }
void* allocate(size_t, int) { unavailable("allocate"); }
void deallocate(void*, size_t, int) {}
int64_t memory_allocated(int) { return 0; }
int64_t max_memory_allocated(int) { return 0; }
int64_t memory_reserved(int) { return 0; }
void reset_peak_memory_stats(int) {}
void empty_cache() {}
void copy_host_to_device(void*, const void*, size_t, int) { unavailable("to"); }
void copy_device_to_host(void*, const void*, size_t, int) { unavailable("to"); }
void copy_device_to_device(void*, const void*, size_t, int) { unavailable("to"); }

}  // namespace mytensor::cuda

namespace mytensor::cuda {
namespace {
bool g_tf32_matmul = false, g_tf32_conv = true;
}
void set_allow_tf32(bool matmul, bool conv) {
  g_tf32_matmul = matmul;
  g_tf32_conv = conv;
}
bool allow_tf32_matmul() { return g_tf32_matmul; }
bool allow_tf32_conv() { return g_tf32_conv; }
}  // namespace mytensor::cuda
