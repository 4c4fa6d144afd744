// Fused optimizer steps: validate every parameter's gradient and state once, then one backend call
// updates all of them (one loop on the CPU, one launch on the GPU).
#include <cmath>

#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"
#include "cuda/runtime.h"

namespace mytensor {

namespace {

void check_hyper(bool ok, const char* op, const char* name, double value) {
  MT_CHECK(ok && !std::isnan(value), std::invalid_argument, "[", op, "] invalid ", name, ": ",
           value);
}

// Checks that `list` has one tensor per parameter, each with the parameter's shape, dtype and
// device, and contiguous (state tensors are updated in place through flat pointers).
void check_list(const std::vector<Tensor>& params, const std::vector<Tensor>& list,
                const char* op, const char* name) {
  MT_CHECK(list.size() == params.size(), std::invalid_argument, "[", op, "] expected one ", name,
           " per parameter, got ", list.size(), " ", name, " for ", params.size(), " params");
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    const Tensor& t = list[i];
    MT_CHECK(t.defined(), std::invalid_argument, "[", op, "] ", name, "[", i, "] is undefined");
    MT_CHECK(t.shape() == p.shape(), ShapeError, "[", op, "] ", name, "[", i, "] has shape ",
             shape_str(t.shape()), " but params[", i, "] has shape ", shape_str(p.shape()));
    MT_CHECK(t.dtype() == p.dtype(), DTypeError, "[", op, "] ", name, "[", i, "] is ",
             dtype_name(t.dtype()), " but params[", i, "] is ", dtype_name(p.dtype()));
    MT_CHECK(t.device() == p.device(), DeviceError, "[", op, "] ", name, "[", i, "] is on ",
             t.device().str(), " but params[", i, "] is on ", p.device().str());
  }
}

void check_params(const std::vector<Tensor>& params, const char* op) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    MT_CHECK(p.defined(), std::invalid_argument, "[", op, "] params[", i, "] is undefined");
    MT_CHECK(p.dtype() == DType::Float32 || p.dtype() == DType::Float64, DTypeError, "[", op,
             "] params[", i, "] must be float32 or float64, got ", dtype_name(p.dtype()));
    MT_CHECK(p.dtype() == params[0].dtype(), DTypeError, "[", op,
             "] expected one dtype for all params of a call, got ", dtype_name(params[0].dtype()),
             " (params[0]) and ", dtype_name(p.dtype()), " (params[", i, "])");
    MT_CHECK(p.device() == params[0].device(), DeviceError, "[", op,
             "] expected all params on one device, got ", params[0].device().str(),
             " (params[0]) and ", p.device().str(), " (params[", i, "])");
    MT_CHECK(p.is_contiguous(), std::invalid_argument, "[", op, "] params[", i,
             "] of shape ", shape_str(p.shape()), " is not contiguous");
  }
}

void check_state(const std::vector<Tensor>& list, const char* op, const char* name) {
  for (size_t i = 0; i < list.size(); ++i)
    MT_CHECK(list[i].is_contiguous(), std::invalid_argument, "[", op, "] ", name, "[", i,
             "] is not contiguous");
}

// Gradients may be views (e.g. of an expanded tensor): the kernels read flat contiguous memory.
std::vector<Tensor> contiguous_all(const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  out.reserve(ts.size());
  for (const Tensor& t : ts) out.push_back(contiguous(t));
  return out;
}

void bump_all(const std::vector<Tensor>& ts) {
  for (const Tensor& t : ts) t.bump_version();
}

// The device address of graph slot `slot` (nullptr for -1): only inside a capture on the params'
// CUDA device (optim/optimizer.py asks for the slots there).
const double* resolve_slot(int64_t slot, const std::vector<Tensor>& params, const char* op,
                           const char* name) {
  if (slot < 0) return nullptr;
  MT_CHECK(!params.empty() && params[0].device().is_cuda() &&
               cuda::is_capturing(params[0].device().index),
           GraphCaptureError, "[", op, "] ", name,
           "_slot is only valid while a CUDA graph is being captured on the params' device");
  return static_cast<const double*>(cuda::slot_address(params[0].device().index, slot));
}

}  // namespace

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
               const std::vector<Tensor>& max_exp_avg_sqs, const AdamParams& p) {
  const char* op = "adam_step";
  check_hyper(p.lr >= 0, op, "learning rate", p.lr);
  check_hyper(p.eps >= 0, op, "epsilon value", p.eps);
  check_hyper(p.beta1 >= 0 && p.beta1 < 1, op, "beta parameter at index 0", p.beta1);
  check_hyper(p.beta2 >= 0 && p.beta2 < 1, op, "beta parameter at index 1", p.beta2);
  check_hyper(p.weight_decay >= 0, op, "weight_decay value", p.weight_decay);
  MT_CHECK(p.step >= 1, std::invalid_argument, "[", op, "] step must be >= 1, got ", p.step);
  check_params(params, op);
  check_list(params, grads, op, "grads");
  check_list(params, exp_avgs, op, "exp_avgs");
  check_list(params, exp_avg_sqs, op, "exp_avg_sqs");
  check_state(exp_avgs, op, "exp_avgs");
  check_state(exp_avg_sqs, op, "exp_avg_sqs");
  if (p.amsgrad) {
    check_list(params, max_exp_avg_sqs, op, "max_exp_avg_sqs");
    check_state(max_exp_avg_sqs, op, "max_exp_avg_sqs");
  } else {
    MT_CHECK(max_exp_avg_sqs.empty(), std::invalid_argument, "[", op,
             "] max_exp_avg_sqs must be empty without amsgrad, got ", max_exp_avg_sqs.size());
  }
  if (params.empty()) return;
  AdamParams resolved = p;
  resolved.lr_dev = resolve_slot(p.lr_slot, params, op, "lr");
  resolved.step_dev = resolve_slot(p.step_slot, params, op, "step");
  resolved.beta1_dev = resolve_slot(p.beta1_slot, params, op, "beta1");
  std::vector<Tensor> g = contiguous_all(grads);
  if (params[0].device().is_cuda())
    cuda::adam_step(params, g, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, resolved);
  else
    cpu::adam_step(params, g, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, resolved);
  bump_all(params);
  bump_all(exp_avgs);
  bump_all(exp_avg_sqs);
  bump_all(max_exp_avg_sqs);
}

void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& momentum_buffers, const SgdParams& p) {
  const char* op = "sgd_step";
  check_hyper(p.lr >= 0, op, "learning rate", p.lr);
  check_hyper(p.momentum >= 0, op, "momentum value", p.momentum);
  check_hyper(p.weight_decay >= 0, op, "weight_decay value", p.weight_decay);
  check_hyper(std::isfinite(p.dampening), op, "dampening value", p.dampening);
  MT_CHECK(!p.nesterov || (p.momentum > 0 && p.dampening == 0), std::invalid_argument, "[", op,
           "] nesterov momentum requires a momentum and zero dampening, got momentum ",
           p.momentum, " and dampening ", p.dampening);
  check_params(params, op);
  check_list(params, grads, op, "grads");
  if (p.momentum != 0) {
    check_list(params, momentum_buffers, op, "momentum_buffers");
    check_state(momentum_buffers, op, "momentum_buffers");
  } else {
    MT_CHECK(momentum_buffers.empty(), std::invalid_argument, "[", op,
             "] momentum_buffers must be empty without momentum, got ", momentum_buffers.size());
  }
  if (params.empty()) return;
  SgdParams resolved = p;
  resolved.lr_dev = resolve_slot(p.lr_slot, params, op, "lr");
  resolved.momentum_dev = resolve_slot(p.momentum_slot, params, op, "momentum");
  std::vector<Tensor> g = contiguous_all(grads);
  if (params[0].device().is_cuda())
    cuda::sgd_step(params, g, momentum_buffers, resolved);
  else
    cpu::sgd_step(params, g, momentum_buffers, resolved);
  bump_all(params);
  bump_all(momentum_buffers);
}

}  // namespace mytensor
