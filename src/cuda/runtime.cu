// The CUDA runtime: devices, one stream per device, the caching allocator, pinned staging for
// host-to-device copies, the device-side error slot and the TF32 switches.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/runtime.h"

namespace mytensor::cuda {

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  // Clear a non-sticky error so that the next launch check does not report it a second time.
  cudaGetLastError();
  detail::throw_error<CudaError>("CUDA error: ", cudaGetErrorString(err), " (",
                                 cudaGetErrorName(err), ") in ", expr, " at ", file, ":", line);
}

namespace {

// Requests under 1 MiB round up to 512 B, larger ones to 2 MiB: few size classes, so freed
// blocks are found again by the next step of a training loop.
constexpr size_t kSmallLimit = size_t(1) << 20;
constexpr size_t kSmallRound = 512;
constexpr size_t kLargeRound = size_t(2) << 20;

// Host-to-device copies go through pinned blocks of at most kStagingChunk bytes; a device keeps at
// most kMaxStagingBytes of them before it waits for in-flight copies to finish.
constexpr size_t kMinStaging = size_t(64) << 10;
constexpr size_t kStagingChunk = size_t(16) << 20;
constexpr size_t kMaxStagingBytes = size_t(256) << 20;

size_t round_size(size_t n) {
  if (n < kSmallLimit) {
    return std::max(kSmallRound, (n + kSmallRound - 1) / kSmallRound * kSmallRound);
  }
  return (n + kLargeRound - 1) / kLargeRound * kLargeRound;
}

std::string bytes_str(int64_t n) {
  char buf[64];
  double v = static_cast<double>(n);
  if (v >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", v / (1024.0 * 1024 * 1024));
  } else if (v >= 1024.0 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2f MiB", v / (1024.0 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld bytes", static_cast<long long>(n));
  }
  return buf;
}

struct StagingBlock {
  void* host = nullptr;
  size_t size = 0;
  cudaEvent_t event = nullptr;
};

struct DeviceState {
  std::once_flag stream_once;
  cudaStream_t stream = nullptr;
  std::once_flag props_once;
  int sm_count = 0;
  int cc_major = 0;

  std::mutex alloc_mu;
  std::unordered_map<void*, size_t> live;                 // block -> its size class
  std::unordered_map<size_t, std::vector<void*>> cached;  // size class -> free blocks
  int64_t allocated = 0, peak = 0, reserved = 0, cached_bytes = 0;

  std::mutex staging_mu;
  std::multimap<size_t, StagingBlock*> staging_free;
  std::deque<StagingBlock*> staging_in_flight;  // one stream: they complete in this order
  size_t staging_bytes = 0;

  std::once_flag slot_once;
  DeviceErrorSlot* slot = nullptr;
  std::atomic<bool> slot_used{false};
};

// Never destroyed: the CUDA runtime may already be torn down when static destructors run.
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
  if (!s.slot_used.exchange(false)) return;
  DeviceGuard guard(device);
  cudaStream_t stream = current_stream(device);
  DeviceErrorSlot host{};
  MT_CUDA_CHECK(cudaMemcpyAsync(&host, s.slot, sizeof(host), cudaMemcpyDeviceToHost, stream));
  MT_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (host.flag == 0) return;
  MT_CUDA_CHECK(cudaMemsetAsync(s.slot, 0, sizeof(DeviceErrorSlot), stream));
  throw std::out_of_range(describe(host));
}

// ---- caching allocator ------------------------------------------------------------------------

namespace {

// Frees every cached block of `s` (alloc_mu held). Kernels already queued may still use blocks
// the host has freed, so wait for the device first.
void release_cached(DeviceState& s, int device) {
  if (s.cached_bytes == 0) return;
  DeviceGuard guard(device);
  MT_CUDA_CHECK(cudaDeviceSynchronize());
  for (auto& entry : s.cached) {
    for (void* p : entry.second) {
      cudaFree(p);
      s.reserved -= static_cast<int64_t>(entry.first);
    }
  }
  s.cached.clear();
  s.cached_bytes = 0;
}

void* device_malloc(DeviceState& s, int device, size_t size, size_t requested) {
  DeviceGuard guard(device);
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, size);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    release_cached(s, device);
    err = cudaMalloc(&ptr, size);
  }
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) cudaGetLastError();
    detail::throw_error<CudaError>(
        "[allocate] CUDA out of memory on cuda:", device, ": tried to allocate ",
        bytes_str(static_cast<int64_t>(requested)), "; the caching allocator holds ",
        bytes_str(s.reserved), " reserved, of which ", bytes_str(s.allocated),
        " allocated to tensors; the device has ", bytes_str(static_cast<int64_t>(free_bytes)),
        " free of ", bytes_str(static_cast<int64_t>(total_bytes)));
  }
  if (err != cudaSuccess) throw_cuda_error(err, "cudaMalloc", __FILE__, __LINE__);
  return ptr;
}

}  // namespace

void* allocate(size_t nbytes, int device) {
  DeviceState& s = state(device, "allocate");
  // Zero-byte requests get a real 512-byte block: a valid, unique pointer.
  size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  void* ptr = nullptr;
  auto it = s.cached.find(size);
  if (it != s.cached.end() && !it->second.empty()) {
    // One stream per device: work queued on the old owner runs before any use by the new one.
    ptr = it->second.back();
    it->second.pop_back();
    s.cached_bytes -= static_cast<int64_t>(size);
  } else {
    ptr = device_malloc(s, device, size, nbytes);
    s.reserved += static_cast<int64_t>(size);
  }
  s.live.emplace(ptr, size);
  s.allocated += static_cast<int64_t>(size);
  s.peak = std::max(s.peak, s.allocated);
  return ptr;
}

void deallocate(void* ptr, size_t, int device) {
  // Called from Storage's destructor: never throws and makes no CUDA call.
  if (ptr == nullptr || device < 0 || device >= device_count()) return;
  DeviceState& s = *device_states()[device];
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  auto it = s.live.find(ptr);
  if (it == s.live.end()) return;
  size_t size = it->second;
  s.live.erase(it);
  s.allocated -= static_cast<int64_t>(size);
  s.cached[size].push_back(ptr);
  s.cached_bytes += static_cast<int64_t>(size);
}

int64_t memory_allocated(int device) {
  DeviceState& s = state(device, "memory_allocated");
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  return s.allocated;
}

int64_t max_memory_allocated(int device) {
  DeviceState& s = state(device, "max_memory_allocated");
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  return s.peak;
}

int64_t memory_reserved(int device) {
  DeviceState& s = state(device, "memory_reserved");
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  return s.reserved;
}

void reset_peak_memory_stats(int device) {
  DeviceState& s = state(device, "reset_peak_memory_stats");
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  s.peak = s.allocated;
}

void empty_cache() {
  auto& states = device_states();
  for (int d = 0; d < static_cast<int>(states.size()); ++d) {
    DeviceState& s = *states[d];
    {
      std::lock_guard<std::mutex> lock(s.alloc_mu);
      release_cached(s, d);
    }
    // Pinned staging blocks that no copy is using go back too.
    std::lock_guard<std::mutex> lock(s.staging_mu);
    for (auto& entry : s.staging_free) {
      cudaFreeHost(entry.second->host);
      cudaEventDestroy(entry.second->event);
      s.staging_bytes -= entry.second->size;
      delete entry.second;
    }
    s.staging_free.clear();
  }
}

// ---- copies -----------------------------------------------------------------------------------

namespace {

size_t staging_size_for(size_t chunk) {
  size_t size = kMinStaging;
  while (size < chunk) size *= 2;
  return size;
}

// A pinned block of at least `chunk` bytes that no queued copy reads any more, or nullptr when
// pinned memory cannot be had (staging_mu held, device current).
StagingBlock* acquire_staging(DeviceState& s, size_t chunk) {
  while (!s.staging_in_flight.empty()) {
    StagingBlock* b = s.staging_in_flight.front();
    cudaError_t err = cudaEventQuery(b->event);
    if (err == cudaErrorNotReady) break;
    if (err != cudaSuccess) throw_cuda_error(err, "cudaEventQuery(staging)", __FILE__, __LINE__);
    s.staging_in_flight.pop_front();
    s.staging_free.emplace(b->size, b);
  }
  auto it = s.staging_free.lower_bound(chunk);
  if (it != s.staging_free.end()) {
    StagingBlock* b = it->second;
    s.staging_free.erase(it);
    return b;
  }
  size_t size = staging_size_for(chunk);
  if (s.staging_bytes + size > kMaxStagingBytes) {
    // At the cap: wait for queued copies, oldest first, until a large enough block is free.
    while (!s.staging_in_flight.empty()) {
      StagingBlock* b = s.staging_in_flight.front();
      s.staging_in_flight.pop_front();
      MT_CUDA_CHECK(cudaEventSynchronize(b->event));
      if (b->size >= chunk) return b;
      s.staging_free.emplace(b->size, b);
    }
  }
  auto* b = new StagingBlock();
  b->size = size;
  if (cudaMallocHost(&b->host, size) != cudaSuccess) {
    cudaGetLastError();
    delete b;
    return nullptr;
  }
  if (cudaEventCreateWithFlags(&b->event, cudaEventDisableTiming) != cudaSuccess) {
    cudaGetLastError();
    cudaFreeHost(b->host);
    delete b;
    return nullptr;
  }
  s.staging_bytes += size;
  return b;
}

}  // namespace

void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  DeviceState& s = state(device, "to");
  DeviceGuard guard(device);
  cudaStream_t stream = current_stream(device);
  const char* from = static_cast<const char*>(src);
  char* to = static_cast<char*>(dst);
  std::lock_guard<std::mutex> lock(s.staging_mu);
  size_t done = 0;
  while (done < nbytes) {
    size_t chunk = std::min(nbytes - done, kStagingChunk);
    StagingBlock* b = acquire_staging(s, chunk);
    if (b == nullptr) {
      // No pinned memory: a pageable copy, which the driver stages before returning.
      MT_CUDA_CHECK(
          cudaMemcpyAsync(to + done, from + done, nbytes - done, cudaMemcpyHostToDevice, stream));
      return;
    }
    std::memcpy(b->host, from + done, chunk);
    cudaError_t err = cudaMemcpyAsync(to + done, b->host, chunk, cudaMemcpyHostToDevice, stream);
    if (err == cudaSuccess) err = cudaEventRecord(b->event, stream);
    if (err != cudaSuccess) {
      s.staging_free.emplace(b->size, b);
      throw_cuda_error(err, "cudaMemcpyAsync(host to device)", __FILE__, __LINE__);
    }
    s.staging_in_flight.push_back(b);
    done += chunk;
  }
}

void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device) {
  check_device(device, "to");
  {
    DeviceGuard guard(device);
    cudaStream_t stream = current_stream(device);
    if (nbytes > 0) {
      MT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream));
    }
    MT_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  check_device_errors(device);
}

void copy_device_to_device(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  check_device(device, "to");
  DeviceGuard guard(device);
  // cudaMemcpyDefault: with unified addressing the driver also handles a source on another GPU.
  MT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, current_stream(device)));
}

// ---- TF32 -------------------------------------------------------------------------------------

void set_allow_tf32(bool matmul, bool conv) {
  g_tf32_matmul.store(matmul);
  g_tf32_conv.store(conv);
}
bool allow_tf32_matmul() { return g_tf32_matmul.load(); }
bool allow_tf32_conv() { return g_tf32_conv.load(); }

}  // namespace mytensor::cuda
