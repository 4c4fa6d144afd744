// Validation helpers shared by every op family.
#include "core/check.h"
#include "core/ops.h"

namespace mytensor {

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = std::max<int64_t>(ndim, 1);  // a 0-d tensor accepts dim 0 and -1, as in PyTorch
  MT_CHECK(dim >= -n && dim < n, std::out_of_range, "[", op, "] dim ", dim,
           " is out of range for a tensor with ", ndim, " dimension", ndim == 1 ? "" : "s",
           " (expected a dim in [", -n, ", ", n - 1, "])");
  return dim < 0 ? dim + n : dim;
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  MT_CHECK(a.device() == b.device(), DeviceError, "[", op,
           "] expected all tensors on one device, got ", a.device().str(), " and ",
           b.device().str());
}

void check_floating(const Tensor& x, const char* op, const char* name) {
  MT_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, DTypeError, "[", op, "] ",
           name, " must be float32 or float64, got ", dtype_name(x.dtype()));
}

}  // namespace mytensor
