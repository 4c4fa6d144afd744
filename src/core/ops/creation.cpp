// Creation, dtype/device conversion and in-place copy/fill.
#include <cmath>
#include <cstring>
#include <limits>

#include "core/check.h"
#include "core/ops.h"
#include "core/overlap.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"
#include "cuda/runtime.h"

namespace mytensor {

namespace {
void check_shape(const Shape& shape, const char* op) {
  for (int64_t s : shape)
    MT_CHECK(s >= 0, ShapeError, "[", op, "] negative dimension in shape ", shape_str(shape));
}
void check_device_exists(Device device, const char* op) {
  if (device.is_cuda()) cuda::check_device(device.index, op);
}
}  // namespace

Tensor empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "empty");
  check_device_exists(device, "empty");
  return Tensor::empty(shape, dtype, device, "empty");
}

void fill_(const Tensor& dst, const Scalar& value) {
  check_convertible(value, dst.dtype(), "fill_");
  if (dst.numel() > 0) {
    if (dst.device().is_cuda()) {
      cuda::fill(dst, value);
    } else {
      cpu::fill(dst, value);
    }
  }
  dst.bump_version();
}

Tensor full(const Shape& shape, const Scalar& value, DType dtype, Device device) {
  check_shape(shape, "full");
  check_device_exists(device, "full");
  check_convertible(value, dtype, "full");
  Tensor out = Tensor::empty(shape, dtype, device, "full");
  fill_(out, value);
  return out;
}

namespace {
// arange's values on the host (a few values, then copied: arange is never on a hot path).
// Integer bounds count in int64 so that values beyond 2^53 stay exact.
// `integral`: the values go to an integer dtype; float bounds then count the length in double
// but the values are trunc(start) + i * trunc(step), as PyTorch computes them.
Tensor arange_host(const Scalar& start, const Scalar& end, const Scalar& step, bool integral) {
  if (!start.is_floating() && !end.is_floating() && !step.is_floating()) {
    int64_t a = start.to<int64_t>(), b = end.to<int64_t>(), s = step.to<int64_t>();
    MT_CHECK(s != 0, std::invalid_argument, "[arange] step must be nonzero");
    MT_CHECK((b >= a && s > 0) || (b <= a && s < 0), std::invalid_argument,
             "[arange] upper bound ", b, " and lower bound ", a,
             " are inconsistent with step sign ", s);
    // |b - a| and the length fit in uint64 even when b - a overflows int64.
    uint64_t span = s > 0 ? static_cast<uint64_t>(b) - static_cast<uint64_t>(a)
                          : static_cast<uint64_t>(a) - static_cast<uint64_t>(b);
    uint64_t mag = s > 0 ? static_cast<uint64_t>(s) : 0 - static_cast<uint64_t>(s);
    uint64_t n = span / mag + (span % mag != 0);
    MT_CHECK(n <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), ShapeError,
             "[arange] the length ", n, " of arange(", a, ", ", b, ", ", s,
             ") is too large for a tensor");
    Tensor host = Tensor::empty({static_cast<int64_t>(n)}, DType::Int64, Device{}, "arange");
    int64_t* p = host.data<int64_t>();
    // Unsigned arithmetic wraps where a signed product would overflow, yet lands on the value.
    for (uint64_t i = 0; i < n; ++i)
      p[i] = static_cast<int64_t>(static_cast<uint64_t>(a) + i * static_cast<uint64_t>(s));
    return host;
  }
  double a = start.to<double>(), b = end.to<double>(), s = step.to<double>();
  MT_CHECK(s != 0, std::invalid_argument, "[arange] step must be nonzero");
  MT_CHECK(std::isfinite(a) && std::isfinite(b), std::invalid_argument,
           "[arange] start and end must be finite, got ", start.str(), " and ", end.str());
  MT_CHECK((b - a) * s >= 0, std::invalid_argument, "[arange] upper bound ", end.str(),
           " and lower bound ", start.str(), " are inconsistent with step sign ", step.str());
  double len = std::ceil((b - a) / s);
  // 2^63 as a double: any length below it converts to int64 exactly.
  MT_CHECK(len < 9223372036854775808.0, ShapeError, "[arange] the length ", len, " of arange(",
           start.str(), ", ", end.str(), ", ", step.str(), ") is too large for a tensor");
  int64_t n = static_cast<int64_t>(len);
  if (integral) {
    MT_CHECK(std::fabs(a) < 9223372036854775808.0 && std::fabs(s) < 9223372036854775808.0,
             std::invalid_argument, "[arange] start ", start.str(), " and step ", step.str(),
             " must fit in int64 for an integer dtype");
    const uint64_t ai = static_cast<uint64_t>(static_cast<int64_t>(a));
    const uint64_t si = static_cast<uint64_t>(static_cast<int64_t>(s));
    Tensor host = Tensor::empty({n}, DType::Int64, Device{}, "arange");
    int64_t* p = host.data<int64_t>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<int64_t>(ai + static_cast<uint64_t>(i) * si);
    return host;
  }
  Tensor host = Tensor::empty({n}, DType::Float64, Device{}, "arange");
  double* p = host.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i] = a + static_cast<double>(i) * s;
  return host;
}
}  // namespace

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, DType dtype,
              Device device) {
  check_device_exists(device, "arange");
  return to_device(to_dtype(arange_host(start, end, step, !is_floating(dtype)), dtype), device);
}

Tensor eye(int64_t n, int64_t m, DType dtype, Device device) {
  MT_CHECK(n >= 0 && m >= 0, ShapeError, "[eye] sizes must be non-negative, got ", n, " and ", m);
  checked_nbytes({n, m}, itemsize(dtype), "eye");
  Tensor out = full({n, m}, 0.0, dtype, device);
  int64_t k = std::min(n, m);
  if (k > 0) fill_(out.view_as_strided({k}, {m + 1}, 0), 1.0);
  return out;
}

void copy_(const Tensor& dst, const Tensor& src) {
  Shape shape = broadcast_shapes(dst.shape(), src.shape(), "copy_");
  MT_CHECK(shape == dst.shape(), ShapeError, "[copy_] source of shape ", shape_str(src.shape()),
           " cannot be broadcast to destination of shape ", shape_str(dst.shape()));
  assert_no_internal_overlap(dst, "copy_");
  Tensor s = unaliased_input(dst, src, "copy_");
  if (src.device() != dst.device()) s = to_device(s, dst.device());
  if (dst.numel() > 0) {
    Tensor expanded = expand(s, dst.shape());
    if (dst.device().is_cuda()) {
      cuda::copy(expanded, dst);
    } else {
      cpu::copy(expanded, dst);
    }
  }
  dst.bump_version();
}

Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  MT_CHECK(dtype != DType::Float16 && dtype != DType::BFloat16, DTypeError, "[to] dtype ",
           dtype_name(dtype), " is reserved and not supported yet");
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  copy_(out, x);
  return out;
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor clone(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  copy_(out, x);
  return out;
}

Tensor to_device(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  check_device_exists(device, "to");
  Tensor src = contiguous(x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
  size_t nbytes = static_cast<size_t>(x.numel()) * x.itemsize();
  if (nbytes == 0) return out;
  if (src.device().is_cuda() && device.is_cuda()) {
    // Peer copies between devices go through the host: simple, and never on a hot path.
    Tensor host = to_device(src, Device{});
    cuda::copy_host_to_device(out.data_ptr(), host.data_ptr(), nbytes, device.index);
  } else if (device.is_cuda()) {
    cuda::copy_host_to_device(out.data_ptr(), src.data_ptr(), nbytes, device.index);
  } else {
    cuda::copy_device_to_host(out.data_ptr(), src.data_ptr(), nbytes, src.device().index);
  }
  return out;
}

}  // namespace mytensor
