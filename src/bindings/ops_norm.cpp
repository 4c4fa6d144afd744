// Bindings of batch normalization.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "core/ops.h"

namespace nb = nanobind;
using namespace nb::literals;
using mytensor::Tensor;

void init_norm_ops(nb::module_& m) {
  m.def("batch_norm", &mytensor::batch_norm, "x"_a, "weight"_a.none(), "bias"_a.none(),
        "running_mean"_a.none(), "running_var"_a.none(), "training"_a, "momentum"_a, "eps"_a,
        "(y, save_mean, save_invstd); updates the running stats in place when training.");
  // Undefined grads (no weight) come back as None.
  m.def(
      "batch_norm_backward",
      [](const Tensor& grad_y, const Tensor& x, const std::optional<Tensor>& weight,
         const Tensor& save_mean, const Tensor& save_invstd, bool training) {
        auto [gx, gw, gb] =
            mytensor::batch_norm_backward(grad_y, x, weight, save_mean, save_invstd, training);
        auto opt = [](const Tensor& t) {
          return t.defined() ? std::optional<Tensor>(t) : std::nullopt;
        };
        return std::make_tuple(gx, opt(gw), opt(gb));
      },
      "grad_y"_a, "x"_a, "weight"_a.none(), "save_mean"_a, "save_invstd"_a, "training"_a,
      "(grad_x, grad_weight, grad_bias); the last two are None without weight.");
}
