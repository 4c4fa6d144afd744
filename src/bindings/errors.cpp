// Registers the C++ error types as Python exceptions (subclasses of the built-in ones).
#include <nanobind/nanobind.h>

#include "core/check.h"

namespace nb = nanobind;

namespace {

// A Python exception class `mytensor._C.<name>` deriving from every type in `bases`, raised for
// the C++ type E (nb::exception allows only one base).
template <class E>
void register_error(nb::module_& m, const char* name, std::initializer_list<PyObject*> bases) {
  nb::object base_tuple = nb::steal(PyTuple_New(static_cast<Py_ssize_t>(bases.size())));
  Py_ssize_t i = 0;
  for (PyObject* b : bases) {
    Py_INCREF(b);
    PyTuple_SET_ITEM(base_tuple.ptr(), i++, b);
  }
  std::string qualified = std::string("mytensor._C.") + name;
  PyObject* type = PyErr_NewException(qualified.c_str(), base_tuple.ptr(), nullptr);
  if (type == nullptr) throw nb::python_error();
  m.attr(name) = nb::steal(type);
  nb::register_exception_translator(
      [](const std::exception_ptr& p, void* payload) {
        try {
          std::rethrow_exception(p);
        } catch (const E& e) {
          PyErr_SetString(static_cast<PyObject*>(payload), e.what());
        }
      },
      type);
}

}  // namespace

void init_errors(nb::module_& m) {
  // Shape mismatches are ValueErrors here and RuntimeErrors in PyTorch: code written for either
  // catches them.
  register_error<mytensor::ShapeError>(m, "ShapeError", {PyExc_ValueError, PyExc_RuntimeError});
  // PyTorch raises RuntimeError for unsupported dtypes and refused casts.
  register_error<mytensor::DTypeError>(m, "DTypeError", {PyExc_TypeError, PyExc_RuntimeError});
  register_error<mytensor::DeviceError>(m, "DeviceError", {PyExc_RuntimeError});
  register_error<mytensor::CudaError>(m, "CudaError", {PyExc_RuntimeError});
  // torch.OutOfMemoryError is a RuntimeError; MemoryError lets `except MemoryError` work too.
  register_error<mytensor::OutOfMemoryError>(m, "OutOfMemoryError",
                                             {PyExc_RuntimeError, PyExc_MemoryError});
  register_error<mytensor::GraphCaptureError>(m, "GraphCaptureError", {PyExc_RuntimeError});
}
