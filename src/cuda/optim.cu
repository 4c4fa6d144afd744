// CUDA optimizer steps: Adam/AdamW and SGD for every parameter in one launch per 48 tensors
// (a multi-tensor apply: the per-tensor pointers travel as a __grid_constant__ kernel parameter
// and each block walks 4096-element chunks of the concatenation). The arithmetic follows
// PyTorch's single-tensor (foreach=False) implementations op by op. Inside a CUDA graph, lr, the
// step count and beta1/momentum come from device slots that each replay rewrites
// (AdamParams::lr_dev, ...): each thread then derives the bias corrections once, before its loop.
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/functors.h"
#include "cuda/kernels.h"
#include "cuda/launch.cuh"

namespace mytensor::cuda {

namespace {

constexpr int kMaxTensors = 48;  // keeps the kernel parameter under 4 KiB
constexpr int64_t kChunk = 4096;

template <class T>
struct TensorList {
  T* p[kMaxTensors];
  const T* g[kMaxTensors];
  T* s0[kMaxTensors];  // Adam: exp_avg; SGD: momentum buffer
  T* s1[kMaxTensors];  // Adam: exp_avg_sq
  T* s2[kMaxTensors];  // Adam: max_exp_avg_sq (amsgrad)
  int64_t n[kMaxTensors];
  int64_t chunk_start[kMaxTensors + 1];  // prefix sums of each tensor's chunk count
  int count;
};

template <class T>
struct AdamScalars {
  T lr, weight_decay, beta1_weight, beta2, one_minus_beta2, eps, decay, step_size, bc2_sqrt;
  bool decoupled, amsgrad, maximize;
  // The host values in double, and the slots that replace lr and step inside a graph.
  double lr_d, step_d, beta1_d, beta2_d, weight_decay_d;
  const double* lr_dev;
  const double* step_dev;
  const double* beta1_dev;
};

template <class T>
struct SgdScalars {
  T lr, momentum, one_minus_dampening, weight_decay;
  bool use_momentum, nesterov, first_step, maximize;
  const double* lr_dev;
  const double* momentum_dev;
};

// lr-dependent scalars from lr and step as the host computes them (adam_typed), in double and
// rounded to T once; inside a graph each thread calls it once, before its loop.
template <class T>
__host__ __device__ __forceinline__ void set_adam_step_scalars(AdamScalars<T>& s, double lr,
                                                              double step) {
  const double bc1 = 1.0 - ::pow(s.beta1_d, step);
  const double bc2 = 1.0 - ::pow(s.beta2_d, step);
  s.lr = static_cast<T>(lr);
  s.decay = static_cast<T>(1.0 - lr * s.weight_decay_d);
  s.step_size = static_cast<T>(lr / bc1);
  s.bc2_sqrt = static_cast<T>(::sqrt(bc2));
}

// The tensor that owns chunk `ch` (binary search over the prefix sums).
template <class T>
__device__ __forceinline__ int owner(const TensorList<T>& list, int64_t ch) {
  int lo = 0, hi = list.count - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (list.chunk_start[mid] <= ch) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// torch.lerp's two-sided formula (exact at both ends), as exp_avg.lerp_(grad, 1 - beta1).
template <class T>
__device__ __forceinline__ T lerp(T self, T end, T weight) {
  return (weight < T(0.5) && weight > T(-0.5)) ? self + weight * (end - self)
                                               : end - (end - self) * (T(1) - weight);
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    adam_kernel(const __grid_constant__ TensorList<T> list, AdamScalars<T> s) {
  if (s.lr_dev != nullptr || s.step_dev != nullptr || s.beta1_dev != nullptr) {
    if (s.beta1_dev != nullptr) {
      s.beta1_d = *s.beta1_dev;
      s.beta1_weight = static_cast<T>(1.0 - s.beta1_d);
    }
    set_adam_step_scalars(s, s.lr_dev != nullptr ? *s.lr_dev : s.lr_d,
                          s.step_dev != nullptr ? *s.step_dev : s.step_d);
  }
  const int64_t chunks = list.chunk_start[list.count];
  for (int64_t ch = blockIdx.x; ch < chunks; ch += gridDim.x) {
    const int t = owner(list, ch);
    const int64_t begin = (ch - list.chunk_start[t]) * kChunk;
    const int64_t end = list.n[t] < begin + kChunk ? list.n[t] : begin + kChunk;
    T* p = list.p[t];
    const T* gp = list.g[t];
    T* m = list.s0[t];
    T* v = list.s1[t];
    T* vmax = list.s2[t];
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      T g = gp[i];
      if (s.maximize) g = -g;
      T param = p[i];
      if (s.weight_decay != T(0)) {
        if (s.decoupled) {
          param = param * s.decay;
        } else {
          g = g + s.weight_decay * param;
        }
      }
      const T mi = lerp(m[i], g, s.beta1_weight);
      T vi = v[i] * s.beta2;
      vi = vi + s.one_minus_beta2 * g * g;
      m[i] = mi;
      v[i] = vi;
      T second = vi;
      if (s.amsgrad) {
        const T old = vmax[i];
        second = old > vi ? old : vi;  // torch.maximum; the running max never decreases
        vmax[i] = second;
      }
      const T denom = functors::sqrt_(second) / s.bc2_sqrt + s.eps;
      p[i] = param + (-s.step_size) * (mi / denom);
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    sgd_kernel(const __grid_constant__ TensorList<T> list, SgdScalars<T> s) {
  if (s.lr_dev != nullptr) s.lr = static_cast<T>(*s.lr_dev);
  if (s.momentum_dev != nullptr) s.momentum = static_cast<T>(*s.momentum_dev);
  const int64_t chunks = list.chunk_start[list.count];
  for (int64_t ch = blockIdx.x; ch < chunks; ch += gridDim.x) {
    const int t = owner(list, ch);
    const int64_t begin = (ch - list.chunk_start[t]) * kChunk;
    const int64_t end = list.n[t] < begin + kChunk ? list.n[t] : begin + kChunk;
    T* p = list.p[t];
    const T* gp = list.g[t];
    T* buf = list.s0[t];
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      T g = gp[i];
      if (s.maximize) g = -g;
      const T param = p[i];
      if (s.weight_decay != T(0)) g = g + s.weight_decay * param;
      if (s.use_momentum) {
        T b;
        if (s.first_step) {
          b = g;
        } else {
          b = buf[i] * s.momentum;
          b = b + s.one_minus_dampening * g;
        }
        buf[i] = b;
        g = s.nesterov ? g + s.momentum * b : b;
      }
      p[i] = param + (-s.lr) * g;
    }
  }
}

// Fills `list` with up to kMaxTensors non-empty tensors of dtype T from position `*next`, and
// returns false when none are left.
template <class T, class Fill>
bool next_batch(int64_t count, int64_t* next, const std::vector<Tensor>& params,
                TensorList<T>* list, Fill&& fill_state) {
  list->count = 0;
  list->chunk_start[0] = 0;
  while (*next < count && list->count < kMaxTensors) {
    const int64_t i = (*next)++;
    const Tensor& p = params[i];
    if (p.dtype() != dtype_of<T>() || p.numel() == 0) continue;
    const int k = list->count++;
    list->p[k] = p.data<T>();
    list->n[k] = p.numel();
    list->s0[k] = list->s1[k] = list->s2[k] = nullptr;
    fill_state(i, k);
    list->chunk_start[k + 1] = list->chunk_start[k] + (p.numel() + kChunk - 1) / kChunk;
  }
  return list->count > 0;
}

template <class T>
void adam_typed(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
                const std::vector<Tensor>& max_exp_avg_sqs, const AdamParams& p, int device,
                cudaStream_t stream) {
  AdamScalars<T> s;
  s.beta1_d = p.beta1;
  s.beta2_d = p.beta2;
  s.weight_decay_d = p.weight_decay;
  s.lr_d = p.lr;
  s.step_d = static_cast<double>(p.step);
  s.lr_dev = p.lr_dev;
  s.step_dev = p.step_dev;
  s.beta1_dev = p.beta1_dev;
  set_adam_step_scalars(s, s.lr_d, s.step_d);
  s.weight_decay = static_cast<T>(p.weight_decay);
  s.beta1_weight = static_cast<T>(1.0 - p.beta1);
  s.beta2 = static_cast<T>(p.beta2);
  s.one_minus_beta2 = static_cast<T>(1.0 - p.beta2);
  s.eps = static_cast<T>(p.eps);
  s.decoupled = p.decoupled;
  s.amsgrad = p.amsgrad;
  s.maximize = p.maximize;
  const bool ams = p.amsgrad && !max_exp_avg_sqs.empty();
  s.amsgrad = ams;
  const int64_t count = static_cast<int64_t>(params.size());
  int64_t next = 0;
  TensorList<T> list;
  while (next_batch<T>(count, &next, params, &list, [&](int64_t i, int k) {
    list.g[k] = grads[i].data<T>();
    list.s0[k] = exp_avgs[i].data<T>();
    list.s1[k] = exp_avg_sqs[i].data<T>();
    if (ams) list.s2[k] = max_exp_avg_sqs[i].data<T>();
  })) {
    const int64_t chunks = list.chunk_start[list.count];
    adam_kernel<T><<<grid_for(chunks, 1, device, 16), kThreads, 0, stream>>>(list, s);
    check_launch("adam_step", stream);
  }
}

template <class T>
void sgd_typed(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& momentum_buffers, const SgdParams& p, int device,
               cudaStream_t stream) {
  SgdScalars<T> s;
  s.lr = static_cast<T>(p.lr);
  s.momentum = static_cast<T>(p.momentum);
  s.one_minus_dampening = static_cast<T>(1.0 - p.dampening);
  s.weight_decay = static_cast<T>(p.weight_decay);
  s.use_momentum = p.momentum != 0.0 && !momentum_buffers.empty();
  s.nesterov = p.nesterov;
  s.first_step = p.first_step;
  s.maximize = p.maximize;
  s.lr_dev = p.lr_dev;
  s.momentum_dev = p.momentum_dev;
  const int64_t count = static_cast<int64_t>(params.size());
  int64_t next = 0;
  TensorList<T> list;
  while (next_batch<T>(count, &next, params, &list, [&](int64_t i, int k) {
    list.g[k] = grads[i].data<T>();
    if (s.use_momentum) list.s0[k] = momentum_buffers[i].data<T>();
  })) {
    const int64_t chunks = list.chunk_start[list.count];
    sgd_kernel<T><<<grid_for(chunks, 1, device, 16), kThreads, 0, stream>>>(list, s);
    check_launch("sgd_step", stream);
  }
}

void check_dtypes(const std::vector<Tensor>& params, const char* op) {
  for (const Tensor& t : params) {
    if (t.dtype() != DType::Float32 && t.dtype() != DType::Float64) {
      detail::throw_error<DTypeError>("[", op, "] dtype ", dtype_name(t.dtype()),
                                      " is not supported (expected float32 or float64)");
    }
  }
}

}  // namespace

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
               const std::vector<Tensor>& max_exp_avg_sqs, const AdamParams& p) {
  if (params.empty()) return;
  check_dtypes(params, "adam_step");
  LaunchContext ctx(params[0]);
  adam_typed<float>(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, p, ctx.device,
                    ctx.stream);
  adam_typed<double>(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, p, ctx.device,
                     ctx.stream);
}

void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& momentum_buffers, const SgdParams& p) {
  if (params.empty()) return;
  check_dtypes(params, "sgd_step");
  LaunchContext ctx(params[0]);
  sgd_typed<float>(params, grads, momentum_buffers, p, ctx.device, ctx.stream);
  sgd_typed<double>(params, grads, momentum_buffers, p, ctx.device, ctx.stream);
}

}  // namespace mytensor::cuda
