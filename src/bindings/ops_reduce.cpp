// Bindings of reductions, softmax and losses.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "core/ops.h"

namespace nb = nanobind;
using namespace nb::literals;
using mytensor::Tensor;

void init_reduce_ops(nb::module_& m) {
  m.def("sum", &mytensor::sum, "x"_a, "dims"_a, "keepdim"_a);
  m.def("mean", &mytensor::mean, "x"_a, "dims"_a, "keepdim"_a);
  m.def("sum_to_shape", &mytensor::sum_to_shape, "grad"_a, "shape"_a);
}
