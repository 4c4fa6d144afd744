// Data-loading ops: the fused gather + crop + flip + normalise of an image batch, with crops and
// flips drawn from Philox or given as an explicit per-sample plan.
#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

std::tuple<Tensor, Tensor> augment_images(const Tensor& images, const Tensor& labels,
                                          const Tensor& indices, const Tensor& mean,
                                          const Tensor& stdev, int64_t padding, bool flip,
                                          uint64_t seed, uint64_t offset,
                                          const std::optional<Tensor>& params) {
  const char* op = "augment_images";
  MT_CHECK(images.dtype() == DType::UInt8, DTypeError, "[", op, "] images must be uint8, got ",
           dtype_name(images.dtype()));
  MT_CHECK(images.ndim() == 4, ShapeError, "[", op, "] images must be (N, C, H, W), got shape ",
           shape_str(images.shape()));
  MT_CHECK(images.is_contiguous(), std::invalid_argument, "[", op,
           "] images must be contiguous (keep the data set in one block)");
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  MT_CHECK(labels.dtype() == DType::Int64, DTypeError, "[", op, "] labels must be int64, got ",
           dtype_name(labels.dtype()));
  MT_CHECK(labels.ndim() == 1 && labels.size(0) == n, ShapeError, "[", op,
           "] labels must have shape (", n, ") to match images ", shape_str(images.shape()),
           ", got ", shape_str(labels.shape()));
  MT_CHECK(indices.dtype() == DType::Int64, DTypeError, "[", op, "] indices must be int64, got ",
           dtype_name(indices.dtype()));
  MT_CHECK(indices.ndim() == 1, ShapeError, "[", op, "] indices must be 1-D, got shape ",
           shape_str(indices.shape()));
  check_floating(mean, op, "mean");
  MT_CHECK(stdev.dtype() == mean.dtype(), DTypeError, "[", op, "] mean is ",
           dtype_name(mean.dtype()), " but stdev is ", dtype_name(stdev.dtype()));
  MT_CHECK(mean.ndim() == 1 && mean.size(0) == c, ShapeError, "[", op,
           "] mean must have one value per channel, shape (", c, "), got ",
           shape_str(mean.shape()));
  MT_CHECK(stdev.ndim() == 1 && stdev.size(0) == c, ShapeError, "[", op,
           "] stdev must have one value per channel, shape (", c, "), got ",
           shape_str(stdev.shape()));
  // Crop offsets lie in [0, 2 * padding] and are int32 in a plan (and 2 * padding + 1 must not
  // overflow in the kernels).
  MT_CHECK(padding >= 0, std::invalid_argument, "[", op, "] padding must be >= 0, got ",
           padding);
  MT_CHECK(padding <= (INT32_MAX - 1) / 2, std::invalid_argument, "[", op,
           "] padding must be at most ", (INT32_MAX - 1) / 2, ", got ", padding);
  check_same_device(images, labels, op);
  check_same_device(images, indices, op);
  check_same_device(images, mean, op);
  check_same_device(images, stdev, op);
  const int64_t b = indices.size(0);
  Tensor plan;  // undefined: crops and flips come from Philox
  if (params) {
    MT_CHECK(params->dtype() == DType::Int32, DTypeError, "[", op,
             "] params must be int32 (dy, dx, flip per sample), got ", dtype_name(params->dtype()));
    MT_CHECK(params->ndim() == 2 && params->size(0) == b && params->size(1) == 3, ShapeError, "[",
             op, "] params must have shape (", b, ", 3) to match indices ",
             shape_str(indices.shape()), ", got ", shape_str(params->shape()));
    check_same_device(images, *params, op);
    plan = contiguous(*params);
  }
  Tensor idx = contiguous(indices);
  Tensor lab = contiguous(labels);
  Tensor mu = contiguous(mean), sd = contiguous(stdev);
  if (!images.device().is_cuda()) {
    // On the GPU this would cost a synchronisation per batch; the CUDA kernel instead marks a
    // bad index's sample (NaN pixels, label -1) so that the loss fails on it.
    const int64_t* p = idx.data<int64_t>();
    for (int64_t i = 0; i < b; ++i)
      MT_CHECK(p[i] >= 0 && p[i] < n, std::out_of_range, "[", op, "] indices[", i, "] = ", p[i],
               " is out of range for ", n, " images");
    if (plan.defined()) {
      // Same trade-off as for indices: the CUDA kernel marks a bad row's sample instead.
      const int32_t* q = plan.data<int32_t>();
      for (int64_t i = 0; i < b; ++i) {
        const int32_t* r = q + 3 * i;
        MT_CHECK(r[0] >= 0 && r[0] <= 2 * padding && r[1] >= 0 && r[1] <= 2 * padding &&
                     (r[2] == 0 || r[2] == 1),
                 std::invalid_argument, "[", op, "] params[", i, "] = (", r[0], ", ", r[1], ", ",
                 r[2], ") is out of range: dy and dx must lie in [0, ", 2 * padding,
                 "] for padding ", padding, ", flip in {0, 1}");
      }
    }
  }
  Tensor out = Tensor::empty({b, c, h, w}, mean.dtype(), images.device());
  Tensor labels_out = Tensor::empty({b}, DType::Int64, images.device());
  if (b == 0) return {out, labels_out};
  if (images.device().is_cuda())
    cuda::augment_images(images, lab, idx, mu, sd, padding, flip, seed, offset, plan, out,
                         labels_out);
  else
    cpu::augment_images(images, lab, idx, mu, sd, padding, flip, seed, offset, plan, out,
                        labels_out);
  return {out, labels_out};
}

}  // namespace mytensor
