// The CUDA runtime: devices, one stream per device, the caching allocator, pinned staging for
// host-to-device copies, the device-side error slot, CUDA graph capture and replay (with a private
// allocator pool and per-replay scalar slots per graph) and the TF32 switches.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
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

// A graph's private pool: blocks the graph's kernels may touch at every replay, so they are
// never handed to anyone else while the graph lives.
struct Pool {
  std::unordered_map<size_t, std::vector<void*>> free;  // size class -> free blocks
  int64_t free_bytes = 0, live_bytes = 0;
  bool released = false;  // the graph is gone: blocks freed from now on go to the cache
};

struct LiveBlock {
  size_t size = 0;
  std::shared_ptr<Pool> pool;  // null for blocks of the shared cache
};

// Per-replay scalars: a capture reserves 8-byte words here; replay() rewrites them all.
constexpr int64_t kMaxSlots = 512;

// The capture in progress on a device.
struct Capture {
  std::shared_ptr<Pool> pool = std::make_shared<Pool>();
  void* slots = nullptr;  // kMaxSlots words, from the shared cache
  int64_t slots_used = 0;
  int64_t random_slot = -1;
  uint64_t random_counters = 0;
  bool uses_error_slot = false;  // set when the capture ends
};

struct Graph {
  int device = 0;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  std::shared_ptr<Pool> pool;
  void* slots = nullptr;
  int64_t slots_used = 0;
  int64_t random_slot = -1;
  uint64_t random_counters = 0;
  bool uses_error_slot = false;  // an index kernel may report through the device error slot
};

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
  std::unordered_map<void*, LiveBlock> live;              // block -> its size class and pool
  std::unordered_map<size_t, std::vector<void*>> cached;  // size class -> free blocks
  int64_t allocated = 0, peak = 0, reserved = 0, cached_bytes = 0;
  std::unique_ptr<Capture> capture;  // under alloc_mu
  std::atomic<bool> capturing{false};

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

std::atomic<int> g_captures{0};  // captures in progress, over all devices

// Raises GraphCaptureError with `what` when a capture is in progress: the host-side actions that
// call this would happen once, at capture time, and never at a replay.
void refuse_while_capturing(const char* what) {
  if (g_captures.load() == 0) return;
  detail::throw_error<GraphCaptureError>("[graphs] ", what);
}

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
    detail::throw_error<OutOfMemoryError>(
        "[allocate] CUDA out of memory on cuda:", device, ": tried to allocate ",
        bytes_str(static_cast<int64_t>(requested)), "; the caching allocator holds ",
        bytes_str(s.reserved), " reserved, of which ", bytes_str(s.allocated),
        " allocated to tensors; the device has ", bytes_str(static_cast<int64_t>(free_bytes)),
        " free of ", bytes_str(static_cast<int64_t>(total_bytes)));
  }
  if (err != cudaSuccess) throw_cuda_error(err, "cudaMalloc", __FILE__, __LINE__);
  return ptr;
}

// cudaMalloc inside a capture (relaxed mode: the call is not recorded, the graph just gets the
// address). Never retries after freeing the cache: that would need a device sync.
void* capture_malloc(DeviceState& s, int device, size_t size, size_t requested) {
  DeviceGuard guard(device);
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  MT_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, size);
  cudaThreadExchangeStreamCaptureMode(&mode);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    detail::throw_error<GraphCaptureError>(
        "[graphs] CUDA out of memory while capturing on cuda:", device, ": tried to allocate ",
        bytes_str(static_cast<int64_t>(requested)), " with ", bytes_str(s.reserved),
        " reserved; freeing cached blocks needs a device sync, which a capture cannot do: call "
        "mt.cuda.empty_cache() before capturing, or use a smaller batch");
  }
  if (err != cudaSuccess) throw_cuda_error(err, "cudaMalloc (capturing)", __FILE__, __LINE__);
  return ptr;
}

// Puts a free block into `pool` (alloc_mu held).
void pool_put(Pool& pool, void* ptr, size_t size) {
  pool.free[size].push_back(ptr);
  pool.free_bytes += static_cast<int64_t>(size);
}

// Gives a pool's free blocks to the shared cache and marks it released (alloc_mu held; the
// device must have finished every replay of the pool's graph).
void release_pool(DeviceState& s, Pool& pool) {
  for (auto& entry : pool.free) {
    for (void* p : entry.second) s.cached[entry.first].push_back(p);
    s.cached_bytes += static_cast<int64_t>(entry.first * entry.second.size());
  }
  pool.free.clear();
  pool.free_bytes = 0;
  pool.released = true;
}

void* take_cached(DeviceState& s, size_t size) {
  auto it = s.cached.find(size);
  if (it == s.cached.end() || it->second.empty()) return nullptr;
  void* ptr = it->second.back();
  it->second.pop_back();
  s.cached_bytes -= static_cast<int64_t>(size);
  return ptr;
}

}  // namespace

void* allocate(size_t nbytes, int device) {
  DeviceState& s = state(device, "allocate");
  // Zero-byte requests get a real 512-byte block: a valid, unique pointer.
  size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  void* ptr = nullptr;
  std::shared_ptr<Pool> pool;
  if (s.capture) {
    // The graph's own free blocks first, then a block of the cache (adopted by the pool: queued
    // work that used it runs before any replay), then a new one.
    pool = s.capture->pool;
    auto it = pool->free.find(size);
    if (it != pool->free.end() && !it->second.empty()) {
      ptr = it->second.back();
      it->second.pop_back();
      pool->free_bytes -= static_cast<int64_t>(size);
    } else if ((ptr = take_cached(s, size)) == nullptr) {
      ptr = capture_malloc(s, device, size, nbytes);
      s.reserved += static_cast<int64_t>(size);
    }
    pool->live_bytes += static_cast<int64_t>(size);
  } else if ((ptr = take_cached(s, size)) == nullptr) {
    // One stream per device: work queued on the old owner runs before any use by the new one.
    ptr = device_malloc(s, device, size, nbytes);
    s.reserved += static_cast<int64_t>(size);
  }
  s.live.emplace(ptr, LiveBlock{size, std::move(pool)});
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
  LiveBlock block = std::move(it->second);
  s.live.erase(it);
  s.allocated -= static_cast<int64_t>(block.size);
  if (block.pool) block.pool->live_bytes -= static_cast<int64_t>(block.size);
  if (block.pool && !block.pool->released) {
    pool_put(*block.pool, ptr, block.size);  // a graph's block stays its graph's
  } else if (s.capture) {
    // Freed during a capture: a later allocation of the capture may reuse it, so replays will
    // write it; it joins the capture's pool even when allocated before the capture.
    pool_put(*s.capture->pool, ptr, block.size);
  } else {
    s.cached[block.size].push_back(ptr);
    s.cached_bytes += static_cast<int64_t>(block.size);
  }
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
  refuse_while_capturing(
      "empty_cache() during a capture: freeing cached blocks needs a device sync; call it "
      "before capturing or after");
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
  refuse_while_capturing(
      "a host-to-device copy (mt.tensor(..., device='cuda'), .to('cuda'), .cuda(), a CPU tensor "
      "mixed with CUDA ones) inside a captured step: a replay would not repeat it and would keep "
      "the bytes copied at capture time; make the tensor before the step and pass it in as an "
      "argument");
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
  refuse_while_capturing(
      "a device-to-host copy (.item(), .numpy(), .tolist(), .cpu(), float() or printing of a CUDA "
      "tensor) inside a captured step: a replay would not run the host code that reads it; "
      "return the tensor from the step and read it outside");
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

// ---- CUDA graphs -------------------------------------------------------------------------------

namespace {

std::mutex g_graphs_mu;  // taken before any alloc_mu
std::map<int64_t, std::unique_ptr<Graph>> g_graphs;
int64_t g_next_graph = 1;
std::vector<int64_t> g_pending_destroy;  // destroy() calls that arrived during a capture

DeviceState& capturing_state(int device, const char* op) {
  DeviceState& s = state(device, op);
  MT_CHECK(s.capturing.load(), GraphCaptureError, "[graphs] ", op, ": no capture is in progress on cuda:",
           device);
  return s;
}

// Ends the capture bookkeeping of `s` (alloc_mu held): the pool stays with `keep` (the new
// graph) or, for an abandoned capture, goes back to the cache. Returns the capture.
std::unique_ptr<Capture> finish_capture(DeviceState& s, bool keep) {
  std::unique_ptr<Capture> c = std::move(s.capture);
  s.capturing.store(false);
  --g_captures;
  if (!keep) release_pool(s, *c->pool);
  // Index kernels recorded during the capture marked the error slot (capture_begin left it
  // clear); they ran no work, but each replay will, and marks it again.
  c->uses_error_slot = s.slot_used.exchange(false) && keep;
  return c;
}

// Reserves `count` slots of the capture (alloc_mu held).
int64_t reserve_slots(Capture& c, int64_t count) {
  MT_CHECK(count >= 1 && c.slots_used + count <= kMaxSlots, GraphCaptureError,
           "[graphs] a captured step may use at most ", kMaxSlots,
           " per-replay scalars (learning rates, step counts, random offsets); ", c.slots_used,
           " are in use and ", count, " more were asked for");
  int64_t first = c.slots_used;
  c.slots_used += count;
  return first;
}

void free_graph(Graph& g) {
  DeviceState& s = *device_states()[g.device];
  {
    DeviceGuard guard(g.device);
    // Replays are queued on the stream: wait for them before the pool's blocks change hands.
    MT_CUDA_CHECK(cudaStreamSynchronize(current_stream(g.device)));
    if (g.exec != nullptr) cudaGraphExecDestroy(g.exec);
    if (g.graph != nullptr) cudaGraphDestroy(g.graph);
  }
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  release_pool(s, *g.pool);
}

void run_pending_destroys() {
  std::vector<std::unique_ptr<Graph>> doomed;
  {
    std::lock_guard<std::mutex> lock(g_graphs_mu);
    if (g_captures.load() > 0) return;
    for (int64_t id : g_pending_destroy) {
      auto it = g_graphs.find(id);
      if (it == g_graphs.end()) continue;
      doomed.push_back(std::move(it->second));
      g_graphs.erase(it);
    }
    g_pending_destroy.clear();
  }
  for (auto& g : doomed) {
    free_graph(*g);
    deallocate(g->slots, 0, g->device);
  }
}

}  // namespace

bool is_capturing(int device) {
  if (device < 0 || device >= device_count()) return false;
  return device_states()[device]->capturing.load();
}

bool is_capturing_any() { return g_captures.load() > 0; }

void capture_begin(int device) {
  DeviceState& s = state(device, "graphs.capture_begin");
  MT_CHECK(!s.capturing.load(), GraphCaptureError, "[graphs] a capture is already in progress on cuda:",
           device, "; graphs capture one at a time and cannot nest");
  // Everything a launch may set up lazily is set up now, outside the capture, and any error an
  // earlier kernel reported is raised here rather than blamed on the graph.
  current_stream(device);
  sm_count(device);
  device_error_slot(device);
  synchronize(device);
  auto c = std::make_unique<Capture>();
  c->slots = allocate(kMaxSlots * sizeof(uint64_t), device);
  {
    std::lock_guard<std::mutex> lock(s.alloc_mu);
    s.slot_used.store(false);  // synchronize() has just checked it
    s.capture = std::move(c);
    s.capturing.store(true);
    ++g_captures;
  }
  DeviceGuard guard(device);
  cudaError_t err = cudaStreamBeginCapture(current_stream(device), cudaStreamCaptureModeThreadLocal);
  if (err != cudaSuccess) {
    std::unique_ptr<Capture> done;
    {
      std::lock_guard<std::mutex> lock(s.alloc_mu);
      done = finish_capture(s, /*keep=*/false);
    }
    deallocate(done->slots, 0, device);
    throw_cuda_error(err, "cudaStreamBeginCapture", __FILE__, __LINE__);
  }
}

int64_t capture_end(int device) {
  DeviceState& s = capturing_state(device, "capture_end");
  DeviceGuard guard(device);
  cudaGraph_t graph = nullptr;
  cudaError_t err = cudaStreamEndCapture(current_stream(device), &graph);
  std::unique_ptr<Capture> c;
  {
    std::lock_guard<std::mutex> lock(s.alloc_mu);
    c = finish_capture(s, /*keep=*/err == cudaSuccess);
  }
  if (err != cudaSuccess) {
    if (graph != nullptr) cudaGraphDestroy(graph);
    deallocate(c->slots, 0, device);
    run_pending_destroys();
    throw_cuda_error(err, "cudaStreamEndCapture (an operation not allowed in a capture ran)",
                     __FILE__, __LINE__);
  }
  auto g = std::make_unique<Graph>();
  g->device = device;
  g->graph = graph;
  g->pool = c->pool;
  g->slots = c->slots;
  g->slots_used = c->slots_used;
  g->random_slot = c->random_slot;
  g->random_counters = c->random_counters;
  g->uses_error_slot = c->uses_error_slot;
  err = cudaGraphInstantiate(&g->exec, graph, 0);
  if (err != cudaSuccess) {
    cudaGetLastError();
    g->exec = nullptr;
    free_graph(*g);
    deallocate(g->slots, 0, device);
    run_pending_destroys();
    throw_cuda_error(err, "cudaGraphInstantiate", __FILE__, __LINE__);
  }
  int64_t id;
  {
    std::lock_guard<std::mutex> lock(g_graphs_mu);
    id = g_next_graph++;
    g_graphs.emplace(id, std::move(g));
  }
  run_pending_destroys();
  return id;
}

void capture_abort(int device) {
  DeviceState& s = state(device, "graphs.capture_abort");
  if (!s.capturing.load()) return;
  DeviceGuard guard(device);
  cudaGraph_t graph = nullptr;
  // An invalidated capture still has to be ended; its error is the one being reported already.
  if (cudaStreamEndCapture(current_stream(device), &graph) != cudaSuccess) cudaGetLastError();
  if (graph != nullptr) cudaGraphDestroy(graph);
  std::unique_ptr<Capture> c;
  {
    std::lock_guard<std::mutex> lock(s.alloc_mu);
    c = finish_capture(s, /*keep=*/false);
  }
  deallocate(c->slots, 0, device);
  run_pending_destroys();
}

int64_t capture_slots(int device, int64_t count) {
  DeviceState& s = capturing_state(device, "capture_slots");
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  return reserve_slots(*s.capture, count);
}

const void* slot_address(int device, int64_t index) {
  DeviceState& s = capturing_state(device, "slot_address");
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  Capture& c = *s.capture;
  MT_CHECK(index >= 0 && index < c.slots_used, GraphCaptureError, "[graphs] slot ", index,
           " was not reserved by this capture (", c.slots_used, " are)");
  return static_cast<const uint64_t*>(c.slots) + index;
}

const uint64_t* capture_random(int device, uint64_t n, uint64_t* relative) {
  DeviceState& s = capturing_state(device, "capture_random");
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  Capture& c = *s.capture;
  if (c.random_slot < 0) c.random_slot = reserve_slots(c, 2);
  *relative = c.random_counters;
  c.random_counters += (n + 3) / 4 * 4;  // as the generator rounds each draw
  return static_cast<const uint64_t*>(c.slots) + c.random_slot;
}

GraphInfo graph_info(int64_t id) {
  std::lock_guard<std::mutex> lock(g_graphs_mu);
  auto it = g_graphs.find(id);
  MT_CHECK(it != g_graphs.end(), GraphCaptureError, "[graphs] no graph with id ", id,
           " (destroyed?)");
  const Graph& g = *it->second;
  GraphInfo info;
  info.device = g.device;
  info.slots = g.slots_used;
  info.random_slot = g.random_slot;
  info.random_counters = g.random_counters;
  size_t n = 0;
  MT_CUDA_CHECK(cudaGraphGetNodes(g.graph, nullptr, &n));
  std::vector<cudaGraphNode_t> nodes(n);
  if (n > 0) MT_CUDA_CHECK(cudaGraphGetNodes(g.graph, nodes.data(), &n));
  info.nodes = static_cast<int64_t>(n);
  for (cudaGraphNode_t node : nodes) {
    cudaGraphNodeType type;
    MT_CUDA_CHECK(cudaGraphNodeGetType(node, &type));
    if (type == cudaGraphNodeTypeKernel) ++info.kernels;
  }
  return info;
}

void replay(int64_t id, const void* slot_values, size_t nbytes) {
  refuse_while_capturing("replaying a graph inside a capture is not supported");
  cudaGraphExec_t exec = nullptr;
  void* slots = nullptr;
  int device = 0;
  bool uses_error_slot = false;
  {
    std::lock_guard<std::mutex> lock(g_graphs_mu);
    auto it = g_graphs.find(id);
    MT_CHECK(it != g_graphs.end(), GraphCaptureError, "[graphs] replay: no graph with id ", id,
             " (destroyed?)");
    const Graph& g = *it->second;
    MT_CHECK(nbytes == static_cast<size_t>(g.slots_used) * sizeof(uint64_t), GraphCaptureError,
             "[graphs] replay: the graph has ", g.slots_used, " slots (", g.slots_used * 8,
             " bytes), got ", nbytes, " bytes of slot values");
    exec = g.exec;
    slots = g.slots;
    device = g.device;
    uses_error_slot = g.uses_error_slot;
  }
  // Queued before the launch on the same stream: the graph reads the new values.
  if (nbytes > 0) copy_host_to_device(slots, slot_values, nbytes, device);
  DeviceGuard guard(device);
  cudaStream_t stream = current_stream(device);
  MT_CUDA_CHECK(cudaGraphLaunch(exec, stream));
  if (uses_error_slot) device_states()[device]->slot_used.store(true);
  if (sync_after_launch()) {
    cudaError_t err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess) {
      cudaGetLastError();
      detail::throw_error<CudaError>("[graphs] a replayed graph failed while running: ",
                                     cudaGetErrorString(err), " (", cudaGetErrorName(err),
                                     "; reported by MYTENSOR_CUDA_SYNC=1)");
    }
  }
}

void destroy(int64_t id) {
  std::unique_ptr<Graph> g;
  {
    std::lock_guard<std::mutex> lock(g_graphs_mu);
    auto it = g_graphs.find(id);
    if (it == g_graphs.end()) return;
    if (g_captures.load() > 0) {
      // A garbage-collected graph during another capture: waiting for the device now would
      // break that capture.
      g_pending_destroy.push_back(id);
      return;
    }
    g = std::move(it->second);
    g_graphs.erase(it);
  }
  free_graph(*g);
  deallocate(g->slots, 0, g->device);
}

GraphPoolStats graph_pool_stats(int device) {
  GraphPoolStats stats;
  std::lock_guard<std::mutex> graphs_lock(g_graphs_mu);
  DeviceState& s = state(device, "graph_pool_stats");
  std::lock_guard<std::mutex> lock(s.alloc_mu);
  for (auto& entry : g_graphs) {
    const Graph& g = *entry.second;
    if (g.device != device) continue;
    ++stats.graphs;
    stats.free_bytes += g.pool->free_bytes;
  }
  if (s.capture) stats.free_bytes += s.capture->pool->free_bytes;
  // Live blocks of every pool, including released ones whose blocks are still in use.
  for (auto& entry : s.live) {
    if (entry.second.pool) stats.live_bytes += static_cast<int64_t>(entry.second.size);
  }
  return stats;
}

// ---- TF32 -------------------------------------------------------------------------------------

void set_allow_tf32(bool matmul, bool conv) {
  g_tf32_matmul.store(matmul);
  g_tf32_conv.store(conv);
}
bool allow_tf32_matmul() { return g_tf32_matmul.load(); }
bool allow_tf32_conv() { return g_tf32_conv.load(); }

}  // namespace mytensor::cuda
