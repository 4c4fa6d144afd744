// The CUDA runtime as the core sees it: devices, the caching allocator, copies, the stream.
// Implemented in cuda/device.cpp, allocator.cpp, copy.cpp and graphs.cpp, or by
// no_cuda/kernels.cpp (raising DeviceError) without CUDA.
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

// ---- CUDA graphs (used by python/mytensor/cuda/graphs.py) ----------------------------------------
// A capture records every launch and copy queued on the device's stream
// (cudaStreamCaptureModeThreadLocal) into one graph. While it runs, allocate() serves blocks from
// the graph's private pool and every freed block joins that pool, since replays keep using the
// addresses; host-device copies, synchronize(), reads of the device error slot and an
// out-of-memory retry (which would sync) raise GraphCaptureError, since a replay repeats none of
// them. One capture per device at a time.
void capture_begin(int device);
int64_t capture_end(int device);  // instantiates the graph and returns its id
// Abandons a capture that failed half-way, so that the stream is usable again.
void capture_abort(int device);
bool is_capturing(int device);
bool is_capturing_any();
// Per-replay scalars: reserves `count` consecutive 8-byte words of the capturing graph's slot
// buffer and returns the index of the first; slot_address() is where a kernel reads one. replay()
// writes every slot's value before launching the graph.
int64_t capture_slots(int device, int64_t count);
const void* slot_address(int device, int64_t index);
// A random draw of `n` counters inside a capture: returns the address of two slots {seed, base
// offset} (filled before each replay from the generator) and sets `*relative` to the draw's
// offset from the capture's first draw.
const uint64_t* capture_random(int device, uint64_t n, uint64_t* relative);

struct GraphInfo {
  int device = 0;
  int64_t slots = 0;         // slots reserved during the capture
  int64_t random_slot = -1;  // index of the {seed, offset} pair, -1 if nothing was drawn
  uint64_t random_counters = 0;  // counters the captured draws consume per replay
  int64_t nodes = 0;             // nodes of the captured graph
  int64_t kernels = 0;           // of which kernel launches
};
GraphInfo graph_info(int64_t id);
// Writes `nbytes` of slot values (one host-to-device copy), then launches the graph. Asynchronous.
void replay(int64_t id, const void* slot_values, size_t nbytes);
// Waits for the device, frees the graph and gives its pool's free blocks back to the cache (live
// ones follow when freed). Deferred to the end of the capture when one is in progress.
void destroy(int64_t id);
// (live graphs on `device`, bytes free in their pools, bytes of live blocks from their pools).
struct GraphPoolStats {
  int64_t graphs = 0, free_bytes = 0, live_bytes = 0;
};
GraphPoolStats graph_pool_stats(int device);

}  // namespace mytensor::cuda

namespace mytensor::cuda {
// Tensor-core TF32 for float32 GEMMs and convolutions, as torch.backends.*.allow_tf32
// (PyTorch's defaults: off for matmul, on for convolutions).
void set_allow_tf32(bool matmul, bool conv);
bool allow_tf32_matmul();
bool allow_tf32_conv();
}  // namespace mytensor::cuda
