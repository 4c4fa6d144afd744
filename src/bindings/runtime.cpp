// Bindings of the runtime: CUDA devices and memory statistics, CPU threads and memory.
#include <nanobind/nanobind.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/allocator.h"
#include "cuda/runtime.h"

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
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_synchronize", &cuda::synchronize, "device"_a = 0);
  m.def("cuda_memory_allocated", &cuda::memory_allocated, "device"_a = 0);
  m.def("cuda_max_memory_allocated", &cuda::max_memory_allocated, "device"_a = 0);
  m.def("cuda_memory_reserved", &cuda::memory_reserved, "device"_a = 0);
  m.def("cuda_reset_peak_memory_stats", &cuda::reset_peak_memory_stats, "device"_a = 0);
  m.def("cuda_empty_cache", &cuda::empty_cache);
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
