// Host allocations: 64-byte aligned so the kernels' vector loads never split a cache line.
#include "core/allocator.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/check.h"

namespace mytensor::cpu {

namespace {
std::atomic<int64_t> g_allocated{0};
std::atomic<int64_t> g_peak{0};
constexpr size_t kAlignment = 64;
}  // namespace

void* allocate(size_t nbytes) {
  size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  void* ptr = std::aligned_alloc(kAlignment, rounded);
  MT_CHECK(ptr != nullptr, OutOfMemoryError, "[cpu allocator] out of memory: tried to allocate ",
           nbytes, " bytes (", static_cast<double>(nbytes) / (1 << 30), " GiB)");
  int64_t now = g_allocated += static_cast<int64_t>(nbytes);
  int64_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  return ptr;
}

void deallocate(void* ptr, size_t nbytes) {
  std::free(ptr);
  g_allocated -= static_cast<int64_t>(nbytes);
}

int64_t memory_allocated() { return g_allocated.load(); }
int64_t max_memory_allocated() { return g_peak.load(); }
void reset_peak_memory_stats() { g_peak = g_allocated.load(); }

}  // namespace mytensor::cpu
