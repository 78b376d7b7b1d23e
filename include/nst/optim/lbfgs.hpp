// Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989) with a strong Wolfe line search: the
// optimizer of Gatys et al. and of jcjohnson/neural-style.
//
// Usage (#include <nst/optim/optim.hpp>):
//     nst::lbfgs<float>::options o;
//     o.max_iterations = 500;
//     nst::lbfgs<float> solver(o);
//     auto result = solver.minimize(objective, image, nst::record_history(losses));
//
// Cost per iteration: one line search (usually 1 evaluation of f, at most max_line_search_steps;
// twice that when a failed search is retried) plus O(history_size * n) vector work.
// Memory: (2 * history_size + 4) * n elements besides x, e.g. 24 copies of the image with the
// default history of 10.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"
#include "line_search.hpp"
#include "result.hpp"
#include "state.hpp"
#include "run.hpp"
#include "vector_ops.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

template <class T> class lbfgs {
    static_assert(std::is_floating_point_v<T>, "nst::lbfgs<T>: T must be float, double or long double");

public:
    struct options {
        // Number of (step, gradient change) pairs kept for the inverse-Hessian estimate.
        std::size_t history_size = 10;
        // Upper bound on accepted steps; 0 only evaluates the starting point.
        std::size_t max_iterations = 1000;
        // Converged when |grad f(x)| <= gradient_tolerance * max(1, |x|) (Euclidean norms):
        // relative for large x so the test does not depend on the image's pixel scale, absolute
        // near the origin. 0 disables the test.
        double gradient_tolerance = 1e-5;
        // Converged when, over the last loss_change_window steps, the loss fell by less than
        // loss_change_tolerance * max(|f_old|, |f_new|). The window (patience) keeps one small
        // step from ending the run: it is never applied before loss_change_window steps.
        // 0 disables the test.
        double loss_change_tolerance = 1e-9;
        std::size_t loss_change_window = 5;
        // Length (in x's units) of the first trial step of the run, along steepest descent.
        // Later iterations try the full quasi-Newton step first; a steepest-descent restart
        // (after a failed line search) tries the length of the last accepted step. A run that
        // carries on from another (e.g. on a larger copy of the image) can start from that one's
        // optim_result::last_step_length.
        double first_step_length = 1.0;
        // Strong Wolfe line search, or with backtracking set, Armijo backtracking (halve the
        // step until the loss falls enough): for gradients that are not the loss's own, e.g.
        // normalised per term (objective::normalize_gradients), whose slopes the Wolfe
        // curvature test would compare with the loss's values.
        bool backtracking = false;
        std::size_t max_line_search_steps = 20;  // evaluations of f per line search
        double wolfe_c1 = 1e-4;
        double wolfe_c2 = 0.9;
    };

    /*!
        ensures
            - constructs a solver with default options
    !*/
    lbfgs() = default;

    /*!
        requires
            - opts.history_size >= 1, opts.loss_change_window >= 1, opts.max_line_search_steps >= 1
            - 0 < opts.wolfe_c1 < opts.wolfe_c2 < 1
            - opts.first_step_length is finite and > 0; the tolerances are >= 0
        ensures
            - constructs a solver that uses opts
        throws
            - nst::invalid_argument if a requirement on opts does not hold
    !*/
    explicit lbfgs(const options& opts) : opts_(opts) { validate(opts_); }

    const options& get_options() const { return opts_; }

    /*!
        requires
            - X is a contiguous container of T with data() and size() and copy construction
              (e.g. xt::xtensor<T, N> of any rank N)
            - f(const X& x, X& gradient) returns the loss at x, either as T or as a value v
              with static_cast<T>(v) the loss (kept for callbacks as state.value; see
              state.hpp for what V needs), and writes grad f(x) into gradient. gradient has
              x's shape and is zero-filled before each call, so f may either assign or
              accumulate into it (assigning a whole expression, which gives xtensor a new
              buffer, is fine); f must not change its size.
            - each callback satisfies the contract in state.hpp
        ensures
            - minimises f starting from x, updating x in place
            - callbacks are invoked at iteration 0 and after every accepted step (see state.hpp)
            - on return x is the last accepted point, which has the lowest loss seen at any
              accepted point (every accepted step decreases the loss); if a line search fails,
              x is restored to the point it started from
            - result.iterations <= max_iterations; result.loss and result.gradient_norm
              describe the returned x
            - stop_reason: converged_gradient, converged_loss_change, max_iterations,
              stopped_by_callback, line_search_failed (after one retry along steepest descent
              with the history cleared, unless the failed search already was along steepest
              descent) or non_finite.
            - a NaN/inf loss or gradient at a line-search trial point is treated as a step that
              is too long: the search backs off towards x. Only when every trial of a failed
              search was non-finite does the run stop, at once (no retry), with non_finite;
              x is then the last accepted point and result.non_finite names the iteration, the
              evaluation and whether the loss, the gradient or both were non-finite.
        throws
            - nst::invalid_argument if x is empty, or if the loss or gradient at the starting
              point is not finite
            - nst::shape_error if f changes the size of the gradient
            - whatever f or a callback throws; x is then the last accepted point (the one the
              callbacks last saw), also when f threw at a line-search trial
    !*/
    template <class F, class X, class... Callbacks>
    optim_result<T> minimize(F&& f, X& x, Callbacks&&... callbacks) const;

private:
    static void validate(const options& o) {
        auto fail = [](const std::string& what) { throw invalid_argument("nst::lbfgs options: " + what); };
        if (o.history_size < 1) fail("history_size must be >= 1, got 0");
        if (o.loss_change_window < 1) fail("loss_change_window must be >= 1, got 0");
        if (o.max_line_search_steps < 1) fail("max_line_search_steps must be >= 1, got 0");
        if (!(o.wolfe_c1 > 0.0 && o.wolfe_c1 < o.wolfe_c2 && o.wolfe_c2 < 1.0))
            fail("need 0 < wolfe_c1 < wolfe_c2 < 1, got c1 = " + number_text(o.wolfe_c1) +
                 ", c2 = " + number_text(o.wolfe_c2));
        if (!(o.first_step_length > 0.0 && std::isfinite(o.first_step_length)))
            fail("first_step_length must be a finite number > 0, got " + number_text(o.first_step_length));
        if (!(o.gradient_tolerance >= 0.0))
            fail("gradient_tolerance must be >= 0, got " + number_text(o.gradient_tolerance));
        if (!(o.loss_change_tolerance >= 0.0))
            fail("loss_change_tolerance must be >= 0, got " + number_text(o.loss_change_tolerance));
    }

    options opts_;
};

namespace optim_detail {

// The (s, y) pairs of the last m accepted steps, oldest first, in a ring of vectors allocated
// once: storing a pair overwrites the oldest one's memory.
template <class T> class lbfgs_history {
public:
    lbfgs_history(std::size_t capacity, std::size_t n)
        : capacity_(capacity), n_(n), s_(capacity, work_vector<T>(n)), y_(capacity, work_vector<T>(n)),
          rho_(capacity), alpha_(capacity) {}

    std::size_t size() const { return count_; }
    void clear() { count_ = 0; }

    // Stores s = x - x_prev, y = g - g_prev unless s'y <= eps |s| |y| (their cosine is not
    // positive at T's resolution): without positive curvature the update would make the
    // inverse-Hessian estimate indefinite. The test does not change when the loss is scaled,
    // as the optimizer's steps do not; s'y <= eps y'y would reject every pair of a loss with
    // a large enough scale (s'y / y'y is the inverse curvature) and leave steepest descent.
    // Returns whether it stored.
    bool push(const T* x, const T* x_prev, const T* g, const T* g_prev) {
        // Test first, store after: when the ring is full the slot written is the oldest pair,
        // which must survive a rejected update.
        const auto [ss, sy, yy] = curvature(x, x_prev, g, g_prev, n_);
        if (!(sy > std::numeric_limits<T>::epsilon() * std::sqrt(ss) * std::sqrt(yy))) return false;

        const std::size_t slot = (first_ + count_) % capacity_;
        difference(x, x_prev, s_[slot].data(), n_);
        difference(g, g_prev, y_[slot].data(), n_);
        rho_[slot] = 1.0 / sy;
        gamma_ = sy / yy;
        if (count_ < capacity_) ++count_;
        else first_ = (first_ + 1) % capacity_;
        return true;
    }

    // direction = -H g by the two-loop recursion, with H0 = gamma I, gamma = s'y / y'y of the
    // newest pair (Nocedal & Wright algorithm 7.4). Requires size() > 0.
    void direction(const T* g, T* d) {
        copy(g, d, n_);
        for (std::size_t k = count_; k-- > 0;) {
            const std::size_t i = (first_ + k) % capacity_;
            alpha_[i] = rho_[i] * dot(s_[i].data(), d, n_);
            axpy(-alpha_[i], y_[i].data(), d, n_);
        }
        scale(gamma_, d, n_);
        for (std::size_t k = 0; k < count_; ++k) {
            const std::size_t i = (first_ + k) % capacity_;
            const double beta = rho_[i] * dot(y_[i].data(), d, n_);
            axpy(alpha_[i] - beta, s_[i].data(), d, n_);
        }
        scale(-1.0, d, n_);
    }

private:
    std::size_t capacity_, n_;
    std::size_t first_ = 0, count_ = 0;
    std::vector<work_vector<T>> s_, y_;
    std::vector<double> rho_, alpha_;
    double gamma_ = 1.0;
};

// The last window + 1 losses at accepted points, for the loss-change test; no allocation after
// construction.
template <class T> class recent_losses {
public:
    explicit recent_losses(std::size_t window) : losses_(window + 1) {}

    void push(T loss) {
        losses_[(first_ + count_) % losses_.size()] = loss;
        if (count_ < losses_.size()) ++count_;
        else first_ = (first_ + 1) % losses_.size();
    }
    bool full() const { return count_ == losses_.size(); }
    T oldest() const { return losses_[first_]; }
    T newest() const { return losses_[(first_ + count_ - 1) % losses_.size()]; }

private:
    std::vector<T> losses_;
    std::size_t first_ = 0, count_ = 0;
};

// One call of lbfgs::minimize: the iteration as named steps over buffers allocated once.
template <class T, class X, class F> class lbfgs_run {
public:
    using options = typename lbfgs<T>::options;

    lbfgs_run(const options& opts, F& f, X& x)
        : opts_(opts), run_("nst::lbfgs::minimize", f, x), x_(x), n_(run_.size()), x_prev_(n_),
          g_prev_(n_), d_(n_), history_(opts.history_size, n_), losses_(opts.loss_change_window),
          last_step_length_(opts.first_step_length) {
        search_options_.c1 = opts.wolfe_c1;
        search_options_.c2 = opts.wolfe_c2;
        search_options_.max_evaluations = opts.max_line_search_steps;
    }

    template <class... Callbacks> optim_result<T> minimize(Callbacks&... callbacks) {
        run_.evaluate_start();
        losses_.push(run_.loss);
        stop_reason reason = stop_reason::max_iterations;
        if (should_stop(&reason, callbacks...)) return run_.finish(reason);
        while (run_.result().iterations < opts_.max_iterations) {
            if (!step(&reason)) return run_.finish(reason);
            if (should_stop(&reason, callbacks...)) return run_.finish(reason);
        }
        return run_.finish(stop_reason::max_iterations);
    }

private:
    // One iteration: a direction, a line search along it (retried once along steepest descent
    // with the history cleared), then the accepted step. False: no step was found, x is
    // unchanged and *reason says why (line_search_failed, or non_finite when the last search
    // met only NaN/inf: no retry then, since f is broken at or near x).
    bool step(stop_reason* reason) {
        copy(x_.data(), x_prev_.data(), n_);
        copy(run_.g(), g_prev_.data(), n_);
        if (!search(choose_direction())) {
            if (history_.size() == 0 || only_non_finite_) return fail(reason);  // a retry would not help
            history_.clear();
            if (!search(steepest_descent())) return fail(reason);
        }
        accept_step();
        return true;
    }

    bool fail(stop_reason* reason) const {
        *reason = only_non_finite_ ? stop_reason::non_finite : stop_reason::line_search_failed;
        return false;
    }

    // The quasi-Newton direction if there is history and it descends, else steepest descent.
    // Returns the first trial step: 1 for quasi-Newton, whose step is already scaled by gamma.
    double choose_direction() {
        if (history_.size() == 0) return steepest_descent();
        history_.direction(run_.g(), d_.data());
        if (dot(run_.g(), d_.data(), n_) < 0.0) return 1.0;
        history_.clear();  // rounding spoiled descent: start afresh
        return steepest_descent();
    }

    // Direction -g. The first trial step has length first_step_length on the first iteration
    // and the length of the last accepted step afterwards (the scale the run has reached).
    double steepest_descent() {
        scaled_copy(-1.0, run_.g(), d_.data(), n_);
        return last_step_length_ / run_.gradient_norm;
    }

    // Strong Wolfe search along d from (x_prev, g_prev), evaluating f in place at x. On
    // success x holds the accepted point; on failure x, g and the loss are restored. A trial
    // with a NaN/inf loss or gradient counts as a step that is too long (the search backs off).
    bool search(double initial_step) {
        bool any_finite = false, any_non_finite = false;  // among the points f was called at
        auto phi = [&](double alpha) {
            const auto r = trial(alpha);
            if (!trial_at_start_) (trial_finite_ ? any_finite : any_non_finite) = true;
            return r;
        };
        loss0_ = run_.loss;
        dphi0_ = dot(g_prev_.data(), d_.data(), n_);
        const line_search_result r =
            opts_.backtracking
                ? backtracking_line_search(phi, static_cast<double>(loss0_), dphi0_, initial_step, search_options_)
                : strong_wolfe_line_search(phi, static_cast<double>(loss0_), dphi0_, initial_step, search_options_);
        if (r.satisfied && !trial_at_start_) run_.accept_latest();
        if (!r.satisfied) restore_start();
        only_non_finite_ = !r.satisfied && any_non_finite && !any_finite;
        return r.satisfied;
    }

    // phi(alpha) = f(x_prev + alpha d) and its slope along d.
    std::pair<double, double> trial(double alpha) {
        point_on_ray(x_prev_.data(), alpha, d_.data(), x_.data(), n_);
        trial_at_start_ = equal(x_prev_.data(), x_.data(), n_);
        if (trial_at_start_) {
            // The step is below T's resolution: f's answer is known, and f may be expensive.
            copy(g_prev_.data(), run_.g(), n_);
            run_.loss = loss0_;
            return {static_cast<double>(loss0_), dphi0_};
        }
        trial_finite_ = run_.evaluate_from(x_prev_.data());
        return {static_cast<double>(run_.loss), dot(run_.g(), d_.data(), n_)};
    }

    void restore_start() {
        copy(x_prev_.data(), x_.data(), n_);
        copy(g_prev_.data(), run_.g(), n_);
        run_.loss = loss0_;
    }

    void accept_step() {
        ++run_.result().iterations;
        last_step_length_ = distance(x_.data(), x_prev_.data(), n_);
        run_.result().last_step_length = last_step_length_;
        history_.push(x_.data(), x_prev_.data(), run_.g(), g_prev_.data());
        run_.gradient_norm = norm(run_.g(), n_);
        losses_.push(run_.loss);
    }

    // Runs the callbacks, then the convergence tests; true means stop with *reason.
    template <class... Callbacks> bool should_stop(stop_reason* reason, Callbacks&... callbacks) {
        if (run_.callbacks_or_gradient_stop(opts_.gradient_tolerance, reason, callbacks...)) return true;
        if (loss_change_converged()) return *reason = stop_reason::converged_loss_change, true;
        return false;
    }

    // The loss fell by less than tolerance * max(|f_old|, |f_new|) over the last window steps.
    bool loss_change_converged() const {
        if (!losses_.full()) return false;
        const double older = losses_.oldest(), newer = losses_.newest();
        return older - newer < opts_.loss_change_tolerance * std::max(std::abs(older), std::abs(newer));
    }

    const options& opts_;
    run<T, X, F> run_;
    X& x_;
    std::size_t n_;
    work_vector<T> x_prev_, g_prev_, d_;  // the iteration's start and search direction
    lbfgs_history<T> history_;
    recent_losses<T> losses_;
    line_search_options search_options_;
    double last_step_length_;
    T loss0_{};              // the loss at x_prev during a search
    double dphi0_ = 0.0;     // the slope at x_prev along d during a search
    bool trial_at_start_ = false;  // the last trial point equals x_prev (f was not called)
    bool trial_finite_ = false;    // f's loss and gradient at the last evaluated trial were finite
    bool only_non_finite_ = false; // the last search failed and every trial in it was non-finite
};

}  // namespace optim_detail

template <class T>
template <class F, class X, class... Callbacks>
optim_result<T> lbfgs<T>::minimize(F&& f, X& x, Callbacks&&... callbacks) const {
    static_assert(std::is_same_v<optim_detail::element_t<X>, T>,
                  "nst::lbfgs<T>::minimize: the elements of x must have type T");
    optim_detail::lbfgs_run<T, X, std::remove_reference_t<F>> run(opts_, f, x);
    return run.minimize(callbacks...);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
