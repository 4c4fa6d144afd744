// CUDA data augmentation: gather + random crop (zero padding) + horizontal flip + normalise of an
// image batch in one launch, one thread per output pixel. Same Philox draws (or explicit per-sample
// plan) as cpu/data.cpp.
#include "core/philox.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"

namespace mytensor::cuda {

namespace {

template <class T>
__global__ void augment_images_kernel(const uint8_t* __restrict__ src,
                                      const int64_t* __restrict__ labels,
                                      const int64_t* __restrict__ indices,
                                      const T* __restrict__ mean, const T* __restrict__ stdev,
                                      int64_t n, int64_t b, int64_t c, int64_t h, int64_t w,
                                      int64_t padding, bool flip, uint64_t seed, uint64_t offset,
                                      const int32_t* __restrict__ plan, T* __restrict__ out,
                                      int64_t* __restrict__ labels_out) {
  const int64_t total = b * c * h * w;
  const uint64_t span = static_cast<uint64_t>(2 * padding + 1);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t x = i % w;
    const int64_t y = (i / w) % h;
    const int64_t ch = (i / (w * h)) % c;
    const int64_t s = i / (w * h * c);
    const int64_t img = indices[s];
    int64_t dy, dx;
    bool mirror, valid = img >= 0 && img < n;
    if (plan) {
      const int32_t* p = plan + 3 * s;
      valid = valid && p[0] >= 0 && p[0] <= 2 * padding && p[1] >= 0 && p[1] <= 2 * padding &&
              (p[2] == 0 || p[2] == 1);
      dy = p[0] - padding;
      dx = p[1] - padding;
      mirror = flip && p[2] != 0;
    } else {
      // Every pixel of a sample recomputes the sample's draw: cheaper than a second pass.
      const philox::Uint4 r = philox::draw(seed, offset + static_cast<uint64_t>(s));
      dy = static_cast<int64_t>(r.x % span) - padding;
      dx = static_cast<int64_t>(r.y % span) - padding;
      mirror = flip && (r.z & 1u);
    }
    // Indices and plan rows are not checked on the host (that would synchronise every batch): a
    // bad one yields NaN pixels and label -1, which the loss then rejects.
    if (ch == 0 && y == 0 && x == 0) labels_out[s] = valid ? labels[img] : -1;
    if (!valid) {
      out[i] = static_cast<T>(NAN);
      continue;
    }
    const int64_t sy = y + dy;
    const int64_t sx = (mirror ? w - 1 - x : x) + dx;
    T v = T(0);  // padding pixels are 0 before normalisation, as torchvision pads with fill=0
    if (sy >= 0 && sy < h && sx >= 0 && sx < w)
      v = static_cast<T>(src[((img * c + ch) * h + sy) * w + sx]) / T(255);
    out[i] = (v - mean[ch]) / stdev[ch];
  }
}

}  // namespace

void augment_images(const Tensor& images, const Tensor& labels, const Tensor& indices,
                    const Tensor& mean, const Tensor& stdev, int64_t padding, bool flip,
                    uint64_t seed, uint64_t offset, const Tensor& params, const Tensor& out,
                    const Tensor& labels_out) {
  LaunchContext ctx(out);
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const int64_t b = indices.size(0);
  const int64_t total = b * c * h * w;
  dispatch<Accepts::Floating>(out.dtype(), "augment_images", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_1d(ctx, "augment_images", total, augment_images_kernel<T>, images.data<uint8_t>(),
        labels.data<int64_t>(), indices.data<int64_t>(), mean.data<T>(), stdev.data<T>(), n, b, c,
        h, w, padding, flip, seed, offset, params.defined() ? params.data<int32_t>() : nullptr,
        out.data<T>(), labels_out.data<int64_t>());
  });
}

}  // namespace mytensor::cuda
