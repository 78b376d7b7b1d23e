// The ready-made callbacks (optim/callbacks.hpp): stop_flag, stop_after_seconds, record_history.
#include <atomic>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/tensor.hpp>
#include <nst/optim/optim.hpp>

#include "test_functions.hpp"

using nst::tensor1;
using namespace nst::test;

TEST_CASE("ready-made callbacks: stop_flag and stop_after_seconds", "[optim][callbacks]") {
    std::atomic<bool> flag{false};
    std::vector<double> losses;
    // A callback listed before stop_flag raises the flag at iteration 2: the run stops there.
    auto raise_at_2 = [&](const auto& s) {
        if (s.iteration == 2) flag = true;
    };
    tensor1<double> x = rosenbrock_start<double>();
    auto r = nst::lbfgs<double>().minimize(rosenbrock<double>{}, x, raise_at_2, nst::stop_flag(flag),
                                           nst::record_history(losses));
    CHECK(r.reason == nst::stop_reason::stopped_by_callback);
    CHECK(r.iterations == 2);
    CHECK(losses.size() == 3);  // every callback still ran at the stopping iteration

    // Already set: stops at iteration 0 without taking a step.
    x = rosenbrock_start<double>();
    r = nst::adam<double>().minimize(rosenbrock<double>{}, x, nst::stop_flag(flag));
    CHECK(r.iterations == 0);
    CHECK(to_vector(x) == to_vector(rosenbrock_start<double>()));

    // A zero budget is spent before the first step; a huge one never ends the run.
    x = rosenbrock_start<double>();
    r = nst::lbfgs<double>().minimize(rosenbrock<double>{}, x, nst::stop_after_seconds{0.0});
    CHECK(r.reason == nst::stop_reason::stopped_by_callback);
    CHECK(r.iterations == 0);
    x = rosenbrock_start<double>();
    r = nst::lbfgs<double>().minimize(rosenbrock<double>{}, x, nst::stop_after_seconds{1e9});
    CHECK(r.converged());
}
