// nanobind conversion of mytensor::Scalar: a Python bool arrives as Bool, an int as Int (int64;
// a larger int is rejected, so mytensor's Python layer raises OverflowError first), a float as
// Double. Include it in every binding file that takes or returns a Scalar.
#pragma once
#include <nanobind/nanobind.h>

#include "core/scalar.h"

namespace nanobind::detail {

template <>
struct type_caster<mytensor::Scalar> {
  NB_TYPE_CASTER(mytensor::Scalar, const_name("bool | int | float"))

  bool from_python(handle src, uint8_t, cleanup_list*) noexcept {
    PyObject* o = src.ptr();
    if (PyBool_Check(o)) {
      value = mytensor::Scalar(o == Py_True);
      return true;
    }
    if (PyLong_Check(o)) {
      int overflow = 0;
      long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
      if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return false;
      }
      value = mytensor::Scalar(static_cast<int64_t>(v));
      return true;
    }
    if (PyFloat_Check(o)) {
      value = mytensor::Scalar(PyFloat_AS_DOUBLE(o));
      return true;
    }
    return false;
  }

  static handle from_cpp(const mytensor::Scalar& s, rv_policy, cleanup_list*) noexcept {
    if (s.is_bool()) return handle(s.to<bool>() ? Py_True : Py_False).inc_ref();
    if (s.is_int()) return PyLong_FromLongLong(s.to<int64_t>());
    return PyFloat_FromDouble(s.to<double>());
  }
};

}  // namespace nanobind::detail
