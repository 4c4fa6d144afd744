// Private to the CUDA runtime (device.cpp, allocator.cpp, copy.cpp, graphs.cpp): the per-device
// state they share, the allocator's graph pools and the capture in progress.
#pragma once
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/cuda_check.h"

namespace mytensor::cuda {

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

// Every device's state, created on first use (never destroyed: the CUDA runtime may already be
// torn down when static destructors run).
std::vector<DeviceState*>& device_states();
// check_device(device, op), then that device's state.
DeviceState& state(int device, const char* op);

// Raises GraphCaptureError with `what` when a capture is in progress: the host-side actions that
// call this would happen once, at capture time, and never at a replay. (graphs.cpp)
void refuse_while_capturing(const char* what);

// Gives a pool's free blocks to the shared cache and marks it released (alloc_mu held; the
// device must have finished every replay of the pool's graph). (allocator.cpp)
void release_pool(DeviceState& s, Pool& pool);

// Frees the pinned staging blocks that no copy is using (staging_mu not held). (copy.cpp)
void release_staging(DeviceState& s);

}  // namespace mytensor::cuda
