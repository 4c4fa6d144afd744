// CUDA graph capture and replay: one capture per device at a time, a private allocator pool per
// graph, per-replay scalar slots, and destruction deferred while another capture runs.
#include <cuda_runtime.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/runtime.h"
#include "cuda/runtime_state.h"

namespace mytensor::cuda {

namespace {

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

std::atomic<int> g_captures{0};  // captures in progress, over all devices

}  // namespace

void refuse_while_capturing(const char* what) {
  if (g_captures.load() == 0) return;
  detail::throw_error<GraphCaptureError>("[graphs] ", what);
}

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

}  // namespace mytensor::cuda
