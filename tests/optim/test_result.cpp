// What an optimizer run reports: the stop reasons' names and the non-finite report's sentence.
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include <nst/optim/result.hpp>

TEST_CASE("every stop_reason has its own name, also through operator<<", "[optim][result]") {
    using nst::stop_reason;
    std::set<std::string> names;
    for (const stop_reason r : {stop_reason::converged_gradient, stop_reason::converged_loss_change,
                                stop_reason::max_iterations, stop_reason::stopped_by_callback,
                                stop_reason::line_search_failed, stop_reason::non_finite}) {
        std::ostringstream out;
        out << r;
        REQUIRE(out.str() == nst::to_string(r));
        names.insert(out.str());
    }
    REQUIRE(names.size() == 6);
    REQUIRE(nst::to_string(stop_reason::max_iterations) == "max_iterations");
}

TEST_CASE("converged() is true only for the convergence tests", "[optim][result]") {
    nst::optim_result<float> r;
    r.reason = nst::stop_reason::converged_gradient;
    REQUIRE(r.converged());
    r.reason = nst::stop_reason::converged_loss_change;
    REQUIRE(r.converged());
    r.reason = nst::stop_reason::max_iterations;
    REQUIRE_FALSE(r.converged());
    r.reason = nst::stop_reason::non_finite;
    REQUIRE_FALSE(r.converged());
}

TEST_CASE("a non-finite report says what went non-finite, at which iteration and evaluation", "[optim][result]") {
    nst::non_finite_report r;
    r.iteration = 7;
    r.evaluation = 9;
    r.gradient = true;
    REQUIRE(nst::to_string(r) == "the gradient became non-finite (NaN or inf) at iteration 7 (evaluation 9 of f)");
    r.loss = true;
    REQUIRE_THAT(nst::to_string(r), Catch::StartsWith("the loss and the gradient"));
    r.gradient = false;
    REQUIRE_THAT(nst::to_string(r), Catch::StartsWith("the loss became"));
}
