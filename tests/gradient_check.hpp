// Finite-difference gradient checking for the tests: the public checker (nst/layers/test_layer.hpp)
// under the names the tests use.
#pragma once

#include <nst/layers/test_layer.hpp>

namespace nst::test {

using nst::gradient_error;
using nst::random_tensor;
using nst::test_layer;

}  // namespace nst::test
