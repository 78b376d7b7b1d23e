// Tests for the generic optimizers (nst/optim): L-BFGS with its strong Wolfe line search, Adam,
// and the callback contract. Only analytic test functions: no network is needed to test an
// optimizer. Includes just the optimizers and the tensor aliases to keep this TU quick to build.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <nst/core/tensor.hpp>
#include <nst/optim/optim.hpp>

namespace {

using nst::tensor1;

// f(a, b) = (1 - a)^2 + 100 (b - a^2)^2; minimum 0 at (1, 1). Computed in double for any T.
template <class T> struct rosenbrock {
    T operator()(const tensor1<T>& x, tensor1<T>& g) const {
        const double a = x(0), b = x(1);
        g(0) = static_cast<T>(-2.0 * (1.0 - a) - 400.0 * a * (b - a * a));
        g(1) = static_cast<T>(200.0 * (b - a * a));
        return static_cast<T>((1.0 - a) * (1.0 - a) + 100.0 * (b - a * a) * (b - a * a));
    }
};

template <class T> tensor1<T> rosenbrock_start() { return tensor1<T>{T(-1.2), T(1)}; }

template <class T> double distance_to_one(const tensor1<T>& x) {
    return std::max(std::abs(double(x(0)) - 1.0), std::abs(double(x(1)) - 1.0));
}

// f(x) = offset + 1/2 sum_i lambda_i (x_i - c_i)^2 with lambda linearly spaced in
// [1, condition]: Hessian condition number `condition`, minimiser c (known), minimum `offset`.
template <class T> struct quadratic {
    std::vector<double> lambda, centre;
    double offset;

    quadratic(std::size_t n, double condition, double offset_ = 0.0) : offset(offset_) {
        for (std::size_t i = 0; i < n; ++i) {
            const double t = n > 1 ? double(i) / double(n - 1) : 0.0;
            lambda.push_back(1.0 + (condition - 1.0) * t);
            centre.push_back(1.0 + 0.5 * std::sin(double(i)));
        }
    }
    T operator()(const tensor1<T>& x, tensor1<T>& g) const {
        double f = 0.0;
        for (std::size_t i = 0; i < lambda.size(); ++i) {
            const double e = double(x(i)) - centre[i];
            f += 0.5 * lambda[i] * e * e;
            g(i) = static_cast<T>(lambda[i] * e);
        }
        return static_cast<T>(offset + f);
    }
    double relative_error(const tensor1<T>& x) const {
        double err = 0.0, ref = 0.0;
        for (std::size_t i = 0; i < centre.size(); ++i) {
            err += (double(x(i)) - centre[i]) * (double(x(i)) - centre[i]);
            ref += centre[i] * centre[i];
        }
        return std::sqrt(err / ref);
    }
};

template <class T> std::vector<double> to_vector(const tensor1<T>& t) {
    return std::vector<double>(t.begin(), t.end());
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

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

// ---------------------------------------------------------------------------------------------
// The line search on its own (scalar functions)

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

// ---------------------------------------------------------------------------------------------
// Vector operations (parallel above a size threshold)

namespace {

// Runs body with omp_get_max_threads() == threads, restoring the caller's count after.
template <class Body> void with_threads(int threads, Body&& body) {
#ifdef _OPENMP
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    body();
    omp_set_num_threads(before);
#else
    (void)threads;
    body();
#endif
}

std::vector<float> random_floats(std::size_t n, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> uniform(-2.0f, 3.0f);
    std::vector<float> v(n);
    for (float& e : v) e = uniform(engine);
    return v;
}

}  // namespace

TEST_CASE("vector operations: parallel reductions equal a serial double sum to rounding", "[optim][vector_ops]") {
    namespace od = nst::optim_detail;
    const std::size_t n = 3 * od::parallel_threshold + 7;  // odd: chunks of unequal length
    const std::vector<float> a = random_floats(n, 1), b = random_floats(n, 2);
    double dot = 0.0, dist = 0.0, magnitude = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        dot += double(a[i]) * double(b[i]);
        dist += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
        magnitude += std::abs(double(a[i]) * double(b[i]));
    }
    for (const int threads : {1, 2, 3}) {
        INFO("threads = " << threads);
        with_threads(threads, [&] {
            // Each chunk sees its own contiguous range; together they cover [0, n) once.
            std::vector<int> covered(n, 0);
            std::atomic<int> chunks{0};
            od::for_chunks(n, [&](std::size_t begin, std::size_t end) {
                ++chunks;
                for (std::size_t i = begin; i < end; ++i) ++covered[i];
            });
            CHECK(std::count(covered.begin(), covered.end(), 1) == std::ptrdiff_t(n));
#ifdef _OPENMP
            CHECK(chunks == threads);
#endif
            const double d = od::dot(a.data(), b.data(), n);
            CHECK(std::abs(d - dot) <= 2.0 * double(n) * std::numeric_limits<double>::epsilon() * magnitude);
            CHECK(od::dot(a.data(), b.data(), n) == d);  // deterministic for a thread count
            CHECK(od::distance(a.data(), b.data(), n) == Approx(std::sqrt(dist)).epsilon(1e-13));
            CHECK(od::all_finite(a.data(), n));
            std::vector<float> c = a;
            c[n - 1] = std::numeric_limits<float>::quiet_NaN();  // in the last chunk only
            CHECK_FALSE(od::all_finite(c.data(), n));
            CHECK_FALSE(od::equal(a.data(), c.data(), n));
            CHECK(od::equal(a.data(), a.data(), n));
        });
    }
}

TEST_CASE("vector operations: element-wise updates do not depend on the thread count", "[optim][vector_ops]") {
    namespace od = nst::optim_detail;
    const std::size_t n = 2 * od::parallel_threshold + 3;
    const std::vector<float> a = random_floats(n, 3), b = random_floats(n, 4);
    auto apply_all = [&] {
        std::vector<float> y = b, ray(n), m(n, 0.5f), v(n, 0.25f), x = a, x_prev(n);
        od::axpy(0.3, a.data(), y.data(), n);
        od::point_on_ray(a.data(), -1.5, y.data(), ray.data(), n);
        od::scale(0.7, ray.data(), n);
        const od::adam_step<float> step{0.9f, 0.999f, 0.01f, 1.2f, 1e-8f};
        od::adam_update(step, b.data(), m.data(), v.data(), x.data(), x_prev.data(), n);
        return std::vector<std::vector<float>>{y, ray, m, v, x, x_prev};
    };
    std::vector<std::vector<float>> serial, parallel;
    with_threads(1, [&] { serial = apply_all(); });
    with_threads(3, [&] { parallel = apply_all(); });
    CHECK(serial == parallel);
    CHECK(serial[0][n - 1] == Approx(b[n - 1] + 0.3f * a[n - 1]));  // spot check of axpy
    CHECK(serial[5] == a);  // adam_update hands back the old x
}

// ---------------------------------------------------------------------------------------------
// L-BFGS

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
        for (std::size_t k = 1; k < accepted.size(); ++k) {
            INFO("iteration " << k);
            const snapshot &before = accepted[k - 1], &after = accepted[k];
            std::vector<double> s(before.x.size());
            for (std::size_t i = 0; i < s.size(); ++i) s[i] = after.x[i] - before.x[i];
            const double slope_before = dot(before.gradient, s), slope_after = dot(after.gradient, s);
            const double slack = 1e-12 * (std::abs(before.loss) + std::abs(slope_before));
            CHECK(slope_before < 0.0);
            CHECK(after.loss <= before.loss + opts.wolfe_c1 * slope_before + slack);
            CHECK(std::abs(slope_after) <= c2 * std::abs(slope_before) + slack);
        }
    }
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
        CHECK(to_vector(x) == to_vector(start));
        CHECK(r.loss == 14.0);
        CHECK(r.gradient_norm == Approx(2.0 * std::sqrt(14.0)));
        // No retry: the first direction already was steepest descent.
        CHECK(r.evaluations <= 1 + budget);
    }
}

// ---------------------------------------------------------------------------------------------
// Adam

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

// ---------------------------------------------------------------------------------------------
// What callbacks see of f's value (both optimizers)

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

// ---------------------------------------------------------------------------------------------
// Numerical failure during a run (both optimizers)

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

// ---------------------------------------------------------------------------------------------
// Callbacks and stopping rules (both optimizers)

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
    Optimizer<double> solver;
    tensor1<double> empty = xt::zeros<double>({0});
    CHECK_THROWS_AS(solver.minimize(rosenbrock<double>{}, empty), nst::invalid_argument);
    CHECK_THROWS_WITH(solver.minimize(rosenbrock<double>{}, empty), Catch::Contains("x is empty"));
    tensor1<double> x = rosenbrock_start<double>();
    CHECK_THROWS_AS(solver.minimize(nan_loss{}, x), nst::invalid_argument);
    CHECK_THROWS_WITH(solver.minimize(nan_loss{}, x), Catch::Contains("starting point is not finite"));
    CHECK_THROWS_AS(solver.minimize(nan_gradient{}, x), nst::invalid_argument);
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
