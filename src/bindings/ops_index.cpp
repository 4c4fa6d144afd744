// Bindings of index_select and gather.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "core/ops.h"

namespace nb = nanobind;
using namespace nb::literals;
using mytensor::Tensor;

void init_index_ops(nb::module_& m) {
  m.def("index_select", &mytensor::index_select, "x"_a, "dim"_a, "index"_a);
  m.def("index_select_backward", &mytensor::index_select_backward, "grad"_a, "input_shape"_a,
        "dim"_a, "index"_a);
  m.def("gather", &mytensor::gather, "x"_a, "dim"_a, "index"_a);
  m.def("gather_backward", &mytensor::gather_backward, "grad"_a, "input_shape"_a, "dim"_a,
        "index"_a);
}
