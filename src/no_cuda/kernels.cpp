// Built when CUDA is off: every CUDA entry point raises DeviceError saying how to rebuild.
#include "core/check.h"
#include "cuda/kernels.h"
#include "cuda/runtime.h"

namespace mytensor::cuda {

namespace {
[[noreturn]] void unavailable(const char* op) {
  detail::throw_error<DeviceError>(
      "[", op, "] mytensor was built without CUDA; rebuild with nvcc on PATH "
      "(MYTENSOR_CUDA=ON uv sync --reinstall-package mytensor) to use 'cuda' devices");
}
}  // namespace

bool is_available() { return false; }
int device_count() { return 0; }
void synchronize(int) { unavailable("cuda.synchronize"); }
void check_device(int, const char* op) { unavailable(op); }
void* allocate(size_t, int) { unavailable("allocate"); }
void deallocate(void*, size_t, int) {}
int64_t memory_allocated(int) { return 0; }
int64_t max_memory_allocated(int) { return 0; }
int64_t memory_reserved(int) { return 0; }
void reset_peak_memory_stats(int) {}
void empty_cache() {}
void copy_host_to_device(void*, const void*, size_t, int) { unavailable("to"); }
void copy_device_to_host(void*, const void*, size_t, int) { unavailable("to"); }
void copy_device_to_device(void*, const void*, size_t, int) { unavailable("to"); }

void capture_begin(int) { unavailable("graphs"); }
int64_t capture_end(int) { unavailable("graphs"); }
void capture_abort(int) {}
bool is_capturing(int) { return false; }
bool is_capturing_any() { return false; }
int64_t capture_slots(int, int64_t) { unavailable("graphs"); }
const void* slot_address(int, int64_t) { unavailable("graphs"); }
const uint64_t* capture_random(int, uint64_t, uint64_t*) { unavailable("graphs"); }
GraphInfo graph_info(int64_t) { unavailable("graphs"); }
void replay(int64_t, const void*, size_t) { unavailable("graphs"); }
void destroy(int64_t) {}
GraphPoolStats graph_pool_stats(int) { return {}; }

}  // namespace mytensor::cuda

namespace mytensor::cuda {
namespace {
bool g_tf32_matmul = false, g_tf32_conv = true;
}
void set_allow_tf32(bool matmul, bool conv) {
  g_tf32_matmul = matmul;
  g_tf32_conv = conv;
}
bool allow_tf32_matmul() { return g_tf32_matmul; }
bool allow_tf32_conv() { return g_tf32_conv; }
}  // namespace mytensor::cuda

namespace mytensor::cuda {

void check_device_errors(int) {}

// ---- elementwise ------------------------------------------------------------------------------
void copy(const Tensor&, const Tensor&) { unavailable("copy"); }
void fill(const Tensor&, const Scalar&) { unavailable("fill"); }
void neg(const Tensor&, const Tensor&) { unavailable("neg"); }
void exp(const Tensor&, const Tensor&) { unavailable("exp"); }
void log(const Tensor&, const Tensor&) { unavailable("log"); }
void sqrt(const Tensor&, const Tensor&) { unavailable("sqrt"); }
void rsqrt(const Tensor&, const Tensor&) { unavailable("rsqrt"); }
void abs(const Tensor&, const Tensor&) { unavailable("abs"); }
void relu(const Tensor&, const Tensor&) { unavailable("relu"); }
void sigmoid(const Tensor&, const Tensor&) { unavailable("sigmoid"); }
void tanh(const Tensor&, const Tensor&) { unavailable("tanh"); }
void gelu(const Tensor&, const Tensor&) { unavailable("gelu"); }
void pow_scalar(const Tensor&, const Scalar&, const Tensor&) { unavailable("pow"); }
void clamp(const Tensor&, const std::optional<Scalar>&, const std::optional<Scalar>&,
           const Tensor&) {
  unavailable("clamp");
}
void relu_backward(const Tensor&, const Tensor&, const Tensor&) { unavailable("relu_backward"); }
void sigmoid_backward(const Tensor&, const Tensor&, const Tensor&) {
  unavailable("sigmoid_backward");
}
void tanh_backward(const Tensor&, const Tensor&, const Tensor&) { unavailable("tanh_backward"); }
void gelu_backward(const Tensor&, const Tensor&, const Tensor&) { unavailable("gelu_backward"); }
void add(const Tensor&, const Tensor&, const Tensor&) { unavailable("add"); }
void sub(const Tensor&, const Tensor&, const Tensor&) { unavailable("sub"); }
void mul(const Tensor&, const Tensor&, const Tensor&) { unavailable("mul"); }
void div(const Tensor&, const Tensor&, const Tensor&) { unavailable("div"); }
void pow(const Tensor&, const Tensor&, const Tensor&) { unavailable("pow"); }
void maximum(const Tensor&, const Tensor&, const Tensor&) { unavailable("maximum"); }
void minimum(const Tensor&, const Tensor&, const Tensor&) { unavailable("minimum"); }
void eq(const Tensor&, const Tensor&, const Tensor&) { unavailable("eq"); }
void ne(const Tensor&, const Tensor&, const Tensor&) { unavailable("ne"); }
void lt(const Tensor&, const Tensor&, const Tensor&) { unavailable("lt"); }
void le(const Tensor&, const Tensor&, const Tensor&) { unavailable("le"); }
void gt(const Tensor&, const Tensor&, const Tensor&) { unavailable("gt"); }
void ge(const Tensor&, const Tensor&, const Tensor&) { unavailable("ge"); }
void where(const Tensor&, const Tensor&, const Tensor&, const Tensor&) { unavailable("where"); }

// ---- reductions -------------------------------------------------------------------------------
void sum(const Tensor&, const ReduceDims&, double, const Tensor&) { unavailable("sum"); }
void max(const Tensor&, const ReduceDims&, const Tensor&, const Tensor&) { unavailable("max"); }
void min(const Tensor&, const ReduceDims&, const Tensor&, const Tensor&) { unavailable("min"); }
void var(const Tensor&, const ReduceDims&, double, const Tensor&) { unavailable("var"); }
void logsumexp(const Tensor&, const ReduceDims&, const Tensor&) { unavailable("logsumexp"); }
void softmax(const Tensor&, const ReduceDims&, bool, const Tensor&) { unavailable("softmax"); }
void softmax_backward(const Tensor&, const Tensor&, const ReduceDims&, bool, const Tensor&) {
  unavailable("softmax_backward");
}

// ---- losses -----------------------------------------------------------------------------------
void cross_entropy(const Tensor&, const Tensor&, int64_t, double, const Tensor&, const Tensor&) {
  unavailable("cross_entropy");
}
void cross_entropy_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t,
                            double, const Tensor&) {
  unavailable("cross_entropy_backward");
}
void nll_loss(const Tensor&, const Tensor&, int64_t, const Tensor&) { unavailable("nll_loss"); }
void nll_loss_backward(const Tensor&, const Tensor&, int64_t, const Tensor&) {
  unavailable("nll_loss_backward");
}

// ---- matmul, convolution, pooling -------------------------------------------------------------
void bmm(const Tensor&, const Tensor&, const Tensor&, bool) { unavailable("matmul"); }
void conv2d(const Tensor&, const Tensor&, const Tensor&, const Conv2dParams&, const Tensor&) {
  unavailable("conv2d");
}
void conv2d_backward_input(const Tensor&, const Tensor&, const Conv2dParams&, const Tensor&) {
  unavailable("conv2d_backward_input");
}
void conv2d_backward_weight(const Tensor&, const Tensor&, const Conv2dParams&, const Tensor&) {
  unavailable("conv2d_backward_weight");
}
void max_pool2d(const Tensor&, const Pool2dParams&, const Tensor&, const Tensor&) {
  unavailable("max_pool2d");
}
void max_pool2d_backward(const Tensor&, const Tensor&, const Tensor&) {
  unavailable("max_pool2d_backward");
}
void avg_pool2d(const Tensor&, const Pool2dParams&, const Tensor&) { unavailable("avg_pool2d"); }
void avg_pool2d_backward(const Tensor&, const Pool2dParams&, const Tensor&) {
  unavailable("avg_pool2d_backward");
}
void adaptive_avg_pool2d(const Tensor&, const Tensor&) { unavailable("adaptive_avg_pool2d"); }
void adaptive_avg_pool2d_backward(const Tensor&, const Tensor&) {
  unavailable("adaptive_avg_pool2d_backward");
}

// ---- normalization ----------------------------------------------------------------------------
void batch_norm_stats(const Tensor&, double, const Tensor&, const Tensor&, const Tensor&,
                      const Tensor&, double) {
  unavailable("batch_norm");
}
void batch_norm_apply(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                      const Tensor&) {
  unavailable("batch_norm");
}
void batch_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                         const Tensor&, const Tensor&, const Tensor&) {
  unavailable("batch_norm_backward");
}

// ---- random -----------------------------------------------------------------------------------
void uniform(const Tensor&, double, double, const PhiloxArgs&) { unavailable("uniform"); }
void normal(const Tensor&, double, double, const PhiloxArgs&) { unavailable("normal"); }
void randint(const Tensor&, int64_t, int64_t, const PhiloxArgs&) { unavailable("randint"); }
void dropout(const Tensor&, double, const PhiloxArgs&, const Tensor&, const Tensor&) {
  unavailable("dropout");
}

// ---- indexing ---------------------------------------------------------------------------------
void index_select(const Tensor&, const IndexDims&, const Tensor&, const Tensor&) {
  unavailable("index_select");
}
void index_add(const Tensor&, const IndexDims&, const Tensor&, const Tensor&) {
  unavailable("index_add");
}
void gather(const Tensor&, int64_t, const Tensor&, const Tensor&) { unavailable("gather"); }
void scatter_add(const Tensor&, int64_t, const Tensor&, const Tensor&) {
  unavailable("scatter_add");
}

// ---- optimizers -------------------------------------------------------------------------------
void adam_step(const std::vector<Tensor>&, const std::vector<Tensor>&, const std::vector<Tensor>&,
               const std::vector<Tensor>&, const std::vector<Tensor>&, const AdamParams&) {
  unavailable("adam_step");
}
void sgd_step(const std::vector<Tensor>&, const std::vector<Tensor>&, const std::vector<Tensor>&,
              const SgdParams&) {
  unavailable("sgd_step");
}

}  // namespace mytensor::cuda
