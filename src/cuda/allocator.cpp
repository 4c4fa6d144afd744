// The CUDA caching allocator: size classes, reuse in stream order, graph pools (a block a
// captured graph may touch stays that graph's while it lives), memory statistics, empty_cache.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/runtime.h"
#include "cuda/runtime_state.h"

namespace mytensor::cuda {

namespace {

// Requests under 1 MiB round up to 512 B, larger ones to 2 MiB: few size classes, so freed
// blocks are found again by the next step of a training loop.
constexpr size_t kSmallLimit = size_t(1) << 20;
constexpr size_t kSmallRound = 512;
constexpr size_t kLargeRound = size_t(2) << 20;

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

void* take_cached(DeviceState& s, size_t size) {
  auto it = s.cached.find(size);
  if (it == s.cached.end() || it->second.empty()) return nullptr;
  void* ptr = it->second.back();
  it->second.pop_back();
  s.cached_bytes -= static_cast<int64_t>(size);
  return ptr;
}

}  // namespace

void release_pool(DeviceState& s, Pool& pool) {
  for (auto& entry : pool.free) {
    for (void* p : entry.second) s.cached[entry.first].push_back(p);
    s.cached_bytes += static_cast<int64_t>(entry.first * entry.second.size());
  }
  pool.free.clear();
  pool.free_bytes = 0;
  pool.released = true;
}

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
    release_staging(s);
  }
}

}  // namespace mytensor::cuda
