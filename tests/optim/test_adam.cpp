// Adam (optim/adam.hpp): convergence on Rosenbrock, bias correction of the first step, and a clean
// stop at the first non-finite value.
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/tensor.hpp>
#include <nst/optim/optim.hpp>

#include "test_functions.hpp"

using nst::tensor1;
using namespace nst::test;

TEMPLATE_TEST_CASE("adam minimises the Rosenbrock function", "[optim][adam]", double, float) {
    typename nst::adam<TestType>::options opts;
    opts.learning_rate = 1e-2;
    opts.max_iterations = 5000;
    nst::adam<TestType> solver(opts);
    tensor1<TestType> x = rosenbrock_start<TestType>();
    const auto r = solver.minimize(rosenbrock<TestType>{}, x);
    INFO("reason " << r.reason << ", x = " << x(0) << ", " << x(1));
    CHECK(distance_to_one(x) <= 1e-2);
    CHECK(r.evaluations == r.iterations + 1);
}

TEST_CASE("adam's first step has length learning_rate in every coordinate (bias correction)", "[optim][adam]") {
    // m_hat = g and v_hat = g^2 after one step, so each element moves by lr * g / (|g| + eps).
    // Without bias correction the step would be 0.1 / sqrt(0.001) = 3.2x longer.
    struct scaled_sphere {
        double operator()(const tensor1<double>& x, tensor1<double>& g) const {
            g = tensor1<double>{1.0, 100.0, 1e-3} * x;
            return 0.5 * xt::sum(g * x)();
        }
    };
    typename nst::adam<double>::options opts;
    opts.learning_rate = 0.05;
    opts.max_iterations = 1;
    tensor1<double> x = {1.0, -1.0, 2.0};
    const tensor1<double> start = x;
    const auto r = nst::adam<double>(opts).minimize(scaled_sphere{}, x);
    REQUIRE(r.iterations == 1);
    const double expected[3] = {-0.05, 0.05, -0.05};
    for (std::size_t i = 0; i < 3; ++i) CHECK(x(i) - start(i) == Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE("adam stops at a NaN and keeps the last finite point", "[optim][adam]") {
    struct cliff {  // f = -x, undefined for x >= 1
        double operator()(const tensor1<double>& x, tensor1<double>& g) const {
            g(0) = -1.0;
            return x(0) < 1.0 ? -x(0) : std::numeric_limits<double>::quiet_NaN();
        }
    };
    typename nst::adam<double>::options opts;
    opts.learning_rate = 0.1;
    tensor1<double> x = {0.75};
    const auto r = nst::adam<double>(opts).minimize(cliff{}, x);
    CHECK(r.reason == nst::stop_reason::non_finite);
    CHECK(r.iterations == 2);  // 0.85, 0.95 are fine; 1.05 is not
    CHECK(x(0) == Approx(0.95));
    CHECK(r.loss == Approx(-0.95));
    CHECK(r.non_finite.iteration == 3);
    CHECK(r.non_finite.evaluation == 4);
    CHECK(r.non_finite.loss);
    CHECK_FALSE(r.non_finite.gradient);
}

TEST_CASE("adam with an absurd learning rate stops cleanly at the first overflow", "[optim][adam]") {
    typename nst::adam<float>::options opts;
    opts.learning_rate = 1e9;
    tensor1<float> x = rosenbrock_start<float>();
    std::vector<std::vector<double>> seen;
    auto remember = [&](const auto& s) { seen.push_back(to_vector(s.x)); };
    const auto r = nst::adam<float>(opts).minimize(rosenbrock<float>{}, x, remember);
    CHECK(r.reason == nst::stop_reason::non_finite);
    REQUIRE(seen.size() == r.iterations + 1);
    CHECK(to_vector(x) == seen.back());  // the last point callbacks saw, all finite
    CHECK(std::isfinite(x(0)));
    CHECK(std::isfinite(x(1)));
    CHECK(std::isfinite(r.loss));
    CHECK(r.non_finite.iteration == r.iterations + 1);
    CHECK(r.non_finite.loss);  // the loss overflows float
    CHECK(nst::to_string(r.non_finite).find("iteration " + std::to_string(r.iterations + 1)) != std::string::npos);
}
