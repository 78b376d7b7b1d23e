// Adam (optim/adam.hpp): convergence on Rosenbrock, bias correction of the first step, a clean
// stop at the first non-finite value, and torch.optim.Adam's iterates.
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
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

TEMPLATE_TEST_CASE("adam takes torch.optim.Adam's steps", "[optim][adam]", double, float) {
    // The reference: torch 1.13 on the Rosenbrock function from (-1.2, 1), in float64 and float32:
    //     torch.optim.Adam([x], lr=0.05, betas=(0.8, 0.95), eps=1e-3), six step()s
    // (betas and eps away from the defaults, so that each of them shows in the iterates).
    const double torch64[6][2] = {
        {-1.1500002319098706, 1.0499994318246384}, {-1.102537320058633, 1.0976736299279766},
        {-1.0608186308813357, 1.1396533835156866}, {-1.028806851108457, 1.1711782995571762},
        {-1.0093446942663653, 1.1884374655553789}, {-1.002501955450407, 1.191304532790775}};
    const double torch32[6][2] = {
        {-1.1500003337860107, 1.049999475479126},  {-1.1025373935699463, 1.0976736545562744},
        {-1.0608186721801758, 1.1396534442901611}, {-1.0288069248199463, 1.1711783409118652},
        {-1.0093446969985962, 1.188437581062317},  {-1.0025019645690918, 1.1913046836853027}};
    const bool is_double = std::is_same_v<TestType, double>;
    const auto& torch = is_double ? torch64 : torch32;
    typename nst::adam<TestType>::options opts;
    opts.learning_rate = 0.05;
    opts.beta1 = 0.8;
    opts.beta2 = 0.95;
    opts.epsilon = 1e-3;
    opts.max_iterations = 6;
    std::vector<std::vector<double>> seen;
    tensor1<TestType> x = rosenbrock_start<TestType>();
    auto remember = [&](const auto& s) { seen.push_back(to_vector(s.x)); };
    nst::adam<TestType>(opts).minimize(rosenbrock<TestType>{}, x, remember);
    REQUIRE(seen.size() == 7);
    for (std::size_t k = 0; k < 6; ++k) {
        INFO("step " << k + 1);
        for (std::size_t i = 0; i < 2; ++i)
            CHECK(seen[k + 1][i] == Approx(torch[k][i]).epsilon(is_double ? 1e-13 : 1e-6));
    }
}
