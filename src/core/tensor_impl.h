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

Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype);

  // A new contiguous tensor with uninitialised contents.
  static Tensor empty(const Shape& shape, DType dtype, Device device);

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

  // A view of the same storage with other geometry; the caller guarantees it stays in bounds.
  Tensor view_as_strided(Shape shape, Shape strides, int64_t offset) const;
  // Marks an in-place write (see Storage::version).
  void bump_version() const { ++storage_->version; }

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::Float32;
};

}  // namespace mytensor
