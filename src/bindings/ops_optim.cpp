// Bindings of the fused optimizer steps and of the fused data-augmentation op (training-loop ops).
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "core/ops.h"

namespace nb = nanobind;
using namespace nb::literals;
using mytensor::Tensor;
using TensorList = std::vector<Tensor>;

void init_optim_ops(nb::module_& m) {
  m.def(
      "adam_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
         const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, double lr,
         double beta1, double beta2, double eps, double weight_decay, int64_t step,
         bool decoupled, bool amsgrad, bool maximize, int64_t lr_slot, int64_t step_slot,
         int64_t beta1_slot) {
        mytensor::AdamParams p;
        p.lr = lr;
        p.beta1 = beta1;
        p.beta2 = beta2;
        p.eps = eps;
        p.weight_decay = weight_decay;
        p.step = step;
        p.decoupled = decoupled;
        p.amsgrad = amsgrad;
        p.maximize = maximize;
        p.lr_slot = lr_slot;
        p.step_slot = step_slot;
        p.beta1_slot = beta1_slot;
        mytensor::adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, p);
      },
      "params"_a, "grads"_a, "exp_avgs"_a, "exp_avg_sqs"_a, "max_exp_avg_sqs"_a, "lr"_a,
      "beta1"_a, "beta2"_a, "eps"_a, "weight_decay"_a, "step"_a, "decoupled"_a, "amsgrad"_a,
      "maximize"_a, "lr_slot"_a = -1, "step_slot"_a = -1, "beta1_slot"_a = -1,
      "One Adam/AdamW step over all params in place (step counts from 1; decoupled = AdamW).\n"
      "Inside a CUDA graph capture, lr_slot/step_slot/beta1_slot (_C.graphs.capture_slots) make "
      "the kernel read lr, step and beta1 from device memory that each replay rewrites.");
  m.def(
      "sgd_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers,
         double lr, double momentum, double dampening, double weight_decay, bool nesterov,
         bool first_step, bool maximize, int64_t lr_slot, int64_t momentum_slot) {
        mytensor::SgdParams p;
        p.lr = lr;
        p.momentum = momentum;
        p.dampening = dampening;
        p.weight_decay = weight_decay;
        p.nesterov = nesterov;
        p.first_step = first_step;
        p.maximize = maximize;
        p.lr_slot = lr_slot;
        p.momentum_slot = momentum_slot;
        mytensor::sgd_step(params, grads, momentum_buffers, p);
      },
      "params"_a, "grads"_a, "momentum_buffers"_a, "lr"_a, "momentum"_a, "dampening"_a,
      "weight_decay"_a, "nesterov"_a, "first_step"_a, "maximize"_a, "lr_slot"_a = -1,
      "momentum_slot"_a = -1,
      "One SGD step over all params in place (first_step: buffers start as the gradient; "
      "lr_slot/momentum_slot as the slots of adam_step).");
  m.def("augment_images", &mytensor::augment_images, "images"_a, "labels"_a, "indices"_a,
        "mean"_a, "stdev"_a, "padding"_a, "flip"_a, "seed"_a, "offset"_a,
        "params"_a.none() = nb::none(),
        "Gathers, randomly crops and flips, and normalises a batch of uint8 images in one pass; "
        "params (int32 (B, 3): dy, dx, flip per sample) replaces the random draws.");
}
