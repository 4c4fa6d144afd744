// The native tensor handle (TensorImpl), dtypes, devices, and NumPy/DLPack exchange.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "core/check.h"
#include "core/ops.h"
#include "core/tensor_impl.h"
#include "cuda/runtime.h"

namespace nb = nanobind;
using namespace nb::literals;
using namespace mytensor;

namespace {

nb::dlpack::dtype to_dlpack_dtype(DType d) {
  switch (d) {
    case DType::Bool: return nb::dtype<bool>();
    case DType::UInt8: return nb::dtype<uint8_t>();
    case DType::Int32: return nb::dtype<int32_t>();
    case DType::Int64: return nb::dtype<int64_t>();
    case DType::Float32: return nb::dtype<float>();
    case DType::Float64: return nb::dtype<double>();
    case DType::Float16: return {static_cast<uint8_t>(nb::dlpack::dtype_code::Float), 16, 1};
    case DType::BFloat16: return {static_cast<uint8_t>(nb::dlpack::dtype_code::Bfloat), 16, 1};
  }
  return nb::dtype<float>();
}

DType from_dlpack_dtype(nb::dlpack::dtype d) {
  using Code = nb::dlpack::dtype_code;
  auto code = static_cast<Code>(d.code);
  MT_CHECK(d.lanes == 1, DTypeError, "[from_dlpack] vector dtypes are not supported");
  if (code == Code::Bool) return DType::Bool;
  if (code == Code::Float && d.bits == 32) return DType::Float32;
  if (code == Code::Float && d.bits == 64) return DType::Float64;
  if (code == Code::Float && d.bits == 16) return DType::Float16;
  if (code == Code::Bfloat && d.bits == 16) return DType::BFloat16;
  if (code == Code::Int && d.bits == 64) return DType::Int64;
  if (code == Code::Int && d.bits == 32) return DType::Int32;
  if (code == Code::UInt && d.bits == 8) return DType::UInt8;
  detail::throw_error<DTypeError>("[from_dlpack] unsupported dtype (code ", int(d.code), ", ",
                                  int(d.bits), " bits); supported: bool, uint8, int32, int64, "
                                  "float32, float64");
}

// A zero-copy ndarray over the tensor; the capsule keeps the storage alive.
template <class... Framework>
nb::ndarray<Framework...> as_ndarray(const Tensor& t) {
  auto* keep = new std::shared_ptr<Storage>(t.storage());
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<std::shared_ptr<Storage>*>(p); });
  std::vector<size_t> shape(t.shape().begin(), t.shape().end());
  std::vector<int64_t> strides(t.strides().begin(), t.strides().end());
  int device_type = t.device().is_cuda() ? nb::device::cuda::value : nb::device::cpu::value;
  return nb::ndarray<Framework...>(t.data_ptr(), t.ndim(), shape.data(), owner, strides.data(),
                                   to_dlpack_dtype(t.dtype()), device_type, t.device().index);
}

// Wraps memory owned by another framework; `array` stays alive as long as the storage.
Tensor from_ndarray(nb::ndarray<> array) {
  DType dtype = from_dlpack_dtype(array.dtype());
  Device device;
  if (array.device_type() == nb::device::cuda::value) {
    device = Device{DeviceType::CUDA, array.device_id()};
    cuda::check_device(device.index, "from_dlpack");
  } else {
    MT_CHECK(array.device_type() == nb::device::cpu::value, DeviceError,
             "[from_dlpack] only CPU and CUDA memory can be imported");
  }
  Shape shape(array.ndim()), strides(array.ndim());
  for (size_t i = 0; i < array.ndim(); ++i) {
    shape[i] = static_cast<int64_t>(array.shape(i));
    strides[i] = array.stride(i);
  }
  // The storage spans the elements the strides reach (a sliced or negatively strided array is
  // not numel x itemsize from its data pointer), so that the Tensor's bounds check holds.
  int64_t lo = 0, hi = -1;
  if (checked_numel(shape, "from_dlpack") > 0) {
    hi = 0;
    for (size_t i = 0; i < shape.size(); ++i) {
      const int64_t extent = checked_mul(shape[i] - 1, strides[i], "from_dlpack", "the extent");
      if (extent < 0) {
        lo = checked_add(lo, extent, "from_dlpack", "the extent");
      } else {
        hi = checked_add(hi, extent, "from_dlpack", "the extent");
      }
    }
  }
  const int64_t item = static_cast<int64_t>(itemsize(dtype));
  const int64_t span = checked_add(checked_sub(hi, lo, "from_dlpack", "the extent"), 1,
                                   "from_dlpack", "the extent");
  const size_t nbytes = static_cast<size_t>(checked_mul(span, item, "from_dlpack", "the size"));
  void* base = static_cast<char*>(array.data()) + lo * item;
  auto* holder = new nb::ndarray<>(array);
  auto release = [holder]() {
    nb::gil_scoped_acquire gil;
    delete holder;
  };
  auto storage = std::make_shared<Storage>(base, nbytes, device, release);
  return Tensor(storage, shape, strides, -lo, dtype, "from_dlpack");
}

nb::object item(const Tensor& t) {
  MT_CHECK(t.numel() == 1, std::invalid_argument, "[item] a tensor with ", t.numel(),
           " elements cannot be converted to a Python scalar (shape ", shape_str(t.shape()), ")");
  Tensor host = contiguous(to_device(t, Device{}));
  switch (host.dtype()) {
    case DType::Bool: return nb::bool_(*host.data<bool>());
    case DType::UInt8: return nb::int_(*host.data<uint8_t>());
    case DType::Int32: return nb::int_(*host.data<int32_t>());
    case DType::Int64: return nb::int_(*host.data<int64_t>());
    case DType::Float32: return nb::float_(*host.data<float>());
    case DType::Float64: return nb::float_(*host.data<double>());
    default: break;
  }
  detail::throw_error<DTypeError>("[item] dtype ", dtype_name(host.dtype()), " is not supported");
}

}  // namespace

void init_tensor(nb::module_& m) {
  nb::enum_<DType>(m, "DType")
      .value("bool", DType::Bool)
      .value("uint8", DType::UInt8)
      .value("int32", DType::Int32)
      .value("int64", DType::Int64)
      .value("float16", DType::Float16)
      .value("bfloat16", DType::BFloat16)
      .value("float32", DType::Float32)
      .value("float64", DType::Float64);
  m.def("promote_types", &promote_types, "a"_a, "b"_a);
  m.def("itemsize", [](DType d) { return itemsize(d); });

  nb::enum_<DeviceType>(m, "DeviceType").value("cpu", DeviceType::CPU).value("cuda", DeviceType::CUDA);
  nb::class_<Device>(m, "Device")
      .def(nb::init<DeviceType, int>(), "type"_a, "index"_a = 0)
      .def_ro("type", &Device::type)
      .def_ro("index", &Device::index)
      .def("__eq__", &Device::operator==)
      .def("__str__", &Device::str);

  nb::class_<Tensor>(m, "TensorImpl", "A strided view of device memory; mytensor.Tensor wraps it.")
      .def_prop_ro("shape", [](const Tensor& t) { return t.shape(); })
      .def_prop_ro("strides", [](const Tensor& t) { return t.strides(); })
      .def_prop_ro("offset", &Tensor::offset)
      .def_prop_ro("dtype", &Tensor::dtype)
      .def_prop_ro("device", &Tensor::device)
      .def_prop_ro("ndim", &Tensor::ndim)
      .def("numel", &Tensor::numel)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def_prop_ro("version", [](const Tensor& t) { return t.storage()->version; })
      .def("bump_version", &Tensor::bump_version)
      .def_prop_ro("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); })
      .def("shares_storage", [](const Tensor& a, const Tensor& b) { return a.storage() == b.storage(); })
      .def("item", &item)
      .def("numpy", &as_ndarray<nb::numpy>,
           "A zero-copy NumPy array over this (CPU) tensor's memory.")
      .def("dlpack", &as_ndarray<>, "A DLPack capsule over this tensor's memory.");

  m.def("from_dlpack", &from_ndarray, "array"_a,
        "Wraps an object exporting DLPack or the buffer protocol without copying.");
}
