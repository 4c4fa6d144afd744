// The CUDA runtime's devices: device count and checks, the device guard, one stream per device,
// device properties, synchronize, the device-side error slot, and the TF32 switches.
#include <cuda_runtime.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/runtime.h"
#include "cuda/runtime_state.h"

namespace mytensor::cuda {

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  // Clear a non-sticky error so that the next launch check does not report it a second time.
  cudaGetLastError();
  detail::throw_error<CudaError>("CUDA error: ", cudaGetErrorString(err), " (",
                                 cudaGetErrorName(err), ") in ", expr, " at ", file, ":", line);
}

std::vector<DeviceState*>& device_states() {
  static std::vector<DeviceState*>* states = [] {
    auto* v = new std::vector<DeviceState*>();
    int n = device_count();
    for (int i = 0; i < n; ++i) v->push_back(new DeviceState());
    return v;
  }();
  return *states;
}

DeviceState& state(int device, const char* op) {
  check_device(device, op);
  return *device_states()[device];
}

namespace {
std::atomic<bool> g_tf32_matmul{false};
std::atomic<bool> g_tf32_conv{true};
}  // namespace

// ---- devices and streams ----------------------------------------------------------------------

int device_count() {
  // No driver or no GPU is not an error here: the answer is 0 devices.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

bool is_available() { return device_count() > 0; }

void check_device(int device, const char* op) {
  int n = device_count();
  MT_CHECK(n > 0, DeviceError, "[", op,
           "] no CUDA device is available (no GPU or no driver found)");
  MT_CHECK(device >= 0 && device < n, DeviceError, "[", op, "] CUDA device index ", device,
           " is out of range: ", n, " device(s) available");
}

DeviceGuard::DeviceGuard(int device) : device_(device) {
  MT_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) MT_CUDA_CHECK(cudaSetDevice(device));
}

DeviceGuard::~DeviceGuard() {
  if (previous_ >= 0 && previous_ != device_) cudaSetDevice(previous_);
}

cudaStream_t current_stream(int device) {
  DeviceState& s = state(device, "cuda");
  std::call_once(s.stream_once, [&] {
    DeviceGuard guard(device);
    MT_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
  });
  return s.stream;
}

int sm_count(int device) {
  DeviceState& s = state(device, "cuda");
  std::call_once(s.props_once, [&] {
    MT_CUDA_CHECK(cudaDeviceGetAttribute(&s.sm_count, cudaDevAttrMultiProcessorCount, device));
    MT_CUDA_CHECK(cudaDeviceGetAttribute(&s.cc_major, cudaDevAttrComputeCapabilityMajor, device));
  });
  return s.sm_count;
}

int compute_capability_major(int device) {
  sm_count(device);
  return device_states()[device]->cc_major;
}

bool sync_after_launch() {
  static const bool enabled = [] {
    const char* v = std::getenv("MYTENSOR_CUDA_SYNC");
    return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

void synchronize(int device) {
  check_device(device, "cuda.synchronize");
  refuse_while_capturing(
      "cuda.synchronize() inside a captured step: a capture records kernels without running "
      "them, so there is nothing to wait for; synchronize outside the step");
  {
    DeviceGuard guard(device);
    MT_CUDA_CHECK(cudaDeviceSynchronize());
  }
  check_device_errors(device);
}

// ---- device-side errors -----------------------------------------------------------------------

DeviceErrorSlot* device_error_slot(int device) {
  DeviceState& s = state(device, "cuda");
  std::call_once(s.slot_once, [&] {
    DeviceGuard guard(device);
    void* p = nullptr;
    MT_CUDA_CHECK(cudaMalloc(&p, sizeof(DeviceErrorSlot)));
    MT_CUDA_CHECK(cudaMemsetAsync(p, 0, sizeof(DeviceErrorSlot), current_stream(device)));
    s.slot = static_cast<DeviceErrorSlot*>(p);
  });
  s.slot_used.store(true);
  return s.slot;
}

namespace {
std::string describe(const DeviceErrorSlot& e) {
  const char* op = "?";
  bool target = false;
  switch (e.op) {
    case kErrCrossEntropy:
      op = "cross_entropy";
      target = true;
      break;
    case kErrCrossEntropyBackward:
      op = "cross_entropy_backward";
      target = true;
      break;
    case kErrNllLoss:
      op = "nll_loss";
      target = true;
      break;
    case kErrNllLossBackward:
      op = "nll_loss_backward";
      target = true;
      break;
    case kErrIndexSelect: op = "index_select"; break;
    case kErrIndexAdd: op = "index_add"; break;
    case kErrGather: op = "gather"; break;
    case kErrScatterAdd: op = "scatter_add"; break;
    default: break;
  }
  std::string msg = std::string("[") + op + "] ";
  if (target) {
    msg += "target " + std::to_string(e.value) + " is out of range for " + std::to_string(e.bound) +
           " classes";
  } else {
    msg += "index " + std::to_string(e.value) + " is out of range for a dimension of size " +
           std::to_string(e.bound);
  }
  return msg + " (found on the GPU; the kernel skipped it)";
}
}  // namespace

void check_device_errors(int device) {
  DeviceState& s = state(device, "cuda.check_device_errors");
  // Only devices that ran an index-reading kernel since the last check pay for the read.
  if (!s.slot_used.load()) return;
  refuse_while_capturing(
      "reading the device error slot (a host sync) inside a captured step; return the tensors "
      "from the step and read them outside");
  s.slot_used.store(false);
  DeviceGuard guard(device);
  cudaStream_t stream = current_stream(device);
  DeviceErrorSlot host{};
  MT_CUDA_CHECK(cudaMemcpyAsync(&host, s.slot, sizeof(host), cudaMemcpyDeviceToHost, stream));
  MT_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (host.flag == 0) return;
  MT_CUDA_CHECK(cudaMemsetAsync(s.slot, 0, sizeof(DeviceErrorSlot), stream));
  throw std::out_of_range(describe(host));
}

// ---- TF32 -------------------------------------------------------------------------------------

void set_allow_tf32(bool matmul, bool conv) {
  g_tf32_matmul.store(matmul);
  g_tf32_conv.store(conv);
}
bool allow_tf32_matmul() { return g_tf32_matmul.load(); }
bool allow_tf32_conv() { return g_tf32_conv.load(); }

}  // namespace mytensor::cuda
