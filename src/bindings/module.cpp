// The extension module mytensor._C: one init_* per bindings file.
#include <nanobind/nanobind.h>

#include "core/check.h"

namespace nb = nanobind;

void init_errors(nb::module_& m);
void init_tensor(nb::module_& m);
void init_runtime(nb::module_& m);
void init_ops(nb::module_& m);
void init_reduce_ops(nb::module_& m);
void init_nn_ops(nb::module_& m);
void init_random_ops(nb::module_& m);
void init_norm_ops(nb::module_& m);
void init_index_ops(nb::module_& m);
void init_optim_ops(nb::module_& m);

NB_MODULE(_C, m) {
  m.doc() = "mytensor's native core: tensors, the CPU and CUDA backends, and their ops";
  // Python-side tables (dtype and device objects, bound functions kept in closures) still hold
  // references when the interpreter tears the module down; nanobind would list them as leaks.
  // Tensor memory is tracked by the allocators' statistics instead (see tests of memory).
  nb::set_leak_warnings(false);
  init_errors(m);
  init_tensor(m);
  init_runtime(m);
  init_ops(m);
  init_reduce_ops(m);
  init_nn_ops(m);
  init_random_ops(m);
  init_norm_ops(m);
  init_index_ops(m);
  init_optim_ops(m);
}
