// CPU batch normalization over a contiguous (N, C, L) input: per-channel statistics, the affine
// apply, and the training-mode backward.
#include <cmath>
#include <vector>

#include "core/dispatch.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {

// Sum of a contiguous row in double; four chains so the adds are not one serial dependency.
template <class T, class F>
double row_sum(int64_t L, F&& f) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int64_t l = 0;
  for (; l + 4 <= L; l += 4) {
    a0 += f(l);
    a1 += f(l + 1);
    a2 += f(l + 2);
    a3 += f(l + 3);
  }
  for (; l < L; ++l) a0 += f(l);
  return (a0 + a1) + (a2 + a3);
}

// Per-channel sums of K quantities over the N*C rows of length L: row(r, c, acc) adds row r's
// (channel c = r % C) contributions to acc[0..K). Rows are split into a fixed number of blocks
// whose partial sums are added in block order, so results do not depend on the thread count.
template <int K, class F>
std::vector<double> channel_sums(int64_t N, int64_t C, int64_t L, F&& row) {
  const int64_t rows = N * C;
  int64_t blocks = std::min<int64_t>({64, rows, std::max<int64_t>(1, rows * L / kGrain)});
  blocks = std::max<int64_t>(blocks, 1);
  std::vector<double> partial(static_cast<size_t>(blocks * C * K), 0.0);
  parallel_for(blocks, 1, [&](int64_t bb, int64_t be) {
    for (int64_t blk = bb; blk < be; ++blk) {
      double* acc = partial.data() + blk * C * K;
      int64_t r0 = rows * blk / blocks, r1 = rows * (blk + 1) / blocks;
      for (int64_t r = r0; r < r1; ++r) {
        int64_t c = r % C;
        row(r, c, acc + c * K);
      }
    }
  });
  std::vector<double> total(static_cast<size_t>(C * K), 0.0);
  for (int64_t blk = 0; blk < blocks; ++blk)
    for (int64_t i = 0; i < C * K; ++i) total[i] += partial[blk * C * K + i];
  return total;
}

// Runs f(r, c) over the N*C rows of length L (row r is channel c = r % C), in parallel.
template <class F>
void for_each_row(int64_t N, int64_t C, int64_t L, F&& f) {
  parallel_for(N * C, std::max<int64_t>(1, kGrain / std::max<int64_t>(L, 1)),
               [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(r, r % C);
  });
}

}  // namespace

void batch_norm_stats(const Tensor& x, double eps, const Tensor& mean, const Tensor& invstd,
                      const Tensor& running_mean, const Tensor& running_var, double momentum) {
  const int64_t N = x.shape()[0], C = x.shape()[1], L = x.shape()[2];
  dispatch<Accepts::Floating>(x.dtype(), "batch_norm_stats", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    const double count = static_cast<double>(N * L);
    // Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
    std::vector<double> sums = channel_sums<1>(N, C, L, [&](int64_t r, int64_t, double* acc) {
      const T* p = in + r * L;
      acc[0] += row_sum<T>(L, [p](int64_t l) { return static_cast<double>(p[l]); });
    });
    std::vector<double> mu(C);
    for (int64_t c = 0; c < C; ++c) mu[c] = sums[c] / count;
    std::vector<double> sq = channel_sums<1>(N, C, L, [&](int64_t r, int64_t c, double* acc) {
      const T* p = in + r * L;
      const double m = mu[c];
      acc[0] += row_sum<T>(L, [p, m](int64_t l) {
        double d = static_cast<double>(p[l]) - m;
        return d * d;
      });
    });
    T* mo = mean.data<T>();
    T* io = invstd.data<T>();
    for (int64_t c = 0; c < C; ++c) {
      mo[c] = static_cast<T>(mu[c]);
      io[c] = static_cast<T>(1.0 / std::sqrt(sq[c] / count + eps));
    }
    if (running_mean.defined()) {
      T* rm = running_mean.data<T>();
      T* rv = running_var.data<T>();
      for (int64_t c = 0; c < C; ++c) {
        rm[c] = static_cast<T>((1.0 - momentum) * rm[c] + momentum * mu[c]);
        rv[c] = static_cast<T>((1.0 - momentum) * rv[c] + momentum * sq[c] / (count - 1.0));
      }
    }
  });
}

void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd,
                      const Tensor& weight, const Tensor& bias, const Tensor& y) {
  const int64_t N = x.shape()[0], C = x.shape()[1], L = x.shape()[2];
  dispatch<Accepts::Floating>(x.dtype(), "batch_norm_apply", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* out = y.data<T>();
    // y = (x - mean) * alpha + beta per channel, alpha = invstd * w, beta = b. Subtracting the
    // mean first keeps precision when |mean| >> std (folding it into beta would cancel).
    std::vector<T> alpha(C), beta(C);
    const T* m = mean.data<T>();
    const T* is = invstd.data<T>();
    for (int64_t c = 0; c < C; ++c) {
      double a = static_cast<double>(is[c]) * (weight.defined() ? weight.data<T>()[c] : 1.0);
      double b = bias.defined() ? static_cast<double>(bias.data<T>()[c]) : 0.0;
      alpha[c] = static_cast<T>(a);
      beta[c] = static_cast<T>(b);
    }
    if (L == 1) {
      parallel_for(N, std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1)),
                   [&](int64_t b, int64_t e) {
        for (int64_t n = b; n < e; ++n) {
          const T* p = in + n * C;
          T* q = out + n * C;
          for (int64_t c = 0; c < C; ++c) q[c] = (p[c] - m[c]) * alpha[c] + beta[c];
        }
      });
      return;
    }
    for_each_row(N, C, L, [&](int64_t r, int64_t c) {
      const T* p = in + r * L;
      T* q = out + r * L;
      const T a = alpha[c], b = beta[c], mu = m[c];
      for (int64_t l = 0; l < L; ++l) q[l] = (p[l] - mu) * a + b;
    });
  });
}

void batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& mean,
                         const Tensor& invstd, const Tensor& weight, const Tensor& grad_x,
                         const Tensor& grad_weight, const Tensor& grad_bias) {
  const int64_t N = x.shape()[0], C = x.shape()[1], L = x.shape()[2];
  dispatch<Accepts::Floating>(x.dtype(), "batch_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* g = grad_y.data<T>();
    const T* in = x.data<T>();
    const T* m = mean.data<T>();
    const T* is = invstd.data<T>();
    // Per channel: sum(g) and sum(g * (x - mean)).
    std::vector<double> sums = channel_sums<2>(N, C, L, [&](int64_t r, int64_t c, double* acc) {
      const T* gp = g + r * L;
      const T* xp = in + r * L;
      const double mu = m[c];
      acc[0] += row_sum<T>(L, [gp](int64_t l) { return static_cast<double>(gp[l]); });
      acc[1] += row_sum<T>(L, [gp, xp, mu](int64_t l) {
        return static_cast<double>(gp[l]) * (static_cast<double>(xp[l]) - mu);
      });
    });
    // grad_x = w * invstd * (g - mean(g) - (x - mean) * invstd^2 * mean(g * (x - mean))),
    // folded into grad_x = a * g + b1 * (x - mean) + b0 per channel.
    const double count = static_cast<double>(N * L);
    std::vector<T> ca(C), cb1(C), cb0(C);
    for (int64_t c = 0; c < C; ++c) {
      double s = is[c], w = weight.defined() ? static_cast<double>(weight.data<T>()[c]) : 1.0;
      double a = w * s, k = s * s * sums[2 * c + 1] / count, gm = sums[2 * c] / count;
      ca[c] = static_cast<T>(a);
      cb1[c] = static_cast<T>(-a * k);
      cb0[c] = static_cast<T>(-a * gm);
      if (grad_weight.defined()) grad_weight.data<T>()[c] = static_cast<T>(sums[2 * c + 1] * s);
      if (grad_bias.defined()) grad_bias.data<T>()[c] = static_cast<T>(sums[2 * c]);
    }
    T* gx = grad_x.data<T>();
    if (L == 1) {
      parallel_for(N, std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1)),
                   [&](int64_t b, int64_t e) {
        for (int64_t n = b; n < e; ++n)
          for (int64_t c = 0; c < C; ++c) {
            int64_t i = n * C + c;
            gx[i] = ca[c] * g[i] + cb1[c] * (in[i] - m[c]) + cb0[c];
          }
      });
      return;
    }
    for_each_row(N, C, L, [&](int64_t r, int64_t c) {
      const T* gp = g + r * L;
      const T* xp = in + r * L;
      T* q = gx + r * L;
      const T a = ca[c], b1 = cb1[c], b0 = cb0[c], mu = m[c];
      for (int64_t l = 0; l < L; ++l) q[l] = a * gp[l] + b1 * (xp[l] - mu) + b0;
    });
  });
}

}  // namespace mytensor::cpu
