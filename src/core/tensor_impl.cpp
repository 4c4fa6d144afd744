// Storage lifetime and tensor geometry.
#include "core/tensor_impl.h"

#include "core/allocator.h"
#include "core/check.h"
#include "cuda/runtime.h"

namespace mytensor {

Storage::~Storage() {
  if (release) {
    release();
  } else if (data != nullptr) {
    if (device.is_cuda()) {
      cuda::deallocate(data, nbytes, device.index);
    } else {
      cpu::deallocate(data, nbytes);
    }
  }
}

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device) {
  void* data = device.is_cuda() ? cuda::allocate(nbytes, device.index) : cpu::allocate(nbytes);
  return std::make_shared<Storage>(data, nbytes, device);
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    // The outermost product is not a stride and may not fit: checked_numel rules on it.
    if (i > 0 && __builtin_mul_overflow(s, std::max<int64_t>(shape[i], 1), &s))
      detail::throw_error<ShapeError>("[view] shape ", shape_str(shape),
                                      " is too large: its strides overflow int64");
  }
  return strides;
}

int64_t checked_numel(const Shape& shape, const char* op) {
  int64_t nonzero = 1;
  bool has_zero = false;
  for (int64_t s : shape) {
    if (s == 0) has_zero = true;
    if (__builtin_mul_overflow(nonzero, std::max<int64_t>(s, 1), &nonzero))
      detail::throw_error<ShapeError>("[", op, "] shape ", shape_str(shape),
                                      " has too many elements: ",
                                      has_zero ? "the product of its non-zero dims"
                                               : "its element count",
                                      " overflows int64");
  }
  return has_zero ? 0 : nonzero;
}

size_t checked_nbytes(const Shape& shape, size_t itemsize, const char* op) {
  for (int64_t s : shape) {
    MT_CHECK(s >= 0, ShapeError, "[", op, "] negative dimension in shape ", shape_str(shape));
  }
  const int64_t n = checked_numel(shape, op);
  int64_t nbytes;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(itemsize), &nbytes))
    detail::throw_error<ShapeError>("[", op, "] shape ", shape_str(shape),
                                    " has too many elements: ", n, " x ", itemsize,
                                    " bytes overflows int64");
  return static_cast<size_t>(nbytes);
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset,
               DType dtype, const char* op)
    : storage_(std::move(storage)),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset),
      dtype_(dtype) {
  if (storage_) check_geometry(op);
}

void Tensor::check_geometry(const char* op) const {
  MT_CHECK(shape_.size() == strides_.size(), ShapeError, "[", op, "] shape ", shape_str(shape_),
           " and strides ", shape_str(strides_), " differ in length");
  for (int64_t s : shape_) {
    MT_CHECK(s >= 0, ShapeError, "[", op, "] negative dimension in shape ", shape_str(shape_));
  }
  const int64_t item = static_cast<int64_t>(itemsize());
  int64_t byte_offset;
  if (checked_numel(shape_, op) == 0) {
    MT_CHECK(offset_ >= 0 && !__builtin_mul_overflow(offset_, item, &byte_offset), ShapeError,
             "[", op, "] invalid storage offset ", offset_, " for an empty tensor of shape ",
             shape_str(shape_));
    return;
  }
  // The lowest and highest element addressed; any overflow lands outside the storage.
  int64_t lo = offset_, hi = offset_;
  bool overflow = false;
  for (size_t i = 0; i < shape_.size(); ++i) {
    int64_t extent;
    overflow |= __builtin_mul_overflow(shape_[i] - 1, strides_[i], &extent);
    overflow |= __builtin_add_overflow(extent < 0 ? lo : hi, extent, extent < 0 ? &lo : &hi);
  }
  const int64_t elements = static_cast<int64_t>(storage_->nbytes) / item;
  MT_CHECK(!overflow && lo >= 0 && hi < elements, ShapeError, "[", op, "] a view of shape ",
           shape_str(shape_), " with strides ", shape_str(strides_), " and offset ", offset_,
           " would reach outside its storage of ", elements, " elements");
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, const char* op) {
  size_t nbytes = checked_nbytes(shape, mytensor::itemsize(dtype), op);
  return Tensor(allocate_storage(nbytes, device), shape, contiguous_strides(shape), 0, dtype, op);
}

int64_t Tensor::size(int64_t dim) const {
  int64_t n = ndim();
  MT_CHECK(dim >= -n && dim < n, std::out_of_range, "[size] dim ", dim, " is out of range for a ",
           n, "-d tensor");
  return shape_[dim < 0 ? dim + n : dim];
}

bool Tensor::is_contiguous() const {
  // An empty tensor is contiguous whatever its strides, as in PyTorch (no element is addressed).
  if (numel() == 0) return true;
  int64_t expected = 1;
  for (int64_t i = ndim() - 1; i >= 0; --i) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

Tensor Tensor::view_as_strided(Shape shape, Shape strides, int64_t offset, const char* op) const {
  return Tensor(storage_, std::move(shape), std::move(strides), offset, dtype_, op);
}

// ---- dtypes ---------------------------------------------------------------------------------

size_t itemsize(DType d) {
  switch (d) {
    case DType::Bool:
    case DType::UInt8: return 1;
    case DType::Float16:
    case DType::BFloat16: return 2;
    case DType::Int32:
    case DType::Float32: return 4;
    case DType::Int64:
    case DType::Float64: return 8;
  }
  return 0;
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  auto category = [](DType d) { return d == DType::Bool ? 0 : is_floating(d) ? 2 : 1; };
  int ca = category(a), cb = category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == 2) {
    // float16 with bfloat16 promotes to float32, as in PyTorch.
    if ((a == DType::Float16 && b == DType::BFloat16) || (a == DType::BFloat16 && b == DType::Float16))
      return DType::Float32;
    return itemsize(a) >= itemsize(b) ? a : b;
  }
  return itemsize(a) >= itemsize(b) ? a : b;
}

}  // namespace mytensor
