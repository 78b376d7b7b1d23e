// A one-dimensional line search for the strong Wolfe conditions (Nocedal & Wright, "Numerical
// Optimization", 2nd ed., algorithms 3.5 and 3.6): extrapolate until a step brackets an
// acceptable one, then shrink the bracket ("zoom") by safeguarded cubic or quadratic
// interpolation, falling back to bisection.
//
// It knows nothing about vectors: phi(alpha) = f(x + alpha * d) and its derivative
// phi'(alpha) = grad f(x + alpha * d) . d are supplied by the caller, which keeps this testable
// on scalar functions and lets the caller decide where trial points live.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

struct line_search_options {
    double c1 = 1e-4;                  // sufficient decrease (Armijo) constant
    double c2 = 0.9;                   // curvature constant; 0 < c1 < c2 < 1
    std::size_t max_evaluations = 20;  // calls of phi allowed in one search
    double max_step = 1e20;            // never try a step longer than this
};

struct line_search_result {
    bool satisfied = false;   // true: the strong Wolfe conditions hold at step
    double step = 0.0;        // the accepted step (meaningful only if satisfied)
    double value = 0.0;       // phi(step)
    double derivative = 0.0;  // phi'(step)
    std::size_t evaluations = 0;
};

namespace optim_detail {

// Minimiser of the cubic matching values and slopes at a and b, or NaN if it has none.
inline double cubic_minimizer(double a, double fa, double da, double b, double fb, double db) {
    const double d1 = da + db - 3.0 * (fa - fb) / (a - b);
    const double disc = d1 * d1 - da * db;
    if (!(disc >= 0.0)) return std::numeric_limits<double>::quiet_NaN();
    const double d2 = std::copysign(std::sqrt(disc), b - a);
    return b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
}

// Minimiser of the parabola matching fa, da at a and fb at b, or NaN if it opens downwards.
inline double quadratic_minimizer(double a, double fa, double da, double b, double fb) {
    const double h = b - a;
    const double curvature = (fb - fa - da * h) / (h * h);
    if (!(curvature > 0.0)) return std::numeric_limits<double>::quiet_NaN();
    return a - da / (2.0 * curvature);
}

inline bool strictly_inside(double x, double lo, double hi) { return x > lo && x < hi; }

// One strong Wolfe search: the bracketing phase (search) and the zoom phase, sharing the
// evaluation budget and the result.
template <class Phi> class strong_wolfe_search {
public:
    strong_wolfe_search(Phi& phi, double phi0, double dphi0, const line_search_options& opts)
        : phi_(phi), phi0_(phi0), opts_(opts), armijo_slope_(opts.c1 * dphi0),
          curvature_bound_(-opts.c2 * dphi0), dphi0_(dphi0) {}

    // Algorithm 3.5: grow the step until it brackets an acceptable one, then zoom.
    line_search_result search(double initial_step) {
        double prev = 0.0, f_prev = phi0_, d_prev = dphi0_;
        double alpha = std::min(initial_step, opts_.max_step);
        while (r_.evaluations < opts_.max_evaluations) {
            double f, d;
            evaluate(alpha, f, d);
            if (!sufficient_decrease(alpha, f) || (r_.evaluations > 1 && f >= f_prev))
                return zoom(prev, f_prev, d_prev, alpha, f, d);
            if (std::abs(d) <= curvature_bound_) return accept(alpha, f, d);
            if (d >= 0.0) return zoom(alpha, f, d, prev, f_prev, d_prev);

            // Still descending steeply: extrapolate, growing the step 2x to 11x.
            if (alpha >= opts_.max_step) break;
            const double delta = alpha - prev;
            const double shortest = alpha + delta, longest = alpha + 10.0 * delta;
            double next = cubic_minimizer(prev, f_prev, d_prev, alpha, f, d);
            if (!std::isfinite(next) || next > longest) next = longest;
            if (next < shortest) next = shortest;
            prev = alpha, f_prev = f, d_prev = d;
            alpha = std::min(next, opts_.max_step);
        }
        return r_;  // not satisfied
    }

private:
    // Algorithm 3.6 on a bracket. Invariants: lo satisfies sufficient decrease and has the
    // lowest value seen among such steps; the minimiser sought lies between lo and hi
    // (derivative at lo points towards hi).
    line_search_result zoom(double lo, double f_lo, double d_lo, double hi, double f_hi, double d_hi) {
        while (r_.evaluations < opts_.max_evaluations) {
            const double left = std::min(lo, hi), right = std::max(lo, hi);
            const double width = right - left;
            if (width <= 4.0 * std::numeric_limits<double>::epsilon() * right) break;  // unresolvable
            const double alpha = std::clamp(interpolate(lo, f_lo, d_lo, hi, f_hi, d_hi),
                                            left + 0.1 * width, right - 0.1 * width);
            double f, d;
            evaluate(alpha, f, d);
            if (!sufficient_decrease(alpha, f) || f >= f_lo) {
                hi = alpha, f_hi = f, d_hi = d;
            } else {
                if (std::abs(d) <= curvature_bound_) return accept(alpha, f, d);
                if (d * (hi - lo) >= 0.0) hi = lo, f_hi = f_lo, d_hi = d_lo;
                lo = alpha, f_lo = f, d_lo = d;
            }
        }
        return r_;  // not satisfied
    }

    // The next zoom trial: the cubic through both ends if it has a minimiser in the bracket,
    // else the parabola from lo's value and slope and hi's value, else bisection. The caller
    // keeps it 10% away from the ends, so the bracket shrinks by at least 10% and by at most
    // 10x per trial.
    static double interpolate(double lo, double f_lo, double d_lo, double hi, double f_hi, double d_hi) {
        const double left = std::min(lo, hi), right = std::max(lo, hi);
        double alpha = std::numeric_limits<double>::quiet_NaN();
        if (std::isfinite(f_hi) && std::isfinite(d_hi)) alpha = cubic_minimizer(lo, f_lo, d_lo, hi, f_hi, d_hi);
        if (!strictly_inside(alpha, left, right) && std::isfinite(f_hi))
            alpha = quadratic_minimizer(lo, f_lo, d_lo, hi, f_hi);
        if (!strictly_inside(alpha, left, right)) alpha = 0.5 * (lo + hi);
        return alpha;
    }

    bool sufficient_decrease(double alpha, double f) const { return !(f > phi0_ + alpha * armijo_slope_); }

    // A non-finite value or slope is treated as "far too long": value +inf shrinks the bracket.
    void evaluate(double alpha, double& value, double& derivative) {
        auto [v, d] = phi_(alpha);
        ++r_.evaluations;
        value = static_cast<double>(v);
        derivative = static_cast<double>(d);
        if (!std::isfinite(value) || !std::isfinite(derivative)) {
            value = std::numeric_limits<double>::infinity();
            derivative = std::numeric_limits<double>::quiet_NaN();
        }
    }

    line_search_result accept(double alpha, double value, double derivative) {
        r_.satisfied = true;
        r_.step = alpha;
        r_.value = value;
        r_.derivative = derivative;
        return r_;
    }

    Phi& phi_;
    double phi0_;
    const line_search_options& opts_;
    double armijo_slope_, curvature_bound_, dphi0_;
    line_search_result r_;
};

}  // namespace optim_detail

/*!
    requires
        - phi(alpha) returns a pair-like [value, derivative] (structured bindings) for alpha > 0:
          phi(alpha) and phi'(alpha); non-finite values are allowed and mean "step too long"
        - phi0 = phi(0) is finite, dphi0 = phi'(0) < 0 (a descent direction)
        - initial_step > 0, 0 < opts.c1 < opts.c2 < 1, opts.max_evaluations >= 1
    ensures
        - calls phi at most opts.max_evaluations times, always with 0 < alpha <= opts.max_step
        - if the returned r.satisfied:
            - r.value <= phi0 + c1 * r.step * dphi0        (sufficient decrease)
            - |r.derivative| <= c2 * |dphi0|                (strong curvature condition)
            - the LAST call of phi was phi(r.step), so a caller that evaluates in place already
              holds the accepted point
        - otherwise no step was found within the budget; the caller should restore its start.
        - r.evaluations == number of calls of phi
!*/
template <class Phi>
line_search_result strong_wolfe_line_search(Phi&& phi, double phi0, double dphi0, double initial_step,
                                            const line_search_options& opts) {
    optim_detail::strong_wolfe_search<std::remove_reference_t<Phi>> search(phi, phi0, dphi0, opts);
    return search.search(initial_step);
}

/*!
    requires
        - phi, phi0, dphi0, initial_step and opts as for strong_wolfe_line_search (opts.c2 unused)
    ensures
        - backtracking (Armijo): tries initial_step, then halves it, until
          phi(step) <= phi0 + c1 * step * dphi0 and phi(step) < phi0 with a finite value and
          slope, at most
          opts.max_evaluations calls. For a "gradient" that is not the value's (e.g. normalised
          per term), whose slopes cannot be compared with the values as the curvature test does.
        - if r.satisfied, the LAST call of phi was phi(r.step); r.evaluations == calls of phi
!*/
template <class Phi>
line_search_result backtracking_line_search(Phi&& phi, double phi0, double dphi0, double initial_step,
                                            const line_search_options& opts) {
    line_search_result r;
    double alpha = std::min(initial_step, opts.max_step);
    while (r.evaluations < opts.max_evaluations) {
        auto [v, d] = phi(alpha);
        ++r.evaluations;
        const double value = static_cast<double>(v), derivative = static_cast<double>(d);
        // value < phi0 too: below phi0's resolution the Armijo bound alone would accept no change.
        if (std::isfinite(value) && std::isfinite(derivative) && value < phi0 &&
            value <= phi0 + opts.c1 * alpha * dphi0) {
            r.satisfied = true;
            r.step = alpha;
            r.value = value;
            r.derivative = derivative;
            return r;
        }
        alpha *= 0.5;
    }
    return r;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
