// Built when CUDA is off: the CUDA data-augmentation entry raises DeviceError.
#include "core/check.h"
#include "cuda/kernels.h"

namespace mytensor::cuda {

void augment_images(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                    int64_t, bool, uint64_t, uint64_t, const Tensor&, const Tensor&,
                    const Tensor&) {
  detail::throw_error<DeviceError>(
      "[augment_images] mytensor was built without CUDA; rebuild with nvcc on PATH "
      "(MYTENSOR_CUDA=ON uv sync --reinstall-package mytensor) to use 'cuda' devices");
}

}  // namespace mytensor::cuda
