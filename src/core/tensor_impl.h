// Tensor: a strided view (shape, strides, offset, dtype) of shared, device-resident Storage.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"

namespace mytensor {

using Shape = std::vector<int64_t>;

// One allocation. Views share it; `version` counts in-place writes so that autograd can detect a
// tensor that was modified after being saved for backward (PyTorch's version counter).
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  uint64_t version = 0;
  // Memory owned elsewhere (NumPy, DLPack): released by this instead of the allocator.
  std::function<void()> release;

  Storage(void* data, size_t nbytes, Device device, std::function<void()> release = nullptr)
      : data(data), nbytes(nbytes), device(device), release(std::move(release)) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

// Allocates `nbytes` on `device` through the CPU allocator or the CUDA caching allocator.
std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device);

// Row-major strides (size-0 and size-1 dims count as 1); ShapeError if one overflows int64.
Shape contiguous_strides(const Shape& shape);
// The element count of the shape of an existing tensor (already checked when it was made).
int64_t shape_numel(const Shape& shape);
// The element count of a new shape (dims >= 0). ShapeError naming `op` when the product of its
// non-zero dims overflows int64: every partial product of a valid shape (numel, strides, the
// (outer, r, inner) splits of the kernels) then fits, wherever it is computed.
int64_t checked_numel(const Shape& shape, const char* op);
// The bytes of a new contiguous tensor: ShapeError naming `op` for a negative dim or when the
// element count or count x itemsize overflows int64 (byte offsets are int64 arithmetic).
size_t checked_nbytes(const Shape& shape, size_t itemsize, const char* op);

class Tensor {
 public:
  Tensor() = default;
  // Checks the geometry (see check_geometry): no tensor can point outside its storage.
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype,
         const char* op = "as_strided");

  // A new contiguous tensor with uninitialised contents; errors name `op`.
  static Tensor empty(const Shape& shape, DType dtype, Device device, const char* op = "empty");

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_->device; }
  int64_t ndim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t itemsize() const { return mytensor::itemsize(dtype_); }
  int64_t size(int64_t dim) const;  // negative dims count from the end
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  void* data_ptr() const {
    return static_cast<char*>(storage_->data) + offset_ * static_cast<int64_t>(itemsize());
  }
  template <class T>
  T* data() const {
    return static_cast<T*>(data_ptr());
  }

  // A view of the same storage with other geometry. The constructor's check is the safety net
  // (ShapeError naming `op` if the view would reach outside the storage); ops check first.
  Tensor view_as_strided(Shape shape, Shape strides, int64_t offset,
                         const char* op = "as_strided") const;
  // Marks an in-place write (see Storage::version).
  void bump_version() const { ++storage_->version; }

 private:
  // ShapeError naming `op` unless the numel fits (checked_numel) and, for a non-empty tensor,
  // the lowest and highest element it addresses (computed with checked arithmetic) lie inside
  // the storage; an empty tensor needs a non-negative offset whose byte offset fits int64.
  void check_geometry(const char* op) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::Float32;
};

}  // namespace mytensor
