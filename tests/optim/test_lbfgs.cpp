// L-BFGS (optim/lbfgs.hpp): the two-loop recursion against the dense BFGS update, convergence on
// Rosenbrock and an ill-conditioned quadratic, strong Wolfe steps, the stopping rules, what it
// does when a line search fails or meets a non-finite point, and torch.optim.LBFGS's iterates.
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/tensor.hpp>
#include <nst/optim/optim.hpp>

#include "test_functions.hpp"

using nst::tensor1;
using namespace nst::test;

namespace {

// Wraps f and remembers every evaluation, to check what the optimizer reports against what f
// actually returned.
template <class F, class T> struct recorded {
    F f;
    std::vector<std::vector<double>> points, gradients;
    std::vector<double> losses;

    T operator()(const tensor1<T>& x, tensor1<T>& g) {
        const T loss = f(x, g);
        points.push_back(to_vector(x));
        gradients.push_back(to_vector(g));
        losses.push_back(loss);
        return loss;
    }
};

// One accepted point as the callbacks saw it.
struct snapshot {
    std::size_t iteration;
    double loss;
    std::vector<double> x, gradient;
    std::size_t evaluations;
};

struct take_snapshots {
    std::vector<snapshot>* out;
    template <class S> void operator()(const S& s) const {
        out->push_back({s.iteration, double(s.loss), to_vector(s.x), to_vector(s.gradient), s.evaluations});
    }
};

}  // namespace

TEST_CASE("two-loop recursion equals the dense BFGS inverse-Hessian update", "[optim][lbfgs]") {
    // H_{k+1} = (I - rho s y') H_k (I - rho y s') + rho s s' from H_0 = gamma I (gamma of the
    // newest pair), applied to g, must equal the two-loop product for a full history.
    const std::size_t n = 4, m = 3;
    const double xs[m + 1][n] = {{0, 0, 0, 0}, {1, 0.5, -0.2, 0.1}, {1.3, 0.2, 0.4, -0.3}, {0.9, 0.8, 0.1, 0.2}};
    const double A[n][n] = {{4, 1, 0, 0.5}, {1, 3, 0.2, 0}, {0, 0.2, 2, 0.3}, {0.5, 0, 0.3, 1}};  // SPD
    auto grad = [&](const double* x, double* g) {
        for (std::size_t i = 0; i < n; ++i) {
            g[i] = 0.1 * double(i);
            for (std::size_t j = 0; j < n; ++j) g[i] += A[i][j] * x[j];
        }
    };
    nst::optim_detail::lbfgs_history<double> history(m, n);
    std::vector<std::vector<double>> s, y;
    for (std::size_t k = 0; k < m; ++k) {
        double g0[n], g1[n];
        grad(xs[k], g0);
        grad(xs[k + 1], g1);
        REQUIRE(history.push(xs[k + 1], xs[k], g1, g0));
        s.emplace_back(n), y.emplace_back(n);
        for (std::size_t i = 0; i < n; ++i) s[k][i] = xs[k + 1][i] - xs[k][i], y[k][i] = g1[i] - g0[i];
    }
    const double gamma = dot(s[m - 1], y[m - 1]) / dot(y[m - 1], y[m - 1]);
    std::vector<std::vector<double>> H(n, std::vector<double>(n, 0.0));
    for (std::size_t i = 0; i < n; ++i) H[i][i] = gamma;
    for (std::size_t k = 0; k < m; ++k) {
        const double rho = 1.0 / dot(s[k], y[k]);
        std::vector<std::vector<double>> V(n, std::vector<double>(n)), next(n, std::vector<double>(n, 0.0));
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) V[i][j] = (i == j ? 1.0 : 0.0) - rho * y[k][i] * s[k][j];
        for (std::size_t i = 0; i < n; ++i)  // next = V' H V + rho s s'
            for (std::size_t j = 0; j < n; ++j) {
                double sum = rho * s[k][i] * s[k][j];
                for (std::size_t a = 0; a < n; ++a)
                    for (std::size_t b = 0; b < n; ++b) sum += V[a][i] * H[a][b] * V[b][j];
                next[i][j] = sum;
            }
        H = next;
    }
    const double g[n] = {0.3, -1.0, 0.7, 0.2};
    double d[n];
    history.direction(g, d);
    for (std::size_t i = 0; i < n; ++i) {
        double expected = 0.0;
        for (std::size_t j = 0; j < n; ++j) expected -= H[i][j] * g[j];
        CHECK(d[i] == Approx(expected).epsilon(1e-12));
    }
}

TEMPLATE_TEST_CASE("lbfgs minimises the Rosenbrock function", "[optim][lbfgs]", double, float) {
    typename nst::lbfgs<TestType>::options opts;
    opts.gradient_tolerance = 1e-10;
    nst::lbfgs<TestType> solver(opts);
    tensor1<TestType> x = rosenbrock_start<TestType>();
    const nst::optim_result<TestType> r = solver.minimize(rosenbrock<TestType>{}, x);
    INFO("reason " << r.reason << ", iterations " << r.iterations << ", x = " << x(0) << ", " << x(1));
    CHECK(distance_to_one(x) <= 1e-4);
    CHECK(r.iterations < opts.max_iterations);
    tensor1<TestType> g = xt::zeros<TestType>({2});
    CHECK(r.loss == rosenbrock<TestType>{}(x, g));  // the reported loss is the loss at the final x
}

TEMPLATE_TEST_CASE("lbfgs solves a 100-D quadratic with condition number 1e4", "[optim][lbfgs]", double, float) {
    // Double reaches 1e-5 relative error. Float stops earlier (line search at the resolution of
    // float x): a-priori accuracy is about condition * eps_float = 6e-4; ~1e-5 is observed.
    const double tolerance = std::is_same_v<TestType, double> ? 1e-5 : 1e-4;
    const quadratic<TestType> f(100, 1e4);
    typename nst::lbfgs<TestType>::options opts;
    opts.max_iterations = 200;
    opts.gradient_tolerance = 1e-7;
    nst::lbfgs<TestType> solver(opts);
    tensor1<TestType> x = xt::zeros<TestType>({100});
    const nst::optim_result<TestType> r = solver.minimize(f, x);
    INFO("reason " << r.reason << ", iterations " << r.iterations << ", evaluations " << r.evaluations);
    CHECK(f.relative_error(x) <= tolerance);
    CHECK(r.iterations <= 200);
}

TEMPLATE_TEST_CASE("lbfgs takes the same steps on a loss scaled by a large factor", "[optim][lbfgs]", double, float) {
    // Scaling the loss (e.g. every weight of a stylisation x 1000) changes neither the quasi-Newton
    // steps nor the line search's, so the iterates must not change either. A power of two keeps the
    // scaled arithmetic exact. Large enough that s'y / y'y, the inverse curvature, falls below T's
    // epsilon: a history test comparing s'y with eps * y'y would then drop every pair.
    const double scale = std::is_same_v<TestType, double> ? std::ldexp(1.0, 60) : std::ldexp(1.0, 30);
    const quadratic<TestType> f(100, 1e4);
    auto scaled = [&](const tensor1<TestType>& x, tensor1<TestType>& g) {
        const TestType loss = f(x, g);
        g *= static_cast<TestType>(scale);
        return static_cast<TestType>(loss * static_cast<TestType>(scale));
    };
    typename nst::lbfgs<TestType>::options opts;
    opts.max_iterations = 40;
    opts.gradient_tolerance = 0;  // |g| <= tolerance * |x| is not scale-free: run all 40 steps
    tensor1<TestType> x = xt::zeros<TestType>({100}), x_scaled = x;
    const nst::optim_result<TestType> r = nst::lbfgs<TestType>(opts).minimize(f, x);
    const nst::optim_result<TestType> r_scaled = nst::lbfgs<TestType>(opts).minimize(scaled, x_scaled);
    REQUIRE(r.iterations == 40);
    CHECK(r_scaled.iterations == r.iterations);
    CHECK(r_scaled.evaluations == r.evaluations);
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(double(x_scaled(i)) == Approx(double(x(i))).epsilon(1e-6));
}

TEST_CASE("lbfgs: every accepted step satisfies the strong Wolfe conditions", "[optim][lbfgs]") {
    for (const double c2 : {0.9, 0.1}) {
        INFO("c2 = " << c2);
        typename nst::lbfgs<double>::options opts;
        opts.wolfe_c2 = c2;
        opts.gradient_tolerance = 1e-10;
        recorded<rosenbrock<double>, double> f;
        std::vector<snapshot> accepted;
        // Reported points must be the last point f was called at, with f's own values.
        auto matches_last_evaluation = [&](const auto& s) {
            CHECK(to_vector(s.x) == f.points.back());
            CHECK(to_vector(s.gradient) == f.gradients.back());
            CHECK(double(s.loss) == f.losses.back());
            CHECK(s.evaluations == f.points.size());
        };
        tensor1<double> x = rosenbrock_start<double>();
        const auto r = nst::lbfgs<double>(opts).minimize(f, x, take_snapshots{&accepted}, matches_last_evaluation);
        REQUIRE(r.converged());
        REQUIRE(accepted.size() == r.iterations + 1);
        if (c2 == 0.1) CHECK(r.evaluations > r.iterations + 10);  // the zoom phase was exercised
        double last_length = 0.0;
        for (std::size_t k = 1; k < accepted.size(); ++k) {
            INFO("iteration " << k);
            const snapshot &before = accepted[k - 1], &after = accepted[k];
            std::vector<double> s(before.x.size());
            for (std::size_t i = 0; i < s.size(); ++i) s[i] = after.x[i] - before.x[i];
            const double slope_before = dot(before.gradient, s), slope_after = dot(after.gradient, s);
            last_length = std::sqrt(dot(s, s));
            const double slack = 1e-12 * (std::abs(before.loss) + std::abs(slope_before));
            CHECK(slope_before < 0.0);
            CHECK(after.loss <= before.loss + opts.wolfe_c1 * slope_before + slack);
            CHECK(std::abs(slope_after) <= c2 * std::abs(slope_before) + slack);
        }
        // The result keeps the last step's length (what a follow-on run can start from).
        CHECK(r.last_step_length == Approx(last_length).epsilon(1e-12));
    }
}

TEST_CASE("lbfgs: the first trial step has first_step_length, and the run returns its last step's length",
          "[optim][lbfgs]") {
    // 0.5 |x - 2|^2 from 0 in 100-D: the minimiser lies a step of length 20 along -g.
    const auto sphere = [](const tensor1<double>& x, tensor1<double>& g) {
        g = x - 2.0;
        return 0.5 * xt::sum(g * g)();
    };
    nst::lbfgs<double>::options opts;
    opts.max_iterations = 1;
    tensor1<double> x = xt::zeros<double>({100});
    opts.first_step_length = 20.0;  // lands on the minimiser: no search beyond the first trial
    const auto exact = nst::lbfgs<double>(opts).minimize(sphere, x);
    CHECK(exact.evaluations == 2);
    CHECK(exact.last_step_length == Approx(20.0));
    CHECK(exact.loss == Approx(0.0).margin(1e-20));
    x = xt::zeros<double>({100});
    opts.first_step_length = 1.0;  // far too short: the search grows it over several trials
    const auto grown = nst::lbfgs<double>(opts).minimize(sphere, x);
    CHECK(grown.evaluations > 2);
    CHECK(grown.last_step_length > 1.0);
}

TEST_CASE("lbfgs does not stop because the first step barely changes the loss", "[optim][lbfgs]") {
    // A huge constant makes the first (unit-length) step's relative loss change ~1e-10, below
    // the default loss-change tolerance; a rule looking at one step would stop there, 20 away
    // from the minimiser at x = 2.
    struct offset_sphere {
        double operator()(const tensor1<double>& x, tensor1<double>& g) const {
            double f = 1e12;
            for (std::size_t i = 0; i < x.size(); ++i) {
                f += 0.5 * (x(i) - 2.0) * (x(i) - 2.0);
                g(i) = x(i) - 2.0;
            }
            return f;
        }
    };
    nst::lbfgs<double> solver;
    tensor1<double> x = xt::zeros<double>({100});
    std::vector<double> losses;
    const auto r = solver.minimize(offset_sphere{}, x, nst::record_history(losses));
    REQUIRE(losses.size() >= 2);
    CHECK((losses[0] - losses[1]) / losses[0] < solver.get_options().loss_change_tolerance);  // premise
    CHECK(r.iterations > 1);
    CHECK(r.reason == nst::stop_reason::converged_gradient);
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(x(i) == Approx(2.0).epsilon(1e-9));
}

TEST_CASE("lbfgs stops on a relative loss change only after the patience window", "[optim][lbfgs]") {
    // The offset makes relative changes tiny (below the default 1e-9 once the quadratic part
    // falls by less than ~1e3 per window) long before the gradient is small.
    const quadratic<double> f(100, 1e4, 1e12);
    typename nst::lbfgs<double>::options opts;
    opts.loss_change_window = 7;
    tensor1<double> x = xt::zeros<double>({100});
    const auto r = nst::lbfgs<double>(opts).minimize(f, x);
    CHECK(r.reason == nst::stop_reason::converged_loss_change);
    CHECK(r.iterations >= opts.loss_change_window);

    opts.loss_change_tolerance = 0.0;  // disabled
    x = xt::zeros<double>({100});
    const auto r2 = nst::lbfgs<double>(opts).minimize(f, x);
    CHECK(r2.reason != nst::stop_reason::converged_loss_change);
    CHECK(r2.iterations > r.iterations);
}

TEST_CASE("lbfgs: a failed line search restores x and retries steepest descent once", "[optim][lbfgs]") {
    // After iteration 2 the loss lies (every new point looks worse), so no step can be accepted.
    struct lying_after_flag {
        rosenbrock<double> f;
        const bool* lying;
        std::vector<double> honest_x;
        double honest_loss = 0.0;
        std::vector<std::vector<double>> lies;  // points evaluated while lying
        double operator()(const tensor1<double>& x, tensor1<double>& g) {
            const double loss = f(x, g);
            if (!*lying) return loss;
            lies.push_back(to_vector(x));
            return honest_loss + 1.0;
        }
    };
    // A short budget leaves the failed search far from x2, a long one very close to it.
    for (const std::size_t budget : {std::size_t(5), std::size_t(20)}) {
        INFO("max_line_search_steps = " << budget);
        nst::lbfgs<double>::options opts;
        opts.max_line_search_steps = budget;
        bool lying = false;
        lying_after_flag f{{}, &lying, {}, 0.0, {}};
        std::vector<double> g_at_2;
        auto start_lying_at_2 = [&](const nst::iteration_state<double, tensor1<double>>& s) {
            if (s.iteration == 2) {
                lying = true;
                f.honest_x = to_vector(s.x);
                f.honest_loss = s.loss;
                g_at_2 = to_vector(s.gradient);
            }
        };
        tensor1<double> x = rosenbrock_start<double>();
        const auto r = nst::lbfgs<double>(opts).minimize(f, x, start_lying_at_2);
        CHECK(r.reason == nst::stop_reason::line_search_failed);
        CHECK(r.iterations == 2);
        CHECK(to_vector(x) == f.honest_x);
        CHECK(r.loss == f.honest_loss);
        // Some trial point lies on the steepest-descent ray x2 - t g2: the retry happened.
        REQUIRE(!f.lies.empty());
        bool on_steepest_ray = false;
        for (const auto& p : f.lies) {
            const double dx = p[0] - f.honest_x[0], dy = p[1] - f.honest_x[1];
            const double cross = dx * g_at_2[1] - dy * g_at_2[0];
            const double along = -(dx * g_at_2[0] + dy * g_at_2[1]);
            if (along > 0.0 && std::abs(cross) <= 1e-9 * std::sqrt(dx * dx + dy * dy) * std::sqrt(dot(g_at_2, g_at_2)))
                on_steepest_ray = true;
        }
        CHECK(on_steepest_ray);
        // ... and the first trial was not on it (L-BFGS direction first).
        const double dx0 = f.lies[0][0] - f.honest_x[0], dy0 = f.lies[0][1] - f.honest_x[1];
        CHECK(std::abs(dx0 * g_at_2[1] - dy0 * g_at_2[0]) > 1e-6 * std::sqrt(dx0 * dx0 + dy0 * dy0));
    }
}

TEST_CASE("lbfgs: failure on the first iteration leaves x at the start", "[optim][lbfgs]") {
    struct uphill_everywhere {  // the gradient points the wrong way
        double operator()(const tensor1<double>& x, tensor1<double>& g) const {
            g = -2.0 * x;  // xtensor assigns through a temporary: g gets a new buffer
            return xt::sum(x * x)();
        }
    };
    // A short budget ends the search far from the start, a long one very close to it.
    for (const std::size_t budget : {std::size_t(3), std::size_t(20)}) {
        INFO("max_line_search_steps = " << budget);
        nst::lbfgs<double>::options opts;
        opts.max_line_search_steps = budget;
        tensor1<double> x = {1.0, -2.0, 3.0};
        const tensor1<double> start = x;
        const auto r = nst::lbfgs<double>(opts).minimize(uphill_everywhere{}, x);
        CHECK(r.reason == nst::stop_reason::line_search_failed);
        CHECK(r.iterations == 0);
        CHECK(r.last_step_length == 0.0);
        CHECK(to_vector(x) == to_vector(start));
        CHECK(r.loss == 14.0);
        CHECK(r.gradient_norm == Approx(2.0 * std::sqrt(14.0)));
        // No retry: the first direction already was steepest descent.
        CHECK(r.evaluations <= 1 + budget);
    }
}

TEST_CASE("lbfgs: a non-finite trial point only shortens the step", "[optim][lbfgs]") {
    // f = sum (x_i - 1)^2, undefined (NaN) beyond x_i = 1.5; the first trial step lands far
    // beyond, so the line search must back off into the domain.
    struct walled_bowl {
        std::size_t non_finite_calls = 0;
        double operator()(const tensor1<double>& x, tensor1<double>& g) {
            double f = 0.0;
            bool outside = false;
            for (std::size_t i = 0; i < x.size(); ++i) {
                f += (x(i) - 1.0) * (x(i) - 1.0);
                g(i) = 2.0 * (x(i) - 1.0);
                outside = outside || x(i) >= 1.5;
            }
            if (!outside) return f;
            ++non_finite_calls;
            return std::numeric_limits<double>::quiet_NaN();
        }
    };
    nst::lbfgs<double>::options opts;
    opts.first_step_length = 1e3;
    walled_bowl f;
    tensor1<double> x = {-3.0, -5.0};
    const auto r = nst::lbfgs<double>(opts).minimize(f, x);
    CHECK(f.non_finite_calls > 0);  // premise: the wall was hit
    CHECK(r.reason == nst::stop_reason::converged_gradient);
    CHECK(x(0) == Approx(1.0));
    CHECK(x(1) == Approx(1.0));
    CHECK(r.non_finite.evaluation == 0);  // a run that ends well reports no non-finite value
}

TEMPLATE_TEST_CASE("lbfgs with backtracking minimises the Rosenbrock function", "[optim][lbfgs]", double, float) {
    typename nst::lbfgs<TestType>::options opts;
    opts.backtracking = true;
    opts.gradient_tolerance = 1e-10;
    nst::lbfgs<TestType> solver(opts);
    tensor1<TestType> x = rosenbrock_start<TestType>();
    std::vector<double> losses;
    const nst::optim_result<TestType> r =
        solver.minimize(rosenbrock<TestType>{}, x, [&](const auto& state) { losses.push_back(double(state.loss)); });
    INFO("reason " << r.reason << ", iterations " << r.iterations << ", x = " << x(0) << ", " << x(1));
    CHECK(distance_to_one(x) <= 1e-3);
    for (std::size_t i = 1; i < losses.size(); ++i) CHECK(losses[i] < losses[i - 1]);  // every step decreases
}

TEST_CASE("lbfgs takes torch.optim.LBFGS's steps on the Rosenbrock function", "[optim][lbfgs]") {
    // The reference: torch 1.13, float64, from (-1.2, 1), one step() per iteration of
    //     torch.optim.LBFGS([x], lr=1, max_iter=1, max_eval=10**6, tolerance_grad=1e-12,
    //                       tolerance_change=0, history_size=10, line_search_fn='strong_wolfe')
    // (an independent strong Wolfe search: N&W's bracketing and zoom with cubic interpolation).
    // Its first trial step is -g / |g|_1, so first_step_length = |g|_2 / |g|_1 here. From
    // iteration 37 (loss 1e-20) the two part: torch keeps a pair only if s'y > 1e-10, absolutely.
    struct reference_point {
        std::size_t iteration, line_search_evaluations;  // evaluations of f since the start's
        double x0, x1;
    };
    const reference_point torch[] = {
        {1, 2, -1.0245319303460325, 1.0716196202669255},  {5, 6, -1.0203084803940978, 1.0352769866467468},
        {13, 16, -0.25600484511812704, 0.03722749524505698}, {18, 23, 0.3415181810584439, 0.09898004561560132},
        {21, 27, 0.582172369224457, 0.3207710935406736},   {27, 34, 0.9009678097161442, 0.8046615256475893},
        {31, 39, 0.9949799996311627, 0.9895496613413612},  {36, 44, 0.9999999942651888, 0.9999999879364829},
    };
    nst::lbfgs<double>::options opts;
    opts.max_iterations = 36;
    opts.gradient_tolerance = 0;
    opts.loss_change_tolerance = 0;
    opts.first_step_length = std::hypot(215.6, 88.0) / (215.6 + 88.0);  // g(-1.2, 1) = (-215.6, -88)
    std::vector<snapshot> accepted;
    tensor1<double> x = rosenbrock_start<double>();
    const auto r = nst::lbfgs<double>(opts).minimize(rosenbrock<double>{}, x, take_snapshots{&accepted});
    REQUIRE(r.iterations == 36);
    for (const reference_point& p : torch) {
        INFO("iteration " << p.iteration);
        const snapshot& s = accepted[p.iteration];
        CHECK(s.evaluations - 1 == p.line_search_evaluations);  // the same trials
        CHECK(s.x[0] == Approx(p.x0).margin(1e-12));
        CHECK(s.x[1] == Approx(p.x1).margin(1e-12));
    }
}
