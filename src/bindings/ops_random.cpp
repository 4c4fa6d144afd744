// Bindings of the random generator and dropout.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "core/ops.h"

namespace nb = nanobind;
using namespace nb::literals;
using mytensor::Tensor;

void init_random_ops(nb::module_& m) {
  m.def("manual_seed", &mytensor::manual_seed, "seed"_a,
        "Seeds the generator shared by every device and resets its offset to 0.");
  m.def("get_rng_state", &mytensor::get_rng_state, "The generator's (seed, offset).");
  m.def("set_rng_state", &mytensor::set_rng_state, "seed"_a, "offset"_a);
  m.def("rand", &mytensor::rand, "shape"_a, "dtype"_a, "device"_a, "Uniform on [0, 1).");
  m.def("randn", &mytensor::randn, "shape"_a, "dtype"_a, "device"_a, "Standard normal.");
  m.def("randint", &mytensor::randint, "low"_a, "high"_a, "shape"_a, "dtype"_a, "device"_a,
        "Integers uniform on [low, high).");
  m.def("randperm", &mytensor::randperm, "n"_a, "dtype"_a, "device"_a,
        "A random permutation of 0..n-1.");
  m.def("dropout", &mytensor::dropout, "x"_a, "p"_a,
        "(out, mask): zeroes each element with probability p and scales the rest by 1/(1-p).");
}
