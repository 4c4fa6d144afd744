// Bindings of reductions, softmax and losses.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "core/ops.h"

namespace nb = nanobind;
using namespace nb::literals;
using mytensor::Tensor;

void init_reduce_ops(nb::module_& m) {
  m.def("sum", &mytensor::sum, "x"_a, "dims"_a, "keepdim"_a);
  m.def("mean", &mytensor::mean, "x"_a, "dims"_a, "keepdim"_a);
  m.def("sum_to_shape", &mytensor::sum_to_shape, "grad"_a, "shape"_a);
  m.def("max_dim", &mytensor::max_dim, "x"_a, "dim"_a, "keepdim"_a,
        "(values, int64 indices) of the max along dim; ties give the first index, NaN wins.");
  m.def("min_dim", &mytensor::min_dim, "x"_a, "dim"_a, "keepdim"_a,
        "(values, int64 indices) of the min along dim; ties give the first index, NaN wins.");
  m.def("amax", &mytensor::amax, "x"_a, "dims"_a, "keepdim"_a);
  m.def("amin", &mytensor::amin, "x"_a, "dims"_a, "keepdim"_a);
  m.def("argmax", &mytensor::argmax, "x"_a, "dim"_a.none(), "keepdim"_a,
        "Index of the max along dim, or into the flattened tensor when dim is None.");
  m.def("argmin", &mytensor::argmin, "x"_a, "dim"_a.none(), "keepdim"_a);
  m.def("var", &mytensor::var, "x"_a, "dims"_a, "correction"_a, "keepdim"_a);
  m.def("logsumexp", &mytensor::logsumexp, "x"_a, "dims"_a, "keepdim"_a);
  m.def("softmax", &mytensor::softmax, "x"_a, "dim"_a);
  m.def("log_softmax", &mytensor::log_softmax, "x"_a, "dim"_a);
  m.def("softmax_backward", &mytensor::softmax_backward, "grad"_a, "out"_a, "dim"_a);
  m.def("log_softmax_backward", &mytensor::log_softmax_backward, "grad"_a, "out"_a, "dim"_a);

  // losses
  m.def("cross_entropy", &mytensor::cross_entropy, "logits"_a, "target"_a, "reduction"_a,
        "ignore_index"_a, "label_smoothing"_a,
        "(loss, stats): log-softmax fused with the NLL of int64 class targets; stats (N, 2), "
        "per row (max, log sum exp(x - max)), is saved for cross_entropy_backward.");
  m.def("cross_entropy_backward", &mytensor::cross_entropy_backward, "grad"_a, "logits"_a,
        "target"_a, "stats"_a, "reduction"_a, "ignore_index"_a, "label_smoothing"_a);
  m.def("nll_loss", &mytensor::nll_loss, "logp"_a, "target"_a, "reduction"_a, "ignore_index"_a);
  m.def("nll_loss_backward", &mytensor::nll_loss_backward, "grad"_a, "logp"_a, "target"_a,
        "reduction"_a, "ignore_index"_a);
}
