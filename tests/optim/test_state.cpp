// The callback contract (optim/state.hpp), for both optimizers: what callbacks see of f's value
// at the accepted point, when they are called, and a callback stopping the run.
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/tensor.hpp>
#include <nst/optim/optim.hpp>

#include "test_functions.hpp"

using nst::tensor1;
using namespace nst::test;

namespace {

// A loss with parts, as nst::loss_value<T> has: f may return it instead of a number.
template <class T> struct rosenbrock_parts {
    T bend, valley;  // (1 - a)^2 and 100 (b - a^2)^2
    std::size_t call;  // which evaluation of f produced it
    explicit operator T() const { return bend + valley; }
};

template <class T> struct rosenbrock_with_parts {
    std::size_t calls = 0;
    rosenbrock_parts<T> operator()(const tensor1<T>& x, tensor1<T>& g) {
        rosenbrock<T>{}(x, g);
        const double a = x(0), b = x(1);
        return {static_cast<T>((1.0 - a) * (1.0 - a)), static_cast<T>(100.0 * (b - a * a) * (b - a * a)), ++calls};
    }
};

// Returns the number of evaluations of f that no callback was shown.
template <class T, class Optimizer> std::size_t check_value_is_the_accepted_points(Optimizer solver) {
    rosenbrock_with_parts<T> f;
    std::size_t callbacks = 0, last_call = 0;
    auto check_parts = [&](const auto& s) {
        static_assert(std::is_same_v<decltype(s.value), const rosenbrock_parts<T>&>);
        ++callbacks;
        CHECK(s.loss == static_cast<T>(s.value));
        tensor1<T> x = s.x, g = xt::zeros<T>({2});
        const rosenbrock_parts<T> again = rosenbrock_with_parts<T>{}(x, g);
        CHECK(s.value.bend == again.bend);
        CHECK(s.value.valley == again.valley);
        CHECK(to_vector(g) == to_vector(s.gradient));
        CHECK(s.value.call <= s.evaluations);
        CHECK(s.value.call >= last_call);  // never a value older than the previous point's
        last_call = s.value.call;
    };
    std::vector<T> losses;
    tensor1<T> x = rosenbrock_start<T>();
    const auto r = solver.minimize(f, x, check_parts, nst::record_history(losses), nst::stop_after_seconds{1e9});
    CHECK(callbacks == r.iterations + 1);
    CHECK(losses.size() == r.iterations + 1);
    return r.evaluations - (r.iterations + 1);
}

}  // namespace

TEMPLATE_TEST_CASE("callbacks see f's value with its parts at the accepted point", "[optim][callbacks]", double, float) {
    typename nst::lbfgs<TestType>::options lo;
    lo.wolfe_c2 = 0.1;  // more line-search trials between accepted points
    lo.max_iterations = 40;
    CHECK(check_value_is_the_accepted_points<TestType>(nst::lbfgs<TestType>(lo)) > 10);  // trials skipped
    typename nst::adam<TestType>::options ao;
    ao.learning_rate = 1e-2;
    ao.max_iterations = 40;
    CHECK(check_value_is_the_accepted_points<TestType>(nst::adam<TestType>(ao)) == 0);
}

TEST_CASE("f may return a move-only value: the optimizers never copy it", "[optim][callbacks]") {
    struct owned_loss {
        std::unique_ptr<double> loss;
        explicit operator double() const { return *loss; }
    };
    auto f = [](const tensor1<double>& x, tensor1<double>& g) {
        return owned_loss{std::make_unique<double>(rosenbrock<double>{}(x, g))};
    };
    auto check = [](const auto& s) { CHECK(*s.value.loss == s.loss); };
    tensor1<double> x = rosenbrock_start<double>();
    CHECK(nst::lbfgs<double>().minimize(f, x, check).converged());
    x = rosenbrock_start<double>();
    nst::adam<double>().minimize(f, x, check);
}

TEST_CASE("for a function returning the loss, state.value is that loss", "[optim][callbacks]") {
    auto same = [](const auto& s) {
        static_assert(std::is_same_v<decltype(s.value), const double&>);
        CHECK(s.value == s.loss);
    };
    tensor1<double> x = rosenbrock_start<double>();
    nst::lbfgs<double>().minimize(rosenbrock<double>{}, x, same);
    x = rosenbrock_start<double>();
    nst::adam<double>().minimize(rosenbrock<double>{}, x, same);
}

namespace {

template <template <class> class Optimizer> void check_callback_stop() {
    std::vector<std::size_t> seen;
    std::vector<double> x_seen;
    auto stop_at_3 = [&](const auto& s) {
        seen.push_back(s.iteration);
        x_seen = to_vector(s.x);
        return s.iteration < 3;
    };
    tensor1<double> x = rosenbrock_start<double>();
    const auto r = Optimizer<double>().minimize(rosenbrock<double>{}, x, stop_at_3);
    CHECK(r.reason == nst::stop_reason::stopped_by_callback);
    CHECK(r.iterations == 3);
    CHECK(seen == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(to_vector(x) == x_seen);  // x is where the callback saw it
}

template <template <class> class Optimizer> void check_void_callbacks() {
    std::vector<double> losses;
    std::size_t calls = 0;
    auto count = [&](const nst::iteration_state<double, tensor1<double>>&) { ++calls; };
    tensor1<double> x = rosenbrock_start<double>();
    typename Optimizer<double>::options opts;
    opts.max_iterations = 20;  // before either optimizer converges
    const auto r = Optimizer<double>(opts).minimize(rosenbrock<double>{}, x, nst::record_history(losses), count);
    CHECK(r.iterations == 20);  // void callbacks never stop the run
    CHECK(calls == r.iterations + 1);
    REQUIRE(losses.size() == r.iterations + 1);
    CHECK(losses.front() == Approx(24.2));  // f(-1.2, 1)
    CHECK(losses.back() == r.loss);
}

}  // namespace

TEST_CASE("a callback returning false stops the run at that iteration", "[optim][callbacks]") {
    SECTION("lbfgs") { check_callback_stop<nst::lbfgs>(); }
    SECTION("adam") { check_callback_stop<nst::adam>(); }
}

TEST_CASE("void callbacks are called at iteration 0 and after every step", "[optim][callbacks]") {
    SECTION("lbfgs") { check_void_callbacks<nst::lbfgs>(); }
    SECTION("adam") { check_void_callbacks<nst::adam>(); }
}
