// CPU losses over (N, C) rows: cross_entropy fused with log-softmax, and nll_loss; forward
// per-sample losses and backward to the logits / log-probabilities.
#include <cmath>
#include <limits>

#include "core/dispatch.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

// Per row n, as PyTorch's log_softmax: m = the row max, z_c = x_c - m, log_s = log sum_c exp(z_c),
// logp_c = z_c - log_s; loss = -(1 - eps) * logp_t - eps * mean_c logp_c, 0 where t is ignored.
// Subtracting m before the log-sum keeps logp exact at huge logits (m + log_s would round log_s
// away at |x| >= 1e16); an infinite m makes some z_c NaN, hence a NaN loss, as PyTorch.
// stats[n] = (m, log_s), saved for the backward.
void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index,
                   double label_smoothing, const Tensor& losses, const Tensor& stats) {
  dispatch<Accepts::Floating>(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n_rows = logits.shape()[0], c = logits.shape()[1];
    const T* x = logits.data<T>();
    const int64_t* t = target.data<int64_t>();
    T* loss = losses.data<T>();
    T* st = stats.data<T>();
    const double eps = label_smoothing;
    parallel_for(n_rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(c, 1)),
                 [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        const T* row = x + n * c;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t k = 0; k < c; ++k) m = row[k] > m ? row[k] : m;  // a NaN reaches s below
        const double md = static_cast<double>(m);
        double s = 0.0, sum_z = 0.0;
        for (int64_t k = 0; k < c; ++k) {
          const double z = static_cast<double>(row[k]) - md;
          s += std::exp(z);
          sum_z += z;
        }
        const double log_s = std::log(s);
        st[2 * n] = m;
        st[2 * n + 1] = static_cast<T>(log_s);
        if (t[n] == ignore_index) {
          loss[n] = T(0);
          continue;
        }
        const double logp_t = (static_cast<double>(row[t[n]]) - md) - log_s;
        double v = -logp_t;
        // Without smoothing the mean term is skipped: 0 * inf would turn a -inf logit into NaN.
        if (eps != 0.0) v = (1.0 - eps) * v + eps * (log_s - sum_z / static_cast<double>(c));
        loss[n] = static_cast<T>(v);
      }
    });
  });
}

// grad_logits[n, c] = g[n] * (softmax_c - (1 - eps) * [c == t] - eps / C), 0 where ignored;
// softmax_c = exp((x_c - m) - log_s) from the saved stats (exact at huge logits).
void cross_entropy_backward(const Tensor& grad_losses, const Tensor& logits, const Tensor& target,
                            const Tensor& stats, int64_t ignore_index, double label_smoothing,
                            const Tensor& grad_logits) {
  dispatch<Accepts::Floating>(logits.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n_rows = logits.shape()[0], c = logits.shape()[1];
    const T* x = logits.data<T>();
    const T* g = grad_losses.data<T>();
    const T* st = stats.data<T>();
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
        const T gn = g[n], m = st[2 * n], log_s = st[2 * n + 1];
        for (int64_t k = 0; k < c; ++k) out[k] = gn * (std::exp((row[k] - m) - log_s) - off);
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
