// Bindings of the runtime: CUDA devices, memory statistics and graphs, CPU threads and memory.
#include <nanobind/nanobind.h>
#include <nanobind/stl/tuple.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/allocator.h"
#include "cuda/runtime.h"
#if defined(MYTENSOR_SM90A)
#include "cuda/conv_sm90.h"
#endif

namespace nb = nanobind;
using namespace nb::literals;
using namespace mytensor;

void init_runtime(nb::module_& m) {
  m.def("cuda_is_compiled", []() {
#ifdef MYTENSOR_WITH_CUDA
    return true;
#else
    return false;
#endif
  });
  m.def("cuda_is_available", &cuda::is_available);
  m.def(
      "cuda_sm90_conv_launches",
      []() -> int64_t {
#if defined(MYTENSOR_SM90A)
        return cuda::conv_sm90_launches();
#else
        return 0;
#endif
      },
      "How many convolution passes ran on the Hopper (sm_90a) kernels in this process.");
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_synchronize", &cuda::synchronize, "device"_a = 0);
  m.def("cuda_memory_allocated", &cuda::memory_allocated, "device"_a = 0);
  m.def("cuda_max_memory_allocated", &cuda::max_memory_allocated, "device"_a = 0);
  m.def("cuda_memory_reserved", &cuda::memory_reserved, "device"_a = 0);
  m.def("cuda_reset_peak_memory_stats", &cuda::reset_peak_memory_stats, "device"_a = 0);
  m.def("cuda_empty_cache", &cuda::empty_cache);
  // CUDA graphs: the low-level calls behind mytensor.cuda.graphs, in a submodule (not tensor ops).
  nb::module_ g = m.def_submodule("graphs", "CUDA graph capture and replay (see mytensor.cuda).");
  g.def("capture_begin", &cuda::capture_begin, "device"_a);
  g.def("capture_end", &cuda::capture_end, "device"_a, "Ends the capture; the graph's id.");
  g.def("capture_abort", &cuda::capture_abort, "device"_a,
        "Abandons a failed capture (no-op when none is in progress).");
  g.def("is_capturing", &cuda::is_capturing_any, "Whether any CUDA graph capture is in progress.");
  g.def("is_capturing_device", &cuda::is_capturing, "device"_a);
  g.def("capture_slots", &cuda::capture_slots, "device"_a, "count"_a = 1,
        "Reserves per-replay scalar slots of the capture; returns the index of the first.");
  g.def(
      "info",
      [](int64_t id) {
        cuda::GraphInfo i = cuda::graph_info(id);
        return nb::make_tuple(i.device, i.slots, i.random_slot, i.random_counters, i.nodes,
                              i.kernels);
      },
      "id"_a, "(device, slots, random_slot, random_counters, nodes, kernels) of a graph.");
  g.def(
      "replay",
      [](int64_t id, nb::bytes slot_values) {
        cuda::replay(id, slot_values.c_str(), slot_values.size());
      },
      "id"_a, "slot_values"_a,
      "Writes the slot values (8 bytes each) and launches the graph; does not wait.");
  g.def("destroy", &cuda::destroy, "id"_a);
  g.def(
      "pool_stats",
      [](int device) {
        cuda::GraphPoolStats st = cuda::graph_pool_stats(device);
        return nb::make_tuple(st.graphs, st.free_bytes, st.live_bytes);
      },
      "device"_a = 0, "(live graphs, bytes free in their pools, bytes of live pool blocks).");
  m.def("set_allow_tf32", &cuda::set_allow_tf32, "matmul"_a, "conv"_a);
  m.def("allow_tf32_matmul", &cuda::allow_tf32_matmul);
  m.def("allow_tf32_conv", &cuda::allow_tf32_conv);

  m.def("cpu_memory_allocated", &cpu::memory_allocated);
  m.def("cpu_max_memory_allocated", &cpu::max_memory_allocated);
  m.def("cpu_reset_peak_memory_stats", &cpu::reset_peak_memory_stats);
  m.def("get_num_threads", []() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  });
  m.def("set_num_threads", [](int n) {
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
#endif
  });
}
