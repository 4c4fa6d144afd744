// Elementwise ops: dtype promotion, broadcasting, then one backend call.
#include <cmath>
#include <limits>
#include <utility>

#include "core/check.h"
#include "core/ops.h"
#include "core/overlap.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

namespace {

using UnaryKernel = void (*)(const Tensor&, const Tensor&);
using BinaryKernel = void (*)(const Tensor&, const Tensor&, const Tensor&);

int category(DType d) { return d == DType::Bool ? 0 : is_floating(d) ? 2 : 1; }

void check_supported(DType d, const char* op) {
  MT_CHECK(d != DType::Float16 && d != DType::BFloat16, DTypeError, "[", op, "] dtype ",
           dtype_name(d), " is reserved and not supported yet");
}

// exp, log, ... of an integer tensor compute in float32, as in PyTorch.
Tensor as_floating(const Tensor& x) {
  return is_floating(x.dtype()) ? x : to_dtype(x, DType::Float32);
}

Tensor unary_op(const char* op, const Tensor& x, bool floating, UnaryKernel cpu_fn,
                UnaryKernel cuda_fn) {
  check_supported(x.dtype(), op);
  MT_CHECK(floating || x.dtype() != DType::Bool, DTypeError, "[", op,
           "] is not supported for bool tensors");
  Tensor in = floating ? as_floating(x) : x;
  Tensor out = Tensor::empty(in.shape(), in.dtype(), in.device());
  if (out.numel() == 0) return out;
  (in.device().is_cuda() ? cuda_fn : cpu_fn)(in, out);
  return out;
}

// Brings a CPU 0-d operand to the other operand's device, as PyTorch accepts CPU scalars.
void align_devices(Tensor& a, Tensor& b, const char* op) {
  if (a.device() == b.device()) return;
  if (a.ndim() == 0 && !a.device().is_cuda()) {
    a = to_device(a, b.device());
  } else if (b.ndim() == 0 && !b.device().is_cuda()) {
    b = to_device(b, a.device());
  } else {
    check_same_device(a, b, op);
  }
}

enum class Kind { Arithmetic, TrueDivide, Compare };

// [lowest, highest] of an integer dtype, as int64.
std::pair<int64_t, int64_t> integer_range(DType d) {
  switch (d) {
    case DType::UInt8: return {0, 255};
    case DType::Int32:
      return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    default:
      return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  }
}

Tensor binary_op(const char* op, const Tensor& a_in, const Tensor& b_in, Kind kind,
                 BinaryKernel cpu_fn, BinaryKernel cuda_fn) {
  Tensor a = a_in, b = b_in;
  align_devices(a, b, op);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  DType compute = result_type(a, b);
  check_supported(compute, op);
  if (kind == Kind::TrueDivide && !is_floating(compute)) compute = DType::Float32;
  MT_CHECK(!(compute == DType::Bool && (std::string(op) == "sub" || std::string(op) == "pow")),
           DTypeError, "[", op, "] is not supported for bool tensors (got ",
           dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), ")");
  // bool add/mul/maximum/minimum compute in uint8 and convert back (logical or/and).
  bool bool_arithmetic = kind != Kind::Compare && compute == DType::Bool;
  if (bool_arithmetic) compute = DType::UInt8;
  DType out_dtype = kind == Kind::Compare ? DType::Bool : compute;
  Tensor out = Tensor::empty(shape, out_dtype, a.device());
  if (out.numel() == 0) return bool_arithmetic ? to_dtype(out, DType::Bool) : out;
  Tensor ea = expand(to_dtype(a, compute), shape);
  Tensor eb = expand(to_dtype(b, compute), shape);
  (a.device().is_cuda() ? cuda_fn : cpu_fn)(ea, eb, out);
  return bool_arithmetic ? to_dtype(out, DType::Bool) : out;
}

Tensor backward_op(const char* op, const Tensor& grad, const Tensor& saved, BinaryKernel cpu_fn,
                   BinaryKernel cuda_fn) {
  check_same_device(grad, saved, op);
  MT_CHECK(grad.shape() == saved.shape(), ShapeError, "[", op, "] grad of shape ",
           shape_str(grad.shape()), " does not match the saved tensor of shape ",
           shape_str(saved.shape()));
  Tensor s = as_floating(saved);
  Tensor g = to_dtype(grad, s.dtype());
  Tensor out = Tensor::empty(s.shape(), s.dtype(), s.device());
  if (out.numel() == 0) return out;
  (s.device().is_cuda() ? cuda_fn : cpu_fn)(g, s, out);
  return out;
}

}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  bool a_dim = a.ndim() > 0, b_dim = b.ndim() > 0;
  if (a_dim == b_dim) return promote_types(a.dtype(), b.dtype());
  // A 0-d tensor only decides the result when it is of a higher category (PyTorch's rule).
  const Tensor& dimensioned = a_dim ? a : b;
  const Tensor& scalar = a_dim ? b : a;
  if (category(scalar.dtype()) > category(dimensioned.dtype())) return scalar.dtype();
  return dimensioned.dtype();
}

Tensor neg(const Tensor& x) { return unary_op("neg", x, false, cpu::neg, cuda::neg); }
Tensor exp(const Tensor& x) { return unary_op("exp", x, true, cpu::exp, cuda::exp); }
Tensor log(const Tensor& x) { return unary_op("log", x, true, cpu::log, cuda::log); }
Tensor sqrt(const Tensor& x) { return unary_op("sqrt", x, true, cpu::sqrt, cuda::sqrt); }
Tensor rsqrt(const Tensor& x) { return unary_op("rsqrt", x, true, cpu::rsqrt, cuda::rsqrt); }
Tensor abs(const Tensor& x) { return unary_op("abs", x, false, cpu::abs, cuda::abs); }
Tensor relu(const Tensor& x) { return unary_op("relu", x, false, cpu::relu, cuda::relu); }
Tensor sigmoid(const Tensor& x) { return unary_op("sigmoid", x, true, cpu::sigmoid, cuda::sigmoid); }
Tensor tanh(const Tensor& x) { return unary_op("tanh", x, true, cpu::tanh, cuda::tanh); }
Tensor gelu(const Tensor& x) { return unary_op("gelu", x, true, cpu::gelu, cuda::gelu); }

Tensor pow_scalar(const Tensor& x, const Scalar& exponent) {
  check_supported(x.dtype(), "pow");
  DType dtype = result_type(x.dtype(), exponent);
  MT_CHECK(is_floating(dtype) || exponent.to<int64_t>() >= 0, std::invalid_argument,
           "[pow] integers to negative integer powers are not allowed (", dtype_name(x.dtype()),
           " tensor to the power ", exponent.str(), ")");
  Tensor in = to_dtype(x, dtype);
  Tensor out = Tensor::empty(in.shape(), in.dtype(), in.device());
  if (out.numel() == 0) return out;
  if (in.device().is_cuda()) {
    cuda::pow_scalar(in, exponent, out);
  } else {
    cpu::pow_scalar(in, exponent, out);
  }
  return out;
}

Tensor clamp(const Tensor& x, const std::optional<Scalar>& min, const std::optional<Scalar>& max) {
  check_supported(x.dtype(), "clamp");
  MT_CHECK(min || max, std::invalid_argument, "[clamp] at least one of min and max must be given");
  MT_CHECK(x.dtype() != DType::Bool, DTypeError, "[clamp] is not supported for bool tensors");
  // A float bound makes an integer tensor float (PyTorch's result type); integer bounds of an
  // integer tensor are compared exactly.
  DType dtype = x.dtype();
  if (min) dtype = result_type(dtype, *min);
  if (max) dtype = result_type(dtype, *max);
  if (!is_floating(dtype)) {
    // Integer bounds are exact; one beyond the dtype's range on the side it would clamp to
    // gives values the dtype cannot hold (PyTorch raises too). Below the range is a no-op.
    auto [lowest, highest] = integer_range(dtype);
    MT_CHECK(!min || min->to<int64_t>() <= highest, std::runtime_error, "[clamp] min ",
             min->str(), " is outside the range of ", dtype_name(dtype));
    MT_CHECK(!max || max->to<int64_t>() >= lowest, std::runtime_error, "[clamp] max ",
             max->str(), " is outside the range of ", dtype_name(dtype));
  }
  Tensor in = to_dtype(x, dtype);
  Tensor out = Tensor::empty(in.shape(), dtype, in.device());
  if (out.numel() == 0) return out;
  if (in.device().is_cuda()) {
    cuda::clamp(in, min, max, out);
  } else {
    cpu::clamp(in, min, max, out);
  }
  return out;
}

Tensor relu_backward(const Tensor& g, const Tensor& y) {
  return backward_op("relu_backward", g, y, cpu::relu_backward, cuda::relu_backward);
}
Tensor sigmoid_backward(const Tensor& g, const Tensor& y) {
  return backward_op("sigmoid_backward", g, y, cpu::sigmoid_backward, cuda::sigmoid_backward);
}
Tensor tanh_backward(const Tensor& g, const Tensor& y) {
  return backward_op("tanh_backward", g, y, cpu::tanh_backward, cuda::tanh_backward);
}
Tensor gelu_backward(const Tensor& g, const Tensor& x) {
  return backward_op("gelu_backward", g, x, cpu::gelu_backward, cuda::gelu_backward);
}

Tensor add(const Tensor& a, const Tensor& b) {
  return binary_op("add", a, b, Kind::Arithmetic, cpu::add, cuda::add);
}
Tensor sub(const Tensor& a, const Tensor& b) {
  return binary_op("sub", a, b, Kind::Arithmetic, cpu::sub, cuda::sub);
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary_op("mul", a, b, Kind::Arithmetic, cpu::mul, cuda::mul);
}
Tensor div(const Tensor& a, const Tensor& b) {
  return binary_op("div", a, b, Kind::TrueDivide, cpu::div, cuda::div);
}
Tensor pow(const Tensor& a, const Tensor& b) {
  return binary_op("pow", a, b, Kind::Arithmetic, cpu::pow, cuda::pow);
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op("maximum", a, b, Kind::Arithmetic, cpu::maximum, cuda::maximum);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op("minimum", a, b, Kind::Arithmetic, cpu::minimum, cuda::minimum);
}
Tensor eq(const Tensor& a, const Tensor& b) { return binary_op("eq", a, b, Kind::Compare, cpu::eq, cuda::eq); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_op("ne", a, b, Kind::Compare, cpu::ne, cuda::ne); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_op("lt", a, b, Kind::Compare, cpu::lt, cuda::lt); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_op("le", a, b, Kind::Compare, cpu::le, cuda::le); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_op("gt", a, b, Kind::Compare, cpu::gt, cuda::gt); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_op("ge", a, b, Kind::Compare, cpu::ge, cuda::ge); }

Tensor where(const Tensor& cond, const Tensor& a_in, const Tensor& b_in) {
  MT_CHECK(cond.dtype() == DType::Bool, DTypeError, "[where] condition must be bool, got ",
           dtype_name(cond.dtype()));
  Tensor a = a_in, b = b_in;
  align_devices(a, b, "where");
  check_same_device(cond, a, "where");
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(),
                                 "where");
  DType dtype = result_type(a, b);
  check_supported(dtype, "where");
  Tensor out = Tensor::empty(shape, dtype, a.device());
  if (out.numel() == 0) return out;
  Tensor ec = expand(cond, shape), ea = expand(to_dtype(a, dtype), shape),
         eb = expand(to_dtype(b, dtype), shape);
  if (out.device().is_cuda()) {
    cuda::where(ec, ea, eb, out);
  } else {
    cpu::where(ec, ea, eb, out);
  }
  return out;
}

void check_inplace_cast(DType result, const Tensor& dst, const char* op) {
  // RuntimeError, as PyTorch's "result type Float can't be cast to the desired output type Long".
  if (!can_cast(result, dst.dtype())) {
    throw std::runtime_error(std::string("[") + op + "] result type " + dtype_name(result) +
                             " can't be cast to the desired output type " +
                             dtype_name(dst.dtype()));
  }
}

namespace {
// a = a (op) b: the out-of-place op's result type must cast to a's dtype. Same-dtype numeric
// operands run the kernel straight into a; the rest (bool arithmetic, true division, mixed
// dtypes) compute out of place and copy back.
void inplace_op(const char* op, const Tensor& a, const Tensor& b, Kind kind,
                Tensor (*out_of_place)(const Tensor&, const Tensor&), BinaryKernel cpu_fn,
                BinaryKernel cuda_fn) {
  Tensor bb = b;
  if (b.device() != a.device() && b.ndim() == 0) bb = to_device(b, a.device());
  check_same_device(a, bb, op);
  Shape shape = broadcast_shapes(a.shape(), bb.shape(), op);
  MT_CHECK(shape == a.shape(), ShapeError, "[", op, "] the result of shape ", shape_str(shape),
           " does not fit the in-place tensor of shape ", shape_str(a.shape()));
  DType dtype = result_type(a, bb);
  check_supported(dtype, op);
  if (kind == Kind::TrueDivide && !is_floating(dtype)) dtype = DType::Float32;
  check_inplace_cast(dtype, a, op);
  assert_no_internal_overlap(a, op);
  bb = unaliased_input(a, bb, op);
  if (a.numel() > 0) {
    if (dtype != a.dtype() || dtype == DType::Bool) {
      copy_(a, out_of_place(a, bb));
      return;  // copy_ bumped the version
    }
    Tensor eb = expand(to_dtype(bb, a.dtype()), shape);
    if (a.is_contiguous()) {
      (a.device().is_cuda() ? cuda_fn : cpu_fn)(a, eb, a);
    } else {
      Tensor tmp = Tensor::empty(shape, a.dtype(), a.device());
      (a.device().is_cuda() ? cuda_fn : cpu_fn)(a, eb, tmp);
      copy_(a, tmp);
    }
  }
  a.bump_version();
}
}  // namespace

void add_(const Tensor& a, const Tensor& b) {
  inplace_op("add_", a, b, Kind::Arithmetic, add, cpu::add, cuda::add);
}
void sub_(const Tensor& a, const Tensor& b) {
  inplace_op("sub_", a, b, Kind::Arithmetic, sub, cpu::sub, cuda::sub);
}
void mul_(const Tensor& a, const Tensor& b) {
  inplace_op("mul_", a, b, Kind::Arithmetic, mul, cpu::mul, cuda::mul);
}
void div_(const Tensor& a, const Tensor& b) {
  inplace_op("div_", a, b, Kind::TrueDivide, div, cpu::div, cuda::div);
}

}  // namespace mytensor
