// Finite-difference gradient checking for the tests: the public checker (nst/layers/test_layer.hpp)
// under the names the tests use, the tolerance every double-precision gradient check allows, and
// a layer check that also looks at the shape backward returns.
#pragma once

#include <functional>
#include <random>
#include <utility>

#include <catch2/catch.hpp>

#include <nst/layers/test_layer.hpp>

namespace nst::test {

using nst::gradient_error;
using nst::random_tensor;
using nst::test_layer;

inline constexpr double tolerance = 1e-5;  // relative error allowed for every gradient check

// Checks layer.backward against finite differences of L(x) = sum(r * layer(x)).
template <class Layer>
double layer_gradient_error(const Layer& layer, const tensor3<double>& x0, std::mt19937& rng) {
    tensor3<double> y;
    layer.forward(x0, y);
    const tensor3<double> r = random_tensor<double, 3>(shape_of(y), rng);
    tensor3<double> dy = r;
    const tensor3<double> dx = layer.backward(x0, y, std::move(dy), shape_of(x0));
    REQUIRE(dx.shape() == x0.shape());
    std::function<double(const tensor3<double>&)> f = [&](const tensor3<double>& x) {
        tensor3<double> out;
        layer.forward(x, out);
        return double(xt::sum(out * r)());
    };
    return gradient_error(f, x0, dx, 0, rng);
}

}  // namespace nst::test
