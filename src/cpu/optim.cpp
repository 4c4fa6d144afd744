// CPU optimizer steps: every parameter of a call is cut into chunks and all chunks are updated in
// one parallel loop. The arithmetic repeats PyTorch's single-tensor Adam/SGD op by op, in the
// parameter's dtype, so that steps agree to float rounding.
#include <cmath>

#include "core/dispatch.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {

struct Chunk {
  int64_t tensor, begin, end;
};

// Chunks of at most kChunk elements over all tensors, so that one big and many small parameters
// spread evenly across threads.
std::vector<Chunk> make_chunks(const std::vector<Tensor>& params) {
  constexpr int64_t kChunk = 16384;
  std::vector<Chunk> chunks;
  for (size_t i = 0; i < params.size(); ++i) {
    int64_t n = params[i].numel();
    for (int64_t b = 0; b < n; b += kChunk)
      chunks.push_back({static_cast<int64_t>(i), b, std::min(n, b + kChunk)});
  }
  return chunks;
}

template <class F>
void for_each_chunk(const std::vector<Tensor>& params, F&& f) {
  std::vector<Chunk> chunks = make_chunks(params);
  int64_t n = static_cast<int64_t>(chunks.size());
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) f(chunks[c]);
  });
}

}  // namespace

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
               const std::vector<Tensor>& max_exp_avg_sqs, const AdamParams& p) {
  dispatch<Accepts::Floating>(params[0].dtype(), "adam_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Host scalars in double, then rounded to T once, as PyTorch passes Python floats to kernels.
    const double bc1 = 1.0 - std::pow(p.beta1, static_cast<double>(p.step));
    const double bc2 = 1.0 - std::pow(p.beta2, static_cast<double>(p.step));
    const T step_size = static_cast<T>(p.lr / bc1);
    const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    const T w1 = static_cast<T>(1.0 - p.beta1), beta2 = static_cast<T>(p.beta2);
    const T w2 = static_cast<T>(1.0 - p.beta2), eps = static_cast<T>(p.eps);
    const T wd = static_cast<T>(p.weight_decay);
    const T decay = static_cast<T>(1.0 - p.lr * p.weight_decay);
    const bool coupled_wd = p.weight_decay != 0 && !p.decoupled;
    const bool decoupled_wd = p.weight_decay != 0 && p.decoupled;
    for_each_chunk(params, [&](const Chunk& c) {
      T* w = params[c.tensor].data<T>();
      const T* g = grads[c.tensor].data<T>();
      T* m = exp_avgs[c.tensor].data<T>();
      T* v = exp_avg_sqs[c.tensor].data<T>();
      T* vmax = p.amsgrad ? max_exp_avg_sqs[c.tensor].data<T>() : nullptr;
      for (int64_t i = c.begin; i < c.end; ++i) {
        T grad = p.maximize ? -g[i] : g[i];
        if (decoupled_wd) w[i] = w[i] * decay;
        if (coupled_wd) grad = grad + wd * w[i];
        m[i] = m[i] + w1 * (grad - m[i]);  // torch.lerp with weight < 0.5
        v[i] = v[i] * beta2 + w2 * grad * grad;
        T second = v[i];
        if (vmax) {
          vmax[i] = std::max(vmax[i], v[i]);
          second = vmax[i];
        }
        T denom = std::sqrt(second) / bc2_sqrt + eps;
        w[i] = w[i] + (-step_size) * (m[i] / denom);
      }
    });
  });
}

void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& momentum_buffers, const SgdParams& p) {
  dispatch<Accepts::Floating>(params[0].dtype(), "sgd_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T lr = static_cast<T>(p.lr), wd = static_cast<T>(p.weight_decay);
    const T mom = static_cast<T>(p.momentum), keep = static_cast<T>(1.0 - p.dampening);
    const bool use_momentum = p.momentum != 0;
    for_each_chunk(params, [&](const Chunk& c) {
      T* w = params[c.tensor].data<T>();
      const T* g = grads[c.tensor].data<T>();
      T* buf = use_momentum ? momentum_buffers[c.tensor].data<T>() : nullptr;
      for (int64_t i = c.begin; i < c.end; ++i) {
        T grad = p.maximize ? -g[i] : g[i];
        if (p.weight_decay != 0) grad = grad + wd * w[i];
        if (buf) {
          // PyTorch starts the buffer as a copy of the first gradient (no dampening then).
          buf[i] = p.first_step ? grad : buf[i] * mom + keep * grad;
          grad = p.nesterov ? grad + mom * buf[i] : buf[i];
        }
        w[i] = w[i] + (-lr) * grad;
      }
    });
  });
}

}  // namespace mytensor::cpu
