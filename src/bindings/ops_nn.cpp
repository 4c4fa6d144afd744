// Bindings of matmul, linear, convolution and pooling.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "core/ops.h"

namespace nb = nanobind;
using namespace nb::literals;
using mytensor::Tensor;

void init_nn_ops(nb::module_& m) {
  // matmul
  m.def("matmul", &mytensor::matmul, "a"_a, "b"_a,
        "Matrix product with NumPy rules: 1-D operands, batch dims broadcast.");
  m.def("linear", &mytensor::linear, "x"_a, "weight"_a, "bias"_a.none(),
        "x @ weight.T + bias over any leading dims of x.");

  // convolution: stride, padding and dilation are (h, w) or one value for both
  m.def("conv2d", &mytensor::conv2d, "x"_a, "weight"_a, "bias"_a.none(), "stride"_a,
        "padding"_a, "dilation"_a, "groups"_a);
  m.def("conv2d_backward_input", &mytensor::conv2d_backward_input, "grad_out"_a, "weight"_a,
        "input_shape"_a, "stride"_a, "padding"_a, "dilation"_a, "groups"_a);
  m.def("conv2d_backward_weight", &mytensor::conv2d_backward_weight, "grad_out"_a, "x"_a,
        "weight_shape"_a, "stride"_a, "padding"_a, "dilation"_a, "groups"_a);

  // pooling: an empty stride means stride = kernel_size
  m.def("max_pool2d", &mytensor::max_pool2d, "x"_a, "kernel_size"_a, "stride"_a, "padding"_a,
        "Returns (out, indices); indices are flat h * W + w positions within each input plane.");
  m.def("max_pool2d_backward", &mytensor::max_pool2d_backward, "grad_out"_a, "indices"_a,
        "input_shape"_a);
  m.def("avg_pool2d", &mytensor::avg_pool2d, "x"_a, "kernel_size"_a, "stride"_a, "padding"_a,
        "count_include_pad"_a);
  m.def("avg_pool2d_backward", &mytensor::avg_pool2d_backward, "grad_out"_a, "input_shape"_a,
        "kernel_size"_a, "stride"_a, "padding"_a, "count_include_pad"_a);
  m.def("adaptive_avg_pool2d", &mytensor::adaptive_avg_pool2d, "x"_a, "output_size"_a);
  m.def("adaptive_avg_pool2d_backward", &mytensor::adaptive_avg_pool2d_backward, "grad_out"_a,
        "input_shape"_a);
}
