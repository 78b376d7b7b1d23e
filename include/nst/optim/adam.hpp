// Adam (Kingma & Ba 2015, arXiv:1412.6980, algorithm 1, with bias correction): the optimizer of
// the TensorFlow style-transfer tutorial. A fixed-step first-order method: one evaluation of f
// per iteration, no line search, and the loss need not decrease monotonically.
// Memory: 4 * n elements besides x (gradient, two moment estimates, the previous x).
//
// Usage (#include <nst/optim/optim.hpp>):
//     nst::adam<float>::options o;
//     o.learning_rate = 2.0;   // in x's units: roughly the per-element step size
//     nst::adam<float> solver(o);
//     auto result = solver.minimize(objective, image);
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"
#include "result.hpp"
#include "state.hpp"
#include "run.hpp"
#include "vector_ops.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

template <class T> class adam {
    static_assert(std::is_floating_point_v<T>, "nst::adam<T>: T must be float, double or long double");

public:
    struct options {
        double learning_rate = 1e-3;  // alpha: the step taken per element is about this size
        double beta1 = 0.9;           // decay of the first-moment (mean) estimate
        double beta2 = 0.999;         // decay of the second-moment (uncentred variance) estimate
        double epsilon = 1e-8;        // added to sqrt(v_hat) so flat elements do not blow up
        std::size_t max_iterations = 1000;
        // Converged when |grad f(x)| <= gradient_tolerance * max(1, |x|), as for nst::lbfgs.
        // 0 disables the test.
        double gradient_tolerance = 1e-5;
    };

    /*!
        ensures
            - constructs a solver with default options
    !*/
    adam() = default;

    /*!
        requires
            - opts.learning_rate and opts.epsilon are finite and > 0 (with epsilon 0 an element
              whose gradient has been 0 so far would move by 0 / 0)
            - 0 <= opts.beta1 < 1, 0 <= opts.beta2 < 1, opts.gradient_tolerance >= 0
        ensures
            - constructs a solver that uses opts
        throws
            - nst::invalid_argument if a requirement on opts does not hold
    !*/
    explicit adam(const options& opts) : opts_(opts) { validate(opts_); }

    const options& get_options() const { return opts_; }

    /*!
        requires
            - X, f and callbacks as for nst::lbfgs<T>::minimize (f gets a zero-filled gradient)
        ensures
            - runs up to max_iterations Adam updates starting from x, updating x in place. Each
              iteration updates x from the gradient at the current point, then evaluates f at
              the new point, so result.evaluations == result.iterations + 1 (+ 1 more when
              the run ends with non_finite).
            - callbacks are invoked at iteration 0 and after every update (see state.hpp)
            - on return x is the LAST iterate, not necessarily the one with the lowest loss;
              result.loss and result.gradient_norm describe it
            - moment estimates start from zero on every call (a call is a fresh run)
            - stop_reason: converged_gradient, max_iterations, stopped_by_callback or
              non_finite: f returned a NaN/inf loss or gradient after an update (e.g. a learning
              rate far too large); the run stops at once, x is put back to the last accepted
              point (finite) and result.non_finite says at which iteration and evaluation, and
              whether the loss, the gradient or both were non-finite
        throws
            - nst::invalid_argument if x is empty, or if the loss or gradient at the starting
              point is not finite
            - nst::shape_error if f changes the size of the gradient
            - whatever f or a callback throws; x is then the last accepted point (the one the
              callbacks last saw), also when f threw at the point an update had just reached
    !*/
    template <class F, class X, class... Callbacks>
    optim_result<T> minimize(F&& f, X& x, Callbacks&&... callbacks) const;

private:
    static void validate(const options& o) {
        auto fail = [](const std::string& what) { throw invalid_argument("nst::adam options: " + what); };
        auto finite_positive = [](double v) { return v > 0.0 && std::isfinite(v); };
        if (!finite_positive(o.learning_rate))
            fail("learning_rate must be a finite number > 0, got " + number_text(o.learning_rate));
        if (!(o.beta1 >= 0.0 && o.beta1 < 1.0)) fail("beta1 must be in [0, 1), got " + number_text(o.beta1));
        if (!(o.beta2 >= 0.0 && o.beta2 < 1.0)) fail("beta2 must be in [0, 1), got " + number_text(o.beta2));
        if (!finite_positive(o.epsilon)) fail("epsilon must be a finite number > 0, got " + number_text(o.epsilon));
        if (!(o.gradient_tolerance >= 0.0))
            fail("gradient_tolerance must be >= 0, got " + number_text(o.gradient_tolerance));
    }

    options opts_;
};

template <class T>
template <class F, class X, class... Callbacks>
optim_result<T> adam<T>::minimize(F&& f, X& x, Callbacks&&... callbacks) const {
    namespace od = optim_detail;
    static_assert(std::is_same_v<od::element_t<X>, T>,
                  "nst::adam<T>::minimize: the elements of x must have type T");
    od::run<T, X, F> run("nst::adam::minimize", f, x);
    const std::size_t n = run.size();
    run.evaluate_start();

    stop_reason reason = stop_reason::max_iterations;
    if (run.callbacks_or_gradient_stop(opts_.gradient_tolerance, &reason, callbacks...))
        return run.finish(reason);

    od::work_vector<T> m(n, T(0)), v(n, T(0));  // moment estimates
    od::work_vector<T> x_prev(n);            // to step back if f leaves its domain
    od::adam_step<T> step{static_cast<T>(opts_.beta1), static_cast<T>(opts_.beta2), T(0), T(0),
                          static_cast<T>(opts_.epsilon)};
    double beta1_power = 1.0, beta2_power = 1.0;
    while (run.result().iterations < opts_.max_iterations) {
        beta1_power *= opts_.beta1;
        beta2_power *= opts_.beta2;
        step.step = static_cast<T>(opts_.learning_rate / (1.0 - beta1_power));
        step.inv_sqrt_correction2 = static_cast<T>(1.0 / std::sqrt(1.0 - beta2_power));
        od::adam_update(step, run.g(), m.data(), v.data(), x.data(), x_prev.data(), n);
        const T loss_prev = run.loss;
        if (!run.evaluate_from(x_prev.data())) {
            od::copy(x_prev.data(), x.data(), n);
            run.loss = loss_prev;  // gradient_norm still describes x_prev
            return run.finish(stop_reason::non_finite);
        }
        run.accept_latest();
        ++run.result().iterations;
        run.gradient_norm = od::norm(run.g(), n);
        if (run.callbacks_or_gradient_stop(opts_.gradient_tolerance, &reason, callbacks...))
            return run.finish(reason);
    }
    return run.finish(stop_reason::max_iterations);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
