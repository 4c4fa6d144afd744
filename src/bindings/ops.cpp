// Bindings of creation, conversion, shape and elementwise ops (one _C function per core op).
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings/scalar.h"
#include "core/ops.h"
#include "core/overlap.h"

namespace nb = nanobind;
using namespace nb::literals;
using namespace mytensor;

void init_ops(nb::module_& m) {
  // creation and conversion
  m.def("empty", &mytensor::empty, "shape"_a, "dtype"_a, "device"_a);
  m.def("full", &mytensor::full, "shape"_a, "value"_a, "dtype"_a, "device"_a);
  m.def("arange", &mytensor::arange, "start"_a, "end"_a, "step"_a, "dtype"_a, "device"_a);
  m.def("eye", &mytensor::eye, "n"_a, "m"_a, "dtype"_a, "device"_a);
  m.def("to_dtype", &mytensor::to_dtype, "x"_a, "dtype"_a);
  m.def("to_device", &mytensor::to_device, "x"_a, "device"_a);
  m.def("contiguous", &mytensor::contiguous, "x"_a);
  m.def("clone", &mytensor::clone, "x"_a);
  m.def("copy_", &mytensor::copy_, "dst"_a, "src"_a, "Copies src (broadcast, converted) into dst in place.");
  m.def("fill_", &mytensor::fill_, "dst"_a, "value"_a);
  m.def("check_convertible", &mytensor::check_convertible, "value"_a, "dtype"_a, "op"_a,
        "Raises RuntimeError naming op when value does not fit dtype (NaN into int64, 256 into "
        "uint8).");

  // views and shape
  m.def("reshape", &mytensor::reshape, "x"_a, "shape"_a);
  m.def("view", &mytensor::view, "x"_a, "shape"_a);
  m.def("permute", &mytensor::permute, "x"_a, "dims"_a);
  m.def("transpose", &mytensor::transpose, "x"_a, "dim0"_a, "dim1"_a);
  m.def("slice", &mytensor::slice, "x"_a, "dim"_a, "start"_a.none(), "stop"_a.none(), "step"_a);
  m.def("select", &mytensor::select, "x"_a, "dim"_a, "index"_a);
  m.def("expand", &mytensor::expand, "x"_a, "shape"_a);
  m.def("squeeze", &mytensor::squeeze, "x"_a, "dims"_a.none());
  m.def("unsqueeze", &mytensor::unsqueeze, "x"_a, "dim"_a);
  m.def("flatten", &mytensor::flatten, "x"_a, "start_dim"_a, "end_dim"_a);
  m.def("cat", &mytensor::cat, "tensors"_a, "dim"_a);
  m.def("stack", &mytensor::stack, "tensors"_a, "dim"_a);
  m.def("pad", &mytensor::pad, "x"_a, "pads"_a, "value"_a);
  m.def("flip", &mytensor::flip, "x"_a, "dims"_a);
  m.def("broadcast_shapes", [](const Shape& a, const Shape& b) {
    return broadcast_shapes(a, b, "broadcast_shapes");
  });

  // elementwise
  m.def("neg", &mytensor::neg, "x"_a);
  m.def("exp", &mytensor::exp, "x"_a);
  m.def("log", &mytensor::log, "x"_a);
  m.def("sqrt", &mytensor::sqrt, "x"_a);
  m.def("rsqrt", &mytensor::rsqrt, "x"_a);
  m.def("abs", &mytensor::abs, "x"_a);
  m.def("relu", &mytensor::relu, "x"_a);
  m.def("sigmoid", &mytensor::sigmoid, "x"_a);
  m.def("tanh", &mytensor::tanh, "x"_a);
  m.def("gelu", &mytensor::gelu, "x"_a);
  m.def("pow_scalar", &mytensor::pow_scalar, "x"_a, "exponent"_a);
  m.def("clamp", &mytensor::clamp, "x"_a, "min"_a.none(), "max"_a.none());
  m.def("relu_backward", &mytensor::relu_backward, "grad"_a, "out"_a);
  m.def("sigmoid_backward", &mytensor::sigmoid_backward, "grad"_a, "out"_a);
  m.def("tanh_backward", &mytensor::tanh_backward, "grad"_a, "out"_a);
  m.def("gelu_backward", &mytensor::gelu_backward, "grad"_a, "x"_a);
  m.def("add", &mytensor::add, "a"_a, "b"_a);
  m.def("sub", &mytensor::sub, "a"_a, "b"_a);
  m.def("mul", &mytensor::mul, "a"_a, "b"_a);
  m.def("div", &mytensor::div, "a"_a, "b"_a);
  m.def("pow", &mytensor::pow, "a"_a, "b"_a);
  m.def("maximum", &mytensor::maximum, "a"_a, "b"_a);
  m.def("minimum", &mytensor::minimum, "a"_a, "b"_a);
  m.def("eq", &mytensor::eq, "a"_a, "b"_a);
  m.def("ne", &mytensor::ne, "a"_a, "b"_a);
  m.def("lt", &mytensor::lt, "a"_a, "b"_a);
  m.def("le", &mytensor::le, "a"_a, "b"_a);
  m.def("gt", &mytensor::gt, "a"_a, "b"_a);
  m.def("ge", &mytensor::ge, "a"_a, "b"_a);
  m.def("where", &mytensor::where, "cond"_a, "a"_a, "b"_a);
  m.def("add_", &mytensor::add_, "a"_a, "b"_a);
  m.def("sub_", &mytensor::sub_, "a"_a, "b"_a);
  m.def("mul_", &mytensor::mul_, "a"_a, "b"_a);
  m.def("div_", &mytensor::div_, "a"_a, "b"_a);
  m.def("result_type", nb::overload_cast<const Tensor&, const Tensor&>(&mytensor::result_type),
        "a"_a, "b"_a);
  m.def("check_inplace_cast", &mytensor::check_inplace_cast, "result"_a, "dst"_a, "op"_a,
        "Raises RuntimeError unless a result of dtype `result` may be written into dst.");
  // For in-place ops composed in Python (div_, clamp_, relu_, ...): the overlap checks of add_.
  m.def(
      "_check_inplace_overlap",
      [](const Tensor& out, const std::vector<Tensor>& inputs, const std::string& op) {
        check_inplace_overlap(out, inputs, op.c_str());
      },
      "out"_a, "inputs"_a, "op"_a);
}
