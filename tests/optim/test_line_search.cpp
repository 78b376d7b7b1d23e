// The strong Wolfe line search (optim/line_search.hpp) on its own, on scalar functions.
#include <cmath>
#include <cstddef>
#include <utility>

#include <catch2/catch.hpp>

#include <nst/optim/line_search.hpp>

TEST_CASE("strong Wolfe line search: accepted steps satisfy both conditions", "[optim][line_search]") {
    struct case_t {
        const char* name;
        double (*value)(double);
        double (*slope)(double);
        double initial_step;
    };
    // Moré & Thuente (1994) function 1 (minimiser sqrt(2)), a far-away parabola that needs
    // extrapolation, a close one that needs zooming back, and a steep exponential.
    const case_t cases[] = {
        {"-a/(a^2+2), from 1e-3", [](double a) { return -a / (a * a + 2.0); },
         [](double a) { return (a * a - 2.0) / ((a * a + 2.0) * (a * a + 2.0)); }, 1e-3},
        {"-a/(a^2+2), from 1e3", [](double a) { return -a / (a * a + 2.0); },
         [](double a) { return (a * a - 2.0) / ((a * a + 2.0) * (a * a + 2.0)); }, 1e3},
        {"(a-1000)^2, from 1", [](double a) { return (a - 1000.0) * (a - 1000.0); },
         [](double a) { return 2.0 * (a - 1000.0); }, 1.0},
        {"(a-0.001)^2, from 1", [](double a) { return (a - 0.001) * (a - 0.001); },
         [](double a) { return 2.0 * (a - 0.001); }, 1.0},
        {"exp(5a) - 10a, from 1", [](double a) { return std::exp(5.0 * a) - 10.0 * a; },
         [](double a) { return 5.0 * std::exp(5.0 * a) - 10.0; }, 1.0},
    };
    for (const double c2 : {0.9, 0.1}) {
        for (const case_t& c : cases) {
            INFO(c.name << ", c2 = " << c2);
            nst::line_search_options opts;
            opts.c2 = c2;
            double last_alpha = -1.0;
            std::size_t calls = 0;
            auto phi = [&](double alpha) {
                last_alpha = alpha;
                ++calls;
                return std::pair<double, double>(c.value(alpha), c.slope(alpha));
            };
            const double phi0 = c.value(0.0), dphi0 = c.slope(0.0);
            const nst::line_search_result r = nst::strong_wolfe_line_search(phi, phi0, dphi0, c.initial_step, opts);
            REQUIRE(r.satisfied);
            CHECK(r.evaluations == calls);
            CHECK(r.evaluations <= opts.max_evaluations);
            CHECK(last_alpha == r.step);  // the caller holds the accepted point
            CHECK(r.value == c.value(r.step));
            CHECK(r.value <= phi0 + opts.c1 * r.step * dphi0);
            CHECK(std::abs(r.derivative) <= c2 * std::abs(dphi0));
        }
    }
}

TEST_CASE("strong Wolfe line search: reports failure when the slope lies", "[optim][line_search]") {
    // phi increases although phi'(0) claims descent: no step can be accepted.
    nst::line_search_options opts;
    std::size_t calls = 0;
    auto phi = [&](double alpha) {
        ++calls;
        return std::pair<double, double>(alpha, -1.0);
    };
    const nst::line_search_result r = nst::strong_wolfe_line_search(phi, 0.0, -1.0, 1.0, opts);
    CHECK_FALSE(r.satisfied);
    CHECK(calls == r.evaluations);
    CHECK(calls <= opts.max_evaluations);
}

TEST_CASE("backtracking line search: halves until the value falls enough, never accepts no change",
          "[optim][line_search]") {
    nst::line_search_options opts;
    std::size_t calls = 0;
    double last_alpha = 0;
    // phi(a) = (a - 0.1)^2 - 0.01: from 1, steps 1, 0.5, 0.25, 0.125 (the first with a decrease).
    auto phi = [&](double a) {
        ++calls;
        last_alpha = a;
        return std::pair<double, double>{(a - 0.1) * (a - 0.1) - 0.01, 2.0 * (a - 0.1)};
    };
    const nst::line_search_result r = nst::backtracking_line_search(phi, 0.0, -0.2, 1.0, opts);
    REQUIRE(r.satisfied);
    CHECK(r.step == 0.125);
    CHECK(r.evaluations == 4);
    CHECK(calls == 4);
    CHECK(last_alpha == r.step);  // the last call was at the accepted step
    CHECK(r.value <= 0.0 + opts.c1 * r.step * -0.2);

    // A flat function (a slope that lies, as a normalised gradient may): no decrease, no step.
    calls = 0;
    auto flat = [&](double) {
        ++calls;
        return std::pair<double, double>{1.0, -1.0};
    };
    const nst::line_search_result none = nst::backtracking_line_search(flat, 1.0, -1e-30, 1.0, opts);
    CHECK_FALSE(none.satisfied);
    CHECK(calls == opts.max_evaluations);

    // NaN/inf counts as too long.
    auto blows_up = [](double a) {
        return std::pair<double, double>{a > 0.3 ? INFINITY : a * a - a, 2.0 * a - 1.0};
    };
    const nst::line_search_result r2 = nst::backtracking_line_search(blows_up, 0.0, -1.0, 1.0, opts);
    REQUIRE(r2.satisfied);
    CHECK(r2.step == 0.25);
}
