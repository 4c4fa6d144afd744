// CPU reductions over a contiguous (outer, r, inner) input: sum, max/min (+ indices), var,
// logsumexp, and the fused softmax / log_softmax forward and backward along r.
#include <cmath>
#include <limits>
#include <vector>

#include "core/dispatch.h"
#include "core/functors.h"
#include "cpu/fast_exp.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {

// Float reductions accumulate in double: exact enough to match PyTorch's cascade summation.
template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

constexpr int64_t kLaneChunk = 256;  // output lanes (along inner) one task reduces at once

int64_t max_threads() {
#ifdef _OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

// The reduction driver. An Op reduces one output lane (i, j) of the (outer, r, inner) input:
//   Acc init() const;  void step(Acc&, T v, int64_t k, int64_t lane) const;
//   void merge(Acc& a, const Acc& b) const   (a and b cover disjoint k; order-independent);
// and write(lane, acc) stores the result. Work is split over outer rows and chunks of inner
// lanes; when that gives fewer tasks than threads (a full reduction, or a sum over dim 0 of a
// (50000, 10) tensor), r is also split into segments whose partial results are merged.
template <class T, class Op, class Write>
void reduce_lanes(const T* in, const ReduceDims& d, const Op& op, Write&& write) {
  using Acc = typename Op::Acc;
  const int64_t lanes = d.outer * d.inner;
  if (lanes == 0) return;
  const int64_t chunk = std::min<int64_t>(d.inner, kLaneChunk);
  const int64_t chunks = (d.inner + chunk - 1) / chunk;
  const int64_t tasks = d.outer * chunks;
  const int64_t threads = max_threads();
  int64_t segs = 1;
  if (tasks < threads && lanes * d.r > kGrain) {
    segs = std::min<int64_t>(threads, std::max<int64_t>(1, d.r / 1024));
  }
  const int64_t seg_len = (d.r + segs - 1) / std::max<int64_t>(segs, 1);

  // Reduces lanes [j0, j0 + n) of outer row i over k in [k0, k1) into acc[0, n).
  auto run = [&](int64_t i, int64_t j0, int64_t n, int64_t k0, int64_t k1, Acc* acc) {
    const int64_t lane0 = i * d.inner + j0;
    if (d.inner == 1) {
      // Four interleaved accumulators break the dependency chain (merge is order-independent).
      const T* row = in + i * d.r;
      Acc a0 = op.init(), a1 = op.init(), a2 = op.init(), a3 = op.init();
      int64_t k = k0;
      for (; k + 4 <= k1; k += 4) {
        op.step(a0, row[k], k, lane0);
        op.step(a1, row[k + 1], k + 1, lane0);
        op.step(a2, row[k + 2], k + 2, lane0);
        op.step(a3, row[k + 3], k + 3, lane0);
      }
      for (; k < k1; ++k) op.step(a0, row[k], k, lane0);
      op.merge(a0, a1);
      op.merge(a2, a3);
      op.merge(a0, a2);
      acc[0] = a0;
      return;
    }
    for (int64_t j = 0; j < n; ++j) acc[j] = op.init();
    for (int64_t k = k0; k < k1; ++k) {
      const T* row = in + (i * d.r + k) * d.inner + j0;
      for (int64_t j = 0; j < n; ++j) op.step(acc[j], row[j], k, lane0 + j);
    }
  };

  if (segs == 1) {
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.r * chunk));
    parallel_for(tasks, grain, [&](int64_t b, int64_t e) {
      std::vector<Acc> acc(chunk);
      for (int64_t t = b; t < e; ++t) {
        int64_t i = t / chunks, j0 = (t % chunks) * chunk;
        int64_t n = std::min(chunk, d.inner - j0);
        run(i, j0, n, 0, d.r, acc.data());
        for (int64_t j = 0; j < n; ++j) write(i * d.inner + j0 + j, acc[j]);
      }
    });
    return;
  }
  std::vector<Acc> partial(segs * lanes);
  parallel_for(tasks * segs, 0, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t s = t / tasks, task = t % tasks;
      int64_t i = task / chunks, j0 = (task % chunks) * chunk;
      int64_t n = std::min(chunk, d.inner - j0);
      int64_t k0 = std::min(d.r, s * seg_len), k1 = std::min(d.r, k0 + seg_len);
      run(i, j0, n, k0, k1, partial.data() + s * lanes + i * d.inner + j0);
    }
  });
  for (int64_t lane = 0; lane < lanes; ++lane) {
    Acc a = partial[lane];
    for (int64_t s = 1; s < segs; ++s) op.merge(a, partial[s * lanes + lane]);
    write(lane, a);
  }
}

template <class T>
struct SumOp {
  using Acc = acc_t<T>;
  Acc init() const { return Acc(0); }
  void step(Acc& a, T v, int64_t, int64_t) const {
    a = functors::wrapping_add(a, static_cast<Acc>(v));  // int64 sums wrap, as in PyTorch
  }
  void merge(Acc& a, const Acc& b) const { a = functors::wrapping_add(a, b); }
};

// max (Max = true) or min with the index of the first extreme; NaN wins (the first NaN).
template <class T, bool Max>
struct ArgExtremeOp {
  struct Acc {
    T v;
    int64_t k;  // -1: nothing seen yet
  };
  static bool better(T v, T cur) {
    if (v != v) return cur == cur;  // NaN beats any number (for ints v != v is false)
    return Max ? v > cur : v < cur;
  }
  Acc init() const { return {T(0), -1}; }
  void step(Acc& a, T v, int64_t k, int64_t) const {
    if (a.k < 0 || better(v, a.v)) a = {v, k};
  }
  void merge(Acc& a, const Acc& b) const {
    if (b.k < 0) return;
    if (a.k < 0 || better(b.v, a.v) || (!better(a.v, b.v) && b.k < a.k)) a = b;
  }
};

// Sums of (x - center[lane]) and its square: the second pass of a two-pass variance.
template <class T>
struct CenteredSquaresOp {
  struct Acc {
    double s = 0, s2 = 0;
  };
  const double* center;
  Acc init() const { return {}; }
  void step(Acc& a, T v, int64_t, int64_t lane) const {
    double dv = static_cast<double>(v) - center[lane];
    a.s += dv;
    a.s2 += dv * dv;
  }
  void merge(Acc& a, const Acc& b) const {
    a.s += b.s;
    a.s2 += b.s2;
  }
};

// Sum of exp(x - shift[lane]): the second pass of logsumexp.
template <class T>
struct SumExpOp {
  using Acc = double;
  const double* shift;
  Acc init() const { return 0.0; }
  void step(Acc& a, T v, int64_t, int64_t lane) const {
    a += exp_nonpos(static_cast<T>(v - static_cast<T>(shift[lane])));
  }
  void merge(Acc& a, const Acc& b) const { a += b; }
};

template <bool Max>
void extreme(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices,
             const char* op) {
  dispatch<Accepts::Numeric>(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* vals = values.defined() ? values.data<T>() : nullptr;
    int64_t* idx = indices.defined() ? indices.data<int64_t>() : nullptr;
    using Op = ArgExtremeOp<T, Max>;
    reduce_lanes(x.data<T>(), d, Op{}, [&](int64_t lane, const typename Op::Acc& a) {
      if (vals) vals[lane] = a.v;
      if (idx) idx[lane] = a.k;
    });
  });
}

// Runs f(i, j0, n) over every outer row i and chunk of inner lanes [j0, j0 + n), in parallel.
// Used by the softmax kernels, which read each lane's r values several times.
template <class F>
void for_each_lane_chunk(const ReduceDims& d, F&& f) {
  const int64_t chunk = std::min<int64_t>(d.inner, kLaneChunk);
  if (chunk == 0) return;
  const int64_t chunks = (d.inner + chunk - 1) / chunk;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.r * chunk));
  parallel_for(d.outer * chunks, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t i = t / chunks, j0 = (t % chunks) * chunk;
      f(i, j0, std::min(chunk, d.inner - j0));
    }
  });
}

// Max of a row; NaN is not propagated here (it propagates through the exp sum instead).
// Eight partial maxima let the compiler vectorize.
template <class T>
T row_max(const T* p, int64_t n) {
  T acc[8];
  for (int l = 0; l < 8; ++l) acc[l] = -std::numeric_limits<T>::infinity();
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int l = 0; l < 8; ++l) acc[l] = p[k + l] > acc[l] ? p[k + l] : acc[l];
  for (; k < n; ++k) acc[0] = p[k] > acc[0] ? p[k] : acc[0];
  T m = acc[0];
  for (int l = 1; l < 8; ++l) m = acc[l] > m ? acc[l] : m;
  return m;
}

// Sum of a row in double, with eight partial sums (vectorizable, and more accurate).
template <class T>
double row_sum(const T* p, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int l = 0; l < 8; ++l) acc[l] += static_cast<double>(p[k + l]);
  for (; k < n; ++k) acc[0] += static_cast<double>(p[k]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace

void sum(const Tensor& x, const ReduceDims& d, double scale, const Tensor& out) {
  dispatch<Accepts::Numeric>(x.dtype(), "sum", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    reduce_lanes(x.data<T>(), d, SumOp<T>{}, [&](int64_t lane, acc_t<T> v) {
      if constexpr (std::is_floating_point_v<T>) o[lane] = static_cast<T>(v * scale);
      else o[lane] = static_cast<T>(v);
    });
  });
}

void max(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices) {
  extreme<true>(x, d, values, indices, "max");
}

void min(const Tensor& x, const ReduceDims& d, const Tensor& values, const Tensor& indices) {
  extreme<false>(x, d, values, indices, "min");
}

// Two passes: the mean, then sum((x - mean)^2) - (sum(x - mean))^2 / r (the corrected two-pass
// algorithm, accurate even when |mean| >> std). Divides by max(0, r - correction) as PyTorch.
void var(const Tensor& x, const ReduceDims& d, double correction, const Tensor& out) {
  dispatch<Accepts::Floating>(x.dtype(), "var", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    const int64_t lanes = d.outer * d.inner;
    std::vector<double> mean(lanes);
    const double rn = static_cast<double>(d.r);
    reduce_lanes(in, d, SumOp<T>{}, [&](int64_t lane, double v) { mean[lane] = v / rn; });
    const double dof = std::max(0.0, rn - correction);
    T* o = out.data<T>();
    using Op = CenteredSquaresOp<T>;
    reduce_lanes(in, d, Op{mean.data()}, [&](int64_t lane, const typename Op::Acc& a) {
      o[lane] = static_cast<T>((a.s2 - a.s * a.s / rn) / dof);
    });
  });
}

// max m, then m + log(sum exp(x - m)). A lane whose max is infinite gives that max (all -inf:
// -inf; some +inf: +inf), an empty lane -inf, a lane with NaN NaN: PyTorch's results.
void logsumexp(const Tensor& x, const ReduceDims& d, const Tensor& out) {
  dispatch<Accepts::Floating>(x.dtype(), "logsumexp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* o = out.data<T>();
    if (d.inner == 1 && d.outer >= max_threads()) {
      // Rows: max, then exp in blocks that stay in L1 and vectorize, summed in double.
      const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.r));
      parallel_for(d.outer, grain, [&](int64_t b, int64_t e) {
        T tmp[1024];
        for (int64_t i = b; i < e; ++i) {
          const T* row = in + i * d.r;
          const T m = row_max(row, d.r);  // skips NaN, which the sum below then carries
          if (std::isinf(m)) {  // the result is the infinite max, unless a NaN is present
            bool nan = false;
            for (int64_t k = 0; k < d.r; ++k) nan = nan || row[k] != row[k];
            o[i] = nan ? std::numeric_limits<T>::quiet_NaN() : m;
            continue;
          }
          double s = 0.0;
          for (int64_t k0 = 0; k0 < d.r; k0 += 1024) {
            const int64_t n = std::min<int64_t>(1024, d.r - k0);
            exp_sub(row + k0, &m, 0, tmp, n);
            s += row_sum(tmp, n);
          }
          o[i] = static_cast<T>(std::log(s) + m);
        }
      });
      return;
    }
    const int64_t lanes = d.outer * d.inner;
    std::vector<double> shift(lanes);
    using MaxOp = ArgExtremeOp<T, true>;
    reduce_lanes(in, d, MaxOp{}, [&](int64_t lane, const typename MaxOp::Acc& a) {
      shift[lane] = a.k < 0 ? -std::numeric_limits<double>::infinity() : static_cast<double>(a.v);
    });
    reduce_lanes(in, d, SumExpOp<T>{shift.data()}, [&](int64_t lane, double s) {
      o[lane] = static_cast<T>(std::isinf(shift[lane]) ? shift[lane] : std::log(s) + shift[lane]);
    });
  });
}

// Per lane: m = max (NaN propagates through the sum), s = sum exp(x - m) in double, then
// softmax = exp(x - m) / s or log_softmax = (x - m) - log(s), in that order as PyTorch: x - (m +
// log(s)) would round log(s) away at |x| >= 1e16. A lane of all -inf gives NaN, as PyTorch. The
// exp values are parked in out between the passes.
void softmax(const Tensor& x, const ReduceDims& d, bool log, const Tensor& out) {
  dispatch<Accepts::Floating>(x.dtype(), "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* o = out.data<T>();
    if (d.inner == 1) {
      const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.r));
      parallel_for(d.outer, grain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const T* row = in + i * d.r;
          T* orow = o + i * d.r;
          const T m = row_max(row, d.r);
          exp_sub(row, &m, 0, orow, d.r);
          const double s = row_sum(orow, d.r);
          if (log) {
            const T log_s = static_cast<T>(std::log(s));
            for (int64_t k = 0; k < d.r; ++k) orow[k] = (row[k] - m) - log_s;
          } else {
            const T inv = static_cast<T>(1.0 / s);
            for (int64_t k = 0; k < d.r; ++k) orow[k] *= inv;
          }
        }
      });
      return;
    }
    for_each_lane_chunk(d, [&](int64_t i, int64_t j0, int64_t n) {
      T m[kLaneChunk], log_s[kLaneChunk];
      double s[kLaneChunk];
      const int64_t base = i * d.r * d.inner + j0;
      for (int64_t j = 0; j < n; ++j) {
        m[j] = -std::numeric_limits<T>::infinity();
        s[j] = 0.0;
      }
      for (int64_t k = 0; k < d.r; ++k) {
        const T* row = in + base + k * d.inner;
        for (int64_t j = 0; j < n; ++j) m[j] = row[j] > m[j] ? row[j] : m[j];
      }
      for (int64_t k = 0; k < d.r; ++k) {
        const T* row = in + base + k * d.inner;
        T* orow = o + base + k * d.inner;
        exp_sub(row, m, 1, orow, n);
        for (int64_t j = 0; j < n; ++j) s[j] += orow[j];
      }
      if (log) {
        for (int64_t j = 0; j < n; ++j) log_s[j] = static_cast<T>(std::log(s[j]));
      } else {
        for (int64_t j = 0; j < n; ++j) s[j] = 1.0 / s[j];
      }
      for (int64_t k = 0; k < d.r; ++k) {
        const T* row = in + base + k * d.inner;
        T* orow = o + base + k * d.inner;
        if (log) {
          for (int64_t j = 0; j < n; ++j) orow[j] = (row[j] - m[j]) - log_s[j];
        } else {
          for (int64_t j = 0; j < n; ++j) orow[j] = static_cast<T>(orow[j] * s[j]);
        }
      }
    });
  });
}

// softmax: grad_in = y * (g - sum(g * y)); log_softmax: grad_in = g - exp(y) * sum(g).
void softmax_backward(const Tensor& grad, const Tensor& out, const ReduceDims& d, bool log,
                      const Tensor& grad_in) {
  dispatch<Accepts::Floating>(out.dtype(), "softmax_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* g = grad.data<T>();
    const T* y = out.data<T>();
    T* gi = grad_in.data<T>();
    for_each_lane_chunk(d, [&](int64_t i, int64_t j0, int64_t n) {
      double s[kLaneChunk];
      const int64_t base = i * d.r * d.inner + j0;
      for (int64_t j = 0; j < n; ++j) s[j] = 0.0;
      for (int64_t k = 0; k < d.r; ++k) {
        const int64_t off = base + k * d.inner;
        if (log) {
          for (int64_t j = 0; j < n; ++j) s[j] += g[off + j];
        } else {
          for (int64_t j = 0; j < n; ++j) s[j] += static_cast<double>(g[off + j]) * y[off + j];
        }
      }
      for (int64_t k = 0; k < d.r; ++k) {
        const int64_t off = base + k * d.inner;
        if (log) {
          for (int64_t j = 0; j < n; ++j)
            gi[off + j] = static_cast<T>(g[off + j] - exp_nonpos(y[off + j]) * s[j]);
        } else {
          for (int64_t j = 0; j < n; ++j)
            gi[off + j] = static_cast<T>(y[off + j] * (g[off + j] - s[j]));
        }
      }
    });
  });
}

}  // namespace mytensor::cpu
