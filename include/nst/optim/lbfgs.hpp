// Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989) with a strong Wolfe line search: the
// optimizer of Gatys et al. and of jcjohnson/neural-style.
//
// Usage (#include <nst/optim/optim.hpp>):
//     nst::lbfgs<float>::options o;
//     o.max_iterations = 500;
//     nst::lbfgs<float> solver(o);
//     auto result = solver.minimize(objective, image, nst::record_history(losses));
//
// Cost per iteration: one line search (usually 1 evaluation of f, at most max_line_search_steps)
// plus O(history_size * n) vector work. Memory: (2 * history_size + 4) * n elements besides x,
// e.g. 24 copies of the image with the default history of 10.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "line_search.hpp"
#include "result.hpp"
#include "state.hpp"
#include "run.hpp"
#include "vector_ops.hpp"

namespace nst {

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
        // (after a failed line search) tries the length of the last accepted step.
        double first_step_length = 1.0;
        // Strong Wolfe line search.
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
            - opts.first_step_length > 0; the tolerances are >= 0
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
              with static_cast<T>(v) the loss (kept for callbacks as state.value, see
              state.hpp; it must be move-constructible), and writes grad f(x) into gradient. gradient has x's shape and is zero-filled before each call,
              so f may either assign or accumulate into it (assigning a whole expression, which
              gives xtensor a new buffer, is fine); f must not change its size.
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
              stopped_by_callback or line_search_failed (after one retry along steepest descent
              with the history cleared). f returning NaN/inf at a trial point only shortens the
              step; it never ends the run by itself.
        throws
            - nst::invalid_argument if x is empty, or if the loss or gradient at the starting
              point is not finite
            - nst::shape_error if f changes the size of the gradient
            - whatever f or a callback throws (x is then left at the point being evaluated)
    !*/
    template <class F, class X, class... Callbacks>
    optim_result<T> minimize(F&& f, X& x, Callbacks&&... callbacks) const;

private:
    static void validate(const options& o) {
        auto fail = [](const std::string& what) { throw invalid_argument("nst::lbfgs options: " + what); };
        if (o.history_size < 1) fail("history_size must be >= 1");
        if (o.loss_change_window < 1) fail("loss_change_window must be >= 1");
        if (o.max_line_search_steps < 1) fail("max_line_search_steps must be >= 1");
        if (!(o.wolfe_c1 > 0.0 && o.wolfe_c1 < o.wolfe_c2 && o.wolfe_c2 < 1.0))
            fail("need 0 < wolfe_c1 < wolfe_c2 < 1, got c1 = " + std::to_string(o.wolfe_c1) +
                 ", c2 = " + std::to_string(o.wolfe_c2));
        if (!(o.first_step_length > 0.0)) fail("first_step_length must be > 0");
        if (!(o.gradient_tolerance >= 0.0)) fail("gradient_tolerance must be >= 0");
        if (!(o.loss_change_tolerance >= 0.0)) fail("loss_change_tolerance must be >= 0");
    }

    options opts_;
};

namespace optim_detail {

// The (s, y) pairs of the last m accepted steps, oldest first, in a ring buffer.
template <class T> class lbfgs_history {
public:
    lbfgs_history(std::size_t capacity, std::size_t n) : capacity_(capacity), n_(n) {}

    std::size_t size() const { return count_; }
    void clear() { count_ = 0; }

    // Stores s = x - x_prev, y = g - g_prev unless s'y <= eps * y'y: without positive curvature
    // the update would make the inverse-Hessian estimate indefinite. Returns whether it stored.
    bool push(const T* x, const T* x_prev, const T* g, const T* g_prev) {
        // Test first, store after: when the buffer is full the slot written is the oldest pair,
        // which must survive a rejected update.
        double sy = 0.0, yy = 0.0;
        for (std::size_t i = 0; i < n_; ++i) {
            const double s = static_cast<double>(x[i] - x_prev[i]), y = static_cast<double>(g[i] - g_prev[i]);
            sy += s * y;
            yy += y * y;
        }
        if (!(sy > std::numeric_limits<T>::epsilon() * yy)) return false;

        const std::size_t slot = (first_ + count_) % capacity_;
        while (s_.size() <= slot) {  // allocate lazily: a run that converges early never pays
            s_.emplace_back(n_);
            y_.emplace_back(n_);
            rho_.push_back(0.0);
        }
        T* s = s_[slot].data();
        T* y = y_[slot].data();
        for (std::size_t i = 0; i < n_; ++i) s[i] = x[i] - x_prev[i], y[i] = g[i] - g_prev[i];
        rho_[slot] = 1.0 / sy;
        gamma_ = sy / yy;
        if (count_ < capacity_) ++count_;
        else first_ = (first_ + 1) % capacity_;
        return true;
    }

    // direction = -H g by the two-loop recursion, with H0 = gamma I, gamma = s'y / y'y of the
    // newest pair (Nocedal & Wright algorithm 7.4). Requires size() > 0.
    void direction(const T* g, T* d) {
        alpha_.resize(capacity_);
        std::copy(g, g + n_, d);
        for (std::size_t k = count_; k-- > 0;) {
            const std::size_t i = (first_ + k) % capacity_;
            alpha_[i] = rho_[i] * dot(s_[i].data(), d, n_);
            axpy(-alpha_[i], y_[i].data(), d, n_);
        }
        const T gamma = static_cast<T>(gamma_);
        for (std::size_t j = 0; j < n_; ++j) d[j] *= gamma;
        for (std::size_t k = 0; k < count_; ++k) {
            const std::size_t i = (first_ + k) % capacity_;
            const double beta = rho_[i] * dot(y_[i].data(), d, n_);
            axpy(alpha_[i] - beta, s_[i].data(), d, n_);
        }
        for (std::size_t j = 0; j < n_; ++j) d[j] = -d[j];
    }

private:
    std::size_t capacity_, n_;
    std::size_t first_ = 0, count_ = 0;
    std::vector<std::vector<T>> s_, y_;
    std::vector<double> rho_, alpha_;
    double gamma_ = 1.0;
};

}  // namespace optim_detail

template <class T>
template <class F, class X, class... Callbacks>
optim_result<T> lbfgs<T>::minimize(F&& f, X& x, Callbacks&&... callbacks) const {
    namespace od = optim_detail;
    static_assert(std::is_same_v<od::element_t<X>, T>,
                  "nst::lbfgs<T>::minimize: the elements of x must have type T");
    od::run<T, X, F> run("nst::lbfgs::minimize", f, x);
    const std::size_t n = run.size();
    // Names for the run's state, used throughout the line search below.
    T& loss = run.loss;
    double& gnorm = run.gradient_norm;
    optim_result<T>& result = run.result();
    run.evaluate_start();
    T* g = run.g();
    auto evaluate = [&] {
        run.evaluate();
        g = run.g();
    };

    std::vector<T> x_prev(n), g_prev(n), d(n);
    od::lbfgs_history<T> history(opts_.history_size, n);
    std::deque<T> recent_losses{loss};  // the last loss_change_window + 1 losses

    line_search_options ls;
    ls.c1 = opts_.wolfe_c1;
    ls.c2 = opts_.wolfe_c2;
    ls.max_evaluations = opts_.max_line_search_steps;

    // Searches along d from (x_prev, g_prev), evaluating in place. On failure x, g and loss are
    // restored.
    auto search = [&](double initial_step) {
        const double dphi0 = od::dot(g_prev.data(), d.data(), n);
        const T loss0 = loss;
        bool at_start = false;  // the last trial point equals x_prev (f was not called)
        auto phi = [&](double alpha) {
            od::point_on_ray(x_prev.data(), alpha, d.data(), x.data(), n);
            at_start = std::equal(x_prev.begin(), x_prev.end(), x.data());
            if (at_start) {
                // The step is below T's resolution: f's answer is known, and f may be expensive.
                std::copy(g_prev.begin(), g_prev.end(), g);
                loss = loss0;
                return std::pair<double, double>(static_cast<double>(loss0), dphi0);
            }
            evaluate();
            return std::pair<double, double>(static_cast<double>(loss), od::dot(g, d.data(), n));
        };
        const line_search_result r = strong_wolfe_line_search(phi, static_cast<double>(loss0), dphi0,
                                                              initial_step, ls);
        if (r.satisfied && !at_start) run.accept_latest();
        if (!r.satisfied) {
            std::copy(x_prev.begin(), x_prev.end(), x.data());
            std::copy(g_prev.begin(), g_prev.end(), g);
            loss = loss0;
        }
        return r.satisfied;
    };
    // Direction -g. The first trial step has length first_step_length on the first iteration
    // and the length of the last accepted step afterwards (the scale the run has reached).
    double last_step_length = opts_.first_step_length;
    auto steepest_descent = [&] {
        for (std::size_t i = 0; i < n; ++i) d[i] = -g[i];
        return last_step_length / gnorm;
    };

    auto finish = [&](stop_reason reason) { return run.finish(reason); };
    // Runs the callbacks, then the convergence tests; true means stop with *reason.
    auto should_stop = [&](stop_reason* reason) {
        if (run.callbacks_or_gradient_stop(opts_.gradient_tolerance, reason, callbacks...))
            return true;
        if (recent_losses.size() > opts_.loss_change_window) {
            const double older = recent_losses.front(), newer = recent_losses.back();
            if (older - newer < opts_.loss_change_tolerance * std::max(std::abs(older), std::abs(newer)))
                return *reason = stop_reason::converged_loss_change, true;
        }
        return false;
    };

    stop_reason reason = stop_reason::max_iterations;
    if (should_stop(&reason)) return finish(reason);

    while (result.iterations < opts_.max_iterations) {
        std::copy(x.data(), x.data() + n, x_prev.begin());
        std::copy(g, g + n, g_prev.begin());

        double initial_step = 1.0;  // the quasi-Newton step is already scaled by gamma
        if (history.size() > 0) {
            history.direction(g, d.data());
            if (!(od::dot(g, d.data(), n) < 0.0)) {  // rounding can spoil descent: start afresh
                history.clear();
                initial_step = steepest_descent();
            }
        } else {
            initial_step = steepest_descent();
        }

        if (!search(initial_step)) {
            if (history.size() == 0) return finish(stop_reason::line_search_failed);  // retry is identical
            history.clear();
            if (!search(steepest_descent())) return finish(stop_reason::line_search_failed);
        }

        ++result.iterations;
        last_step_length = od::distance(x.data(), x_prev.data(), n);
        history.push(x.data(), x_prev.data(), g, g_prev.data());
        gnorm = od::norm(g, n);
        recent_losses.push_back(loss);
        if (recent_losses.size() > opts_.loss_change_window + 1) recent_losses.pop_front();
        if (should_stop(&reason)) return finish(reason);
    }
    return finish(stop_reason::max_iterations);
}

}  // namespace nst
