// CPU losses over (N, C) rows: cross_entropy fused with log-softmax, and nll_loss; forward
// per-sample losses and backward to the logits / log-probabilities.
#include <cmath>
#include <limits>

#include "core/dispatch.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

// Per row n: lse = m + log(sum_c exp(x_c - m)) (m the row max, replaced by 0 when infinite, as
// logsumexp); loss = (1 - eps) * (lse - x[t]) + eps * (lse - mean_c x_c), 0 where t is ignored.
void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index,
                   double label_smoothing, const Tensor& losses, const Tensor& lse) {
  dispatch<Accepts::Floating>(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n_rows = logits.shape()[0], c = logits.shape()[1];
    const T* x = logits.data<T>();
    const int64_t* t = target.data<int64_t>();
    T* loss = losses.data<T>();
    T* l = lse.data<T>();
    const double eps = label_smoothing;
    parallel_for(n_rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(c, 1)),
                 [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        const T* row = x + n * c;
        T m = -std::numeric_limits<T>::infinity();
        double sum_x = 0.0;
        for (int64_t k = 0; k < c; ++k) {
          m = row[k] > m ? row[k] : m;
          sum_x += row[k];
        }
        const double shift = std::isinf(m) ? 0.0 : static_cast<double>(m);
        double s = 0.0;
        for (int64_t k = 0; k < c; ++k) s += std::exp(static_cast<double>(row[k]) - shift);
        const double lse_n = std::log(s) + shift;
        l[n] = static_cast<T>(lse_n);
        if (t[n] == ignore_index) {
          loss[n] = T(0);
          continue;
        }
        double v = (1.0 - eps) * (lse_n - static_cast<double>(row[t[n]]));
        if (eps != 0.0) v += eps * (lse_n - sum_x / static_cast<double>(c));
        loss[n] = static_cast<T>(v);
      }
    });
  });
}

// grad_logits[n, c] = g[n] * (softmax_c - (1 - eps) * [c == t] - eps / C); 0 where ignored.
void cross_entropy_backward(const Tensor& grad_losses, const Tensor& logits, const Tensor& target,
                            const Tensor& lse, int64_t ignore_index, double label_smoothing,
                            const Tensor& grad_logits) {
  dispatch<Accepts::Floating>(logits.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n_rows = logits.shape()[0], c = logits.shape()[1];
    const T* x = logits.data<T>();
    const T* g = grad_losses.data<T>();
    const T* l = lse.data<T>();
    const int64_t* t = target.data<int64_t>();
    T* gx = grad_logits.data<T>();
    const T off = static_cast<T>(label_smoothing / static_cast<double>(c));
    const T on = static_cast<T>(1.0 - label_smoothing);
    parallel_for(n_rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(c, 1)),
                 [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        const T* row = x + n * c;
        T* out = gx + n * c;
        if (t[n] == ignore_index) {
          for (int64_t k = 0; k < c; ++k) out[k] = T(0);
          continue;
        }
        const T gn = g[n], ln = l[n];
        for (int64_t k = 0; k < c; ++k) out[k] = gn * (std::exp(row[k] - ln) - off);
        out[t[n]] -= gn * on;
      }
    });
  });
}

void nll_loss(const Tensor& logp, const Tensor& target, int64_t ignore_index,
              const Tensor& losses) {
  dispatch<Accepts::Floating>(logp.dtype(), "nll_loss", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n_rows = logp.shape()[0], c = logp.shape()[1];
    const T* x = logp.data<T>();
    const int64_t* t = target.data<int64_t>();
    T* loss = losses.data<T>();
    parallel_for(n_rows, kGrain, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) loss[n] = t[n] == ignore_index ? T(0) : -x[n * c + t[n]];
    });
  });
}

// grad_logp[n, c] = -g[n] where c == t[n], else 0.
void nll_loss_backward(const Tensor& grad_losses, const Tensor& target, int64_t ignore_index,
                       const Tensor& grad_logp) {
  dispatch<Accepts::Floating>(grad_logp.dtype(), "nll_loss_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n_rows = grad_logp.shape()[0], c = grad_logp.shape()[1];
    const T* g = grad_losses.data<T>();
    const int64_t* t = target.data<int64_t>();
    T* gx = grad_logp.data<T>();
    parallel_for(n_rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(c, 1)),
                 [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        T* out = gx + n * c;
        for (int64_t k = 0; k < c; ++k) out[k] = T(0);
        if (t[n] != ignore_index) out[t[n]] = -g[n];
      }
    });
  });
}

}  // namespace mytensor::cpu
