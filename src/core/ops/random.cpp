// The global counter-based generator (one (seed, offset) for every device, so CPU and CUDA draws
// agree) and the random ops: rand, randn, randint, randperm, dropout. Inside a CUDA graph capture,
// draws take their counters from graph slots (see reserve()).
#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>

// philox.h (via functors.h) comes before ops.h: its unqualified exp/log/sqrt must find the C
// math functions, not the tensor ops of the same names that ops.h declares in namespace mytensor.
#include "core/philox.h"

#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"
#include "cuda/runtime.h"

namespace mytensor {

namespace {

// PyTorch's default seed, so an unseeded program is reproducible too.
constexpr uint64_t kDefaultSeed = 67280421310721ull;

struct Generator {
  std::mutex mutex;
  uint64_t seed = kDefaultSeed;
  uint64_t offset = 0;
};

Generator& generator() {
  static Generator g;
  return g;
}

// Reserves counters [offset, offset + n) for one draw of `op` on `device`. The offset advances by
// n rounded up to a multiple of 4, so that draws never share a Philox counter.
// Inside a CUDA graph capture the generator is left alone: the draw gets an offset relative to the
// capture's first draw and the address of two slots that each replay fills with the generator's
// (seed, offset); graphs.py then advances the generator by what the graph consumed. So every replay
// draws fresh numbers, the same ones eager mode would.
PhiloxArgs reserve(int64_t n, Device device, const char* op) {
  if (cuda::is_capturing_any()) {
    MT_CHECK(device.is_cuda() && cuda::is_capturing(device.index), GraphCaptureError, "[graphs] ",
             op, " on ", device.str(),
             " inside a captured step: only work on the capturing CUDA device is replayed; "
             "draw on that device, or outside the step");
    PhiloxArgs args;
    args.base = cuda::capture_random(device.index, static_cast<uint64_t>(n), &args.offset);
    return args;
  }
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  PhiloxArgs args;
  args.seed = g.seed;
  args.offset = g.offset;
  g.offset += (static_cast<uint64_t>(n) + 3) / 4 * 4;
  return args;
}

// The generator's state is host data: read or set inside a capture, the value would be baked into
// the graph (every replay would draw the capture's numbers).
void refuse_in_capture(const char* op) {
  MT_CHECK(!cuda::is_capturing_any(), GraphCaptureError, "[graphs] ", op,
           " inside a captured step: the generator's state is read and set on the host, so a "
           "replay would not see it; call it outside the step (random ops inside the step draw "
           "fresh numbers at every replay)");
}

void check_shape(const Shape& shape, const char* op) {
  for (int64_t s : shape)
    MT_CHECK(s >= 0, ShapeError, "[", op, "] negative dimension in shape ", shape_str(shape));
  checked_numel(shape, op);
}

void check_float_dtype(DType dtype, const char* op) {
  MT_CHECK(dtype == DType::Float32 || dtype == DType::Float64, DTypeError, "[", op,
           "] dtype must be float32 or float64, got ", dtype_name(dtype));
}

// The inclusive range of values an integer-valued draw may take in `dtype`.
std::pair<double, double> dtype_range(DType dtype) {
  switch (dtype) {
    case DType::UInt8: return {0.0, 255.0};
    case DType::Int32: return {-2147483648.0, 2147483647.0};
    case DType::Float32: return {-16777216.0, 16777216.0};         // exact integers in float32
    case DType::Float64: return {-9007199254740992.0, 9007199254740992.0};
    default: return {-9223372036854775808.0, 9223372036854775807.0};
  }
}

}  // namespace

void manual_seed(uint64_t seed) {
  refuse_in_capture("manual_seed");
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.offset = 0;
}

std::tuple<uint64_t, uint64_t> get_rng_state() {
  refuse_in_capture("get_rng_state");
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  return {g.seed, g.offset};
}

void set_rng_state(uint64_t seed, uint64_t offset) {
  refuse_in_capture("set_rng_state");
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.offset = offset;
}

Tensor rand(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "rand");
  check_float_dtype(dtype, "rand");
  Tensor out = empty(shape, dtype, device);
  if (out.numel() == 0) return out;
  PhiloxArgs rng = reserve(out.numel(), device, "rand");
  if (device.is_cuda()) {
    cuda::uniform(out, 0.0, 1.0, rng);
  } else {
    cpu::uniform(out, 0.0, 1.0, rng);
  }
  return out;
}

Tensor randn(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "randn");
  check_float_dtype(dtype, "randn");
  Tensor out = empty(shape, dtype, device);
  if (out.numel() == 0) return out;
  PhiloxArgs rng = reserve(out.numel(), device, "randn");
  if (device.is_cuda()) {
    cuda::normal(out, 0.0, 1.0, rng);
  } else {
    cpu::normal(out, 0.0, 1.0, rng);
  }
  return out;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "randint");
  MT_CHECK(dtype != DType::Bool && dtype != DType::Float16 && dtype != DType::BFloat16,
           DTypeError, "[randint] dtype ", dtype_name(dtype),
           " is not supported (expected an integer type, float32 or float64)");
  MT_CHECK(low < high, std::invalid_argument, "[randint] expected low < high, got low=", low,
           " and high=", high);
  auto [lo, hi] = dtype_range(dtype);
  MT_CHECK(static_cast<double>(low) >= lo && static_cast<double>(high - 1) <= hi,
           std::invalid_argument, "[randint] range [", low, ", ", high,
           ") does not fit dtype ", dtype_name(dtype));
  Tensor out = empty(shape, dtype, device);
  if (out.numel() == 0) return out;
  PhiloxArgs rng = reserve(out.numel(), device, "randint");
  if (device.is_cuda()) {
    cuda::randint(out, low, high, rng);
  } else {
    cpu::randint(out, low, high, rng);
  }
  return out;
}

Tensor randperm(int64_t n, DType dtype, Device device) {
  MT_CHECK(n >= 0, std::invalid_argument, "[randperm] n must be non-negative, got ", n);
  MT_CHECK(dtype != DType::Bool && dtype != DType::Float16 && dtype != DType::BFloat16,
           DTypeError, "[randperm] dtype ", dtype_name(dtype),
           " is not supported (expected an integer type, float32 or float64)");
  MT_CHECK(n == 0 || static_cast<double>(n - 1) <= dtype_range(dtype).second,
           std::invalid_argument, "[randperm] n=", n, " is too large for dtype ",
           dtype_name(dtype));
  MT_CHECK(!cuda::is_capturing_any(), GraphCaptureError,
           "[graphs] randperm inside a captured step: its keys are drawn and sorted on the host, "
           "so every replay would return the capture's permutation; draw it outside the step and "
           "pass it in");
  // Built on the host: sort 0..n-1 by random 64-bit keys from the shared generator (ties, which
  // are astronomically rare, keep index order), then convert and copy to the device.
  Tensor host = Tensor::empty({n}, DType::Int64, Device{});
  if (n > 0) {
    const PhiloxArgs rng = reserve(n, Device{}, "randperm");
    const uint64_t seed = rng.seed, offset = rng.offset;
    std::vector<uint64_t> keys(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) keys[i] = philox::bits64(seed, offset + i);
    int64_t* p = host.data<int64_t>();
    std::iota(p, p + n, int64_t{0});
    std::stable_sort(p, p + n, [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
  }
  return to_device(to_dtype(host, dtype), device);
}

std::tuple<Tensor, Tensor> dropout(const Tensor& x, double p) {
  check_floating(x, "dropout", "input");
  MT_CHECK(p >= 0.0 && p <= 1.0, std::invalid_argument,
           "[dropout] expected a probability p in [0, 1], got ", p);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mask = Tensor::empty(x.shape(), DType::Bool, x.device());
  if (x.numel() == 0) return {out, mask};
  // p = 0 and p = 1 draw nothing: the result does not depend on the generator.
  if (p == 0.0) {
    copy_(out, x);
    fill_(mask, 1.0);
    return {out, mask};
  }
  if (p == 1.0) {
    out = mul(x, full({}, 0.0, x.dtype(), x.device()));  // x * 0, as PyTorch: NaN stays NaN
    fill_(mask, 0.0);
    return {out, mask};
  }
  // Element i (in row-major order of x) uses counter offset + i: pass x contiguous.
  Tensor xc = contiguous(x);
  PhiloxArgs rng = reserve(x.numel(), x.device(), "dropout");
  if (x.device().is_cuda()) {
    cuda::dropout(xc, p, rng, out, mask);
  } else {
    cpu::dropout(xc, p, rng, out, mask);
  }
  return {out, mask};
}

}  // namespace mytensor
