// What every nst optimizer promises (optim/optim.hpp), checked for L-BFGS and Adam alike: a stop
// with non_finite at a NaN mid-run, max_iterations respected, bad input and options refused.
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/tensor.hpp>
#include <nst/loss/objective.hpp>
#include <nst/optim/optim.hpp>

#include "test_functions.hpp"

using nst::tensor1;
using namespace nst::test;

namespace {

// The Rosenbrock function until it has been called k times; from then on its loss, its
// gradient or both are NaN (a term going bad mid-run).
struct nan_after {
    std::size_t k;
    bool loss, gradient;
    std::size_t calls = 0;
    double operator()(const tensor1<double>& x, tensor1<double>& g) {
        double value = rosenbrock<double>{}(x, g);
        if (++calls <= k) return value;
        if (gradient) g(1) = std::numeric_limits<double>::quiet_NaN();
        return loss ? std::numeric_limits<double>::quiet_NaN() : value;
    }
};

template <class Optimizer> void check_nan_after(Optimizer solver, std::size_t max_trials) {
    for (const auto& [loss, gradient] : {std::pair(true, false), std::pair(false, true), std::pair(true, true)}) {
        INFO("loss NaN " << loss << ", gradient NaN " << gradient);
        const std::size_t k = 12;
        nan_after f{k, loss, gradient};
        std::vector<double> last_x;
        std::size_t last_iteration = 0;
        double last_loss = 0.0;
        auto remember = [&](const auto& s) {
            last_x = to_vector(s.x);
            last_iteration = s.iteration;
            last_loss = s.loss;
        };
        tensor1<double> x = rosenbrock_start<double>();
        const auto r = solver.minimize(f, x, remember);
        CHECK(r.reason == nst::stop_reason::non_finite);
        CHECK(to_vector(x) == last_x);  // the last accepted point
        CHECK(r.iterations == last_iteration);
        CHECK(r.loss == last_loss);
        CHECK(std::isfinite(r.gradient_norm));
        CHECK(r.non_finite.iteration == r.iterations + 1);
        CHECK(r.non_finite.evaluation > k);
        CHECK(r.non_finite.evaluation == r.evaluations);
        CHECK(r.evaluations <= k + max_trials);  // stopped at once (L-BFGS: after one search)
        CHECK(r.non_finite.loss == loss);
        CHECK(r.non_finite.gradient == gradient);
    }
}

}  // namespace

TEST_CASE("a loss or gradient that turns NaN mid-run stops the run with non_finite", "[optim]") {
    SECTION("adam") { check_nan_after(nst::adam<double>(), 1); }
    SECTION("lbfgs") {
        nst::lbfgs<double>::options opts;
        check_nan_after(nst::lbfgs<double>(opts), opts.max_line_search_steps);
    }
}

namespace {

// The Rosenbrock function until its k-th call, which throws (an evaluation that failed or was
// cancelled).
struct throws_at {
    std::size_t k;
    std::size_t calls = 0;
    double operator()(const tensor1<double>& x, tensor1<double>& g) {
        if (++calls == k) throw std::runtime_error("evaluation failed");
        return rosenbrock<double>{}(x, g);
    }
};

template <class Optimizer> void check_throw_keeps_accepted_point(Optimizer solver) {
    for (const std::size_t k : {std::size_t(2), std::size_t(3), std::size_t(6)}) {
        INFO("f throws at call " << k);
        throws_at f{k};
        std::vector<double> last_x;
        auto remember = [&](const auto& s) { last_x = to_vector(s.x); };
        tensor1<double> x = rosenbrock_start<double>();
        CHECK_THROWS_WITH(solver.minimize(f, x, remember), "evaluation failed");
        CHECK(f.calls == k);
        CHECK(to_vector(x) == last_x);  // not the point f threw at (for L-BFGS a line-search trial)
    }
}

}  // namespace

TEST_CASE("an exception from f propagates with x at the last accepted point", "[optim]") {
    SECTION("adam") { check_throw_keeps_accepted_point(nst::adam<double>()); }
    SECTION("lbfgs") { check_throw_keeps_accepted_point(nst::lbfgs<double>()); }
}

namespace {

template <template <class> class Optimizer> void check_max_iterations() {
    for (const std::size_t max : {std::size_t(0), std::size_t(1), std::size_t(5)}) {
        INFO("max_iterations = " << max);
        typename Optimizer<double>::options opts;
        opts.max_iterations = max;
        tensor1<double> x = rosenbrock_start<double>();
        const auto r = Optimizer<double>(opts).minimize(rosenbrock<double>{}, x);
        CHECK(r.reason == nst::stop_reason::max_iterations);
        CHECK(r.iterations == max);
        if (max == 0) {
            CHECK(r.evaluations == 1);
            CHECK(to_vector(x) == to_vector(rosenbrock_start<double>()));
        }
    }
}

template <template <class> class Optimizer> void check_bad_input() {
    struct nan_loss {
        double operator()(const tensor1<double>&, tensor1<double>&) const {
            return std::numeric_limits<double>::quiet_NaN();
        }
    };
    struct nan_gradient {
        double operator()(const tensor1<double>&, tensor1<double>& g) const {
            g(0) = std::numeric_limits<double>::infinity();
            return 1.0;
        }
    };
    struct nan_both {
        double operator()(const tensor1<double>&, tensor1<double>& g) const {
            g(0) = std::numeric_limits<double>::infinity();
            return std::numeric_limits<double>::quiet_NaN();
        }
    };
    Optimizer<double> solver;
    tensor1<double> empty = xt::zeros<double>({0});
    CHECK_THROWS_AS(solver.minimize(rosenbrock<double>{}, empty), nst::invalid_argument);
    CHECK_THROWS_WITH(solver.minimize(rosenbrock<double>{}, empty), Catch::Contains("x is empty"));
    tensor1<double> x = rosenbrock_start<double>();
    CHECK_THROWS_AS(solver.minimize(nan_loss{}, x), nst::invalid_argument);
    CHECK_THROWS_WITH(solver.minimize(nan_loss{}, x), Catch::Contains("the loss at the starting point is not finite"));
    CHECK_THROWS_WITH(solver.minimize(nan_gradient{}, x),
                      Catch::Contains("the gradient at the starting point is not finite"));
    CHECK_THROWS_WITH(solver.minimize(nan_both{}, x),
                      Catch::Contains("the loss and gradient at the starting point are not finite"));
    CHECK_THROWS_AS(solver.minimize(nan_loss{}, x), nst::non_finite_start);  // an invalid_argument, by type
    CHECK_THROWS_AS(solver.minimize(nan_gradient{}, x), nst::invalid_argument);
}

}  // namespace

TEST_CASE("max_iterations is never exceeded", "[optim]") {
    SECTION("lbfgs") { check_max_iterations<nst::lbfgs>(); }
    SECTION("adam") { check_max_iterations<nst::adam>(); }
}

TEST_CASE("bad input throws with a message that says what is wrong", "[optim]") {
    SECTION("lbfgs") { check_bad_input<nst::lbfgs>(); }
    SECTION("adam") { check_bad_input<nst::adam>(); }
    SECTION("options") {
        nst::lbfgs<double>::options l;
        l.wolfe_c1 = 0.9;
        l.wolfe_c2 = 0.5;
        CHECK_THROWS_WITH(nst::lbfgs<double>(l), Catch::Contains("wolfe_c1 < wolfe_c2"));
        l = {};
        l.history_size = 0;
        CHECK_THROWS_AS(nst::lbfgs<double>(l), nst::invalid_argument);
        nst::adam<float>::options a;
        a.learning_rate = 0.0;
        CHECK_THROWS_WITH(nst::adam<float>(a), Catch::Contains("learning_rate"));
        a = {};
        a.beta2 = 1.0;
        CHECK_THROWS_AS(nst::adam<float>(a), nst::invalid_argument);
    }
}

TEST_CASE("an option check names the option and the refused value", "[optim]") {
    nst::lbfgs<double>::options l;
    l.gradient_tolerance = -1e-3;
    CHECK_THROWS_WITH(nst::lbfgs<double>(l), Catch::Contains("gradient_tolerance") && Catch::Contains("got -0.001"));
    l = {};
    l.first_step_length = -2.0;
    CHECK_THROWS_WITH(nst::lbfgs<double>(l), Catch::Contains("first_step_length") && Catch::Contains("got -2"));
    l = {};
    l.history_size = 0;
    CHECK_THROWS_WITH(nst::lbfgs<double>(l), Catch::Contains("history_size") && Catch::Contains("got 0"));
    nst::adam<double>::options a;
    a.learning_rate = -0.5;
    CHECK_THROWS_WITH(nst::adam<double>(a), Catch::Contains("learning_rate") && Catch::Contains("got -0.5"));
    a = {};
    a.beta1 = 1.5;
    CHECK_THROWS_WITH(nst::adam<double>(a), Catch::Contains("beta1") && Catch::Contains("got 1.5"));
    a = {};
    a.epsilon = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(nst::adam<double>(a), Catch::Contains("epsilon") && Catch::Contains("got nan"));
}

TEST_CASE("options that would break every run are refused, not left to fail as non_finite", "[optim]") {
    // Adam's epsilon 0: an element whose gradient has been 0 so far moves by 0 / 0 = NaN, which
    // the run then blamed on f ("the loss became non-finite at iteration 1").
    nst::adam<double>::options a;
    a.epsilon = 0.0;
    CHECK_THROWS_WITH(nst::adam<double>(a), Catch::Contains("epsilon") && Catch::Contains("got 0"));
    // An infinite learning rate or epsilon: x goes to inf or NaN, or never moves.
    const double inf = std::numeric_limits<double>::infinity();
    a = {};
    a.learning_rate = inf;
    CHECK_THROWS_WITH(nst::adam<double>(a), Catch::Contains("learning_rate") && Catch::Contains("got inf"));
    a = {};
    a.epsilon = inf;
    CHECK_THROWS_AS(nst::adam<double>(a), nst::invalid_argument);
    // An infinite first step: every trial of the first line search is beyond reach
    // (line_search_failed after max_line_search_steps evaluations).
    nst::lbfgs<double>::options l;
    l.first_step_length = inf;
    CHECK_THROWS_WITH(nst::lbfgs<double>(l), Catch::Contains("first_step_length") && Catch::Contains("got inf"));
}

TEST_CASE("a non-finite start names the parts of the loss that are not finite", "[optim]") {
    // What an objective with a term gone NaN returns: the message said only "loss = nan".
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto f = [nan](const tensor1<double>& x, tensor1<double>& g) {
        g = 2.0 * x;
        nst::loss_value<double> v;
        v.parts = {{"content", 1.0}, {"style", nan}, {"style", nan}, {"tv", 2.0}};
        v.total = nan;
        return v;
    };
    tensor1<double> x = rosenbrock_start<double>();
    // In the words of a run's report (the start's error said "not finite: 'style'").
    CHECK_THROWS_WITH(nst::lbfgs<double>().minimize(f, x), Catch::Contains("(loss = nan; non-finite loss terms: style)"));
    CHECK_THROWS_WITH(nst::adam<double>().minimize(f, x), Catch::Contains("(loss = nan; non-finite loss terms: style)"));
    // A loss without parts: as before.
    auto plain = [nan](const tensor1<double>&, tensor1<double>&) { return nan; };
    CHECK_THROWS_WITH(nst::lbfgs<double>().minimize(plain, x), Catch::EndsWith("(loss = nan)"));
}

namespace {

// The Rosenbrock function as an objective's loss_value, with parts, until it has been called k
// times; from then on its 'style' parts are NaN and its 'tv' part inf (terms gone bad mid-run).
struct parts_turn_nan_after {
    std::size_t k;
    std::size_t calls = 0;
    nst::loss_value<double> operator()(const tensor1<double>& x, tensor1<double>& g) {
        nst::loss_value<double> v;
        v.total = rosenbrock<double>{}(x, g);
        v.parts = {{"content", v.total}, {"style", 0.0}, {"style", 0.0}, {"tv", 0.0}};
        if (++calls > k) {
            v.parts[1].value = v.parts[2].value = std::numeric_limits<double>::quiet_NaN();
            v.parts[3].value = std::numeric_limits<double>::infinity();
            v.total = std::numeric_limits<double>::quiet_NaN();
        }
        return v;
    }
};

template <class Optimizer> void check_mid_run_names_terms(Optimizer solver) {
    parts_turn_nan_after f{12};
    tensor1<double> x = rosenbrock_start<double>();
    const auto r = solver.minimize(f, x);
    REQUIRE(r.reason == nst::stop_reason::non_finite);
    CHECK(r.non_finite.terms == std::vector<std::string>{"style", "tv"});  // each group once
    CHECK_THAT(nst::to_string(r.non_finite), Catch::EndsWith("of f); non-finite loss terms: style, tv"));
    // The same terms bad from the first call: the start's error names them in the same words.
    parts_turn_nan_after at_start{0};
    x = rosenbrock_start<double>();
    CHECK_THROWS_WITH(solver.minimize(at_start, x), Catch::EndsWith("(loss = nan; non-finite loss terms: style, tv)"));
    // A plain loss has no parts to name.
    nan_after plain{12, true, false};
    x = rosenbrock_start<double>();
    const auto p = solver.minimize(plain, x);
    REQUIRE(p.reason == nst::stop_reason::non_finite);
    CHECK(p.non_finite.terms.empty());
    CHECK_THAT(nst::to_string(p.non_finite), Catch::EndsWith("of f)"));
}

}  // namespace

TEST_CASE("a loss that turns non-finite mid-run names its parts as a non-finite start does", "[optim]") {
    // The report said only "the loss became non-finite at iteration 7 (evaluation 9 of f)", and
    // then named the terms in other words than the start's error.
    SECTION("adam") { check_mid_run_names_terms(nst::adam<double>()); }
    SECTION("lbfgs") { check_mid_run_names_terms(nst::lbfgs<double>()); }
}
