// CPU reductions over a contiguous (outer, r, inner) input.
#include "core/dispatch.h"
#include "cpu/kernels.h"
#include "cpu/loops.h"

namespace mytensor::cpu {

namespace {
// Float sums accumulate in double: exact enough to match PyTorch's cascade summation.
template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
}  // namespace

void sum(const Tensor& x, const ReduceDims& d, double scale, const Tensor& out) {
  dispatch<Accepts::Numeric>(x.dtype(), "sum", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    const T* in = x.data<T>();
    T* o = out.data<T>();
    auto finish = [scale](A v) {
      if constexpr (std::is_floating_point_v<T>) return static_cast<T>(v * scale);
      else return static_cast<T>(v);
    };
    if (d.inner == 1) {
      parallel_for(d.outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(d.r, 1)),
                   [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const T* row = in + i * d.r;
          A acc = 0;
          for (int64_t k = 0; k < d.r; ++k) acc += static_cast<A>(row[k]);
          o[i] = finish(acc);
        }
      });
      return;
    }
    parallel_for(d.outer, 1, [&](int64_t b, int64_t e) {
      std::vector<A> acc(d.inner);
      for (int64_t i = b; i < e; ++i) {
        std::fill(acc.begin(), acc.end(), A(0));
        const T* block = in + i * d.r * d.inner;
        for (int64_t k = 0; k < d.r; ++k) {
          const T* row = block + k * d.inner;
          for (int64_t j = 0; j < d.inner; ++j) acc[j] += static_cast<A>(row[j]);
        }
        for (int64_t j = 0; j < d.inner; ++j) o[i * d.inner + j] = finish(acc[j]);
      }
    });
  });
}

}  // namespace mytensor::cpu
