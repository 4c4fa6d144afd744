// CPU data augmentation: gather + random crop (zero padding) + horizontal flip + normalise of an
// image batch in one pass. Crops and flips are Philox draws, identical to the CUDA kernel's, or an
// explicit per-sample plan.
#include "core/dispatch.h"
#include "core/philox.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

void augment_images(const Tensor& images, const Tensor& labels, const Tensor& indices,
                    const Tensor& mean, const Tensor& stdev, int64_t padding, bool flip,
                    uint64_t seed, uint64_t offset, const Tensor& params, const Tensor& out,
                    const Tensor& labels_out) {
  const int64_t b = indices.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const uint8_t* src = images.data<uint8_t>();
  const int64_t* idx = indices.data<int64_t>();
  const int64_t* lab = labels.data<int64_t>();
  int64_t* lab_out = labels_out.data<int64_t>();
  const int32_t* plan = params.defined() ? params.data<int32_t>() : nullptr;
  const uint64_t span = static_cast<uint64_t>(2 * padding + 1);
  dispatch<Accepts::Floating>(out.dtype(), "augment_images", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* mu = mean.data<T>();
    const T* sd = stdev.data<T>();
    T* dst = out.data<T>();
    parallel_for(b, 1, [&](int64_t begin, int64_t end) {
      for (int64_t s = begin; s < end; ++s) {
        int64_t dy, dx;
        bool mirror;
        if (plan) {
          dy = plan[3 * s] - padding;
          dx = plan[3 * s + 1] - padding;
          mirror = flip && plan[3 * s + 2] != 0;
        } else {
          const philox::Uint4 r = philox::draw(seed, offset + static_cast<uint64_t>(s));
          dy = static_cast<int64_t>(r.x % span) - padding;
          dx = static_cast<int64_t>(r.y % span) - padding;
          mirror = flip && (r.z & 1u);
        }
        lab_out[s] = lab[idx[s]];
        const uint8_t* img = src + idx[s] * c * h * w;
        T* o = dst + s * c * h * w;
        for (int64_t ch = 0; ch < c; ++ch) {
          // Padding pixels are 0 before normalisation, as torchvision pads with fill=0.
          const T zero = (T(0) - mu[ch]) / sd[ch];
          for (int64_t y = 0; y < h; ++y) {
            const int64_t sy = y + dy;
            T* orow = o + (ch * h + y) * w;
            if (sy < 0 || sy >= h) {
              for (int64_t x = 0; x < w; ++x) orow[x] = zero;
              continue;
            }
            const uint8_t* irow = img + (ch * h + sy) * w;
            for (int64_t x = 0; x < w; ++x) {
              const int64_t sx = (mirror ? w - 1 - x : x) + dx;
              orow[x] = (sx < 0 || sx >= w)
                            ? zero
                            : (static_cast<T>(irow[sx]) / T(255) - mu[ch]) / sd[ch];
            }
          }
        }
      }
    });
  });
}

}  // namespace mytensor::cpu
