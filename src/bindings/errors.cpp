// Registers the C++ error types as Python exceptions (subclasses of the built-in ones).
#include <nanobind/nanobind.h>

#include "core/check.h"

namespace nb = nanobind;

void init_errors(nb::module_& m) {
  nb::exception<mytensor::ShapeError>(m, "ShapeError", PyExc_ValueError);
  nb::exception<mytensor::DTypeError>(m, "DTypeError", PyExc_TypeError);
  nb::exception<mytensor::DeviceError>(m, "DeviceError", PyExc_RuntimeError);
  nb::exception<mytensor::CudaError>(m, "CudaError", PyExc_RuntimeError);
}
