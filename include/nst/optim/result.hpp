// What an optimizer run returns: why it stopped and where it ended. The point itself is the x
// that minimize() was given, updated in place.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

enum class stop_reason {
    converged_gradient,     // |gradient| fell below the gradient tolerance
    converged_loss_change,  // the relative loss decrease over the patience window fell below tolerance
    max_iterations,         // the iteration budget was used up
    stopped_by_callback,    // a callback returned false
    line_search_failed,     // no step satisfying the line-search conditions was found, even along
                            // steepest descent; usually the loss/gradient is at its numerical limit
                            // or the gradient does not match the loss
    non_finite,             // f returned a NaN/inf loss or gradient during the run: x is left at the
                            // last accepted point (finite), and optim_result::non_finite says
                            // where and what. (For L-BFGS only when a whole line search found no
                            // finite trial point: a non-finite trial is first treated as a step
                            // that is too long.) A non-finite start is an error, not a result.
};

/*!
    ensures
        - returns the enumerator's name, e.g. "max_iterations"
!*/
inline std::string to_string(stop_reason reason) {
    switch (reason) {
        case stop_reason::converged_gradient: return "converged_gradient";
        case stop_reason::converged_loss_change: return "converged_loss_change";
        case stop_reason::max_iterations: return "max_iterations";
        case stop_reason::stopped_by_callback: return "stopped_by_callback";
        case stop_reason::line_search_failed: return "line_search_failed";
        case stop_reason::non_finite: return "non_finite";
    }
    return "unknown stop_reason";
}

inline std::ostream& operator<<(std::ostream& out, stop_reason reason) { return out << to_string(reason); }

// Where a run that stopped with stop_reason::non_finite met the NaN/inf.
struct non_finite_report {
    std::size_t iteration = 0;   // the step being attempted: optim_result::iterations + 1
    std::size_t evaluation = 0;  // which call of f returned it (1 = the starting point's)
    bool loss = false;           // the loss was NaN or inf
    bool gradient = false;       // some element of the gradient was NaN or inf
    // When f returns a value with named parts (objective's loss_value): the groups of the parts
    // that were not finite at that evaluation, each once, in the order the terms were added.
    // Empty for a plain number, or when only the gradient went bad.
    std::vector<std::string> terms;
};

/*!
    ensures
        - returns "; non-finite loss terms: style, tv" naming r.terms, or "" when it is empty: the
          words both a run's report (to_string below) and a non-finite start's error use
!*/
inline std::string non_finite_terms_text(const non_finite_report& r) {
    std::string text;
    for (std::size_t i = 0; i < r.terms.size(); ++i)
        text += (i == 0 ? "; non-finite loss terms: " : ", ") + r.terms[i];
    return text;
}

/*!
    ensures
        - returns a one-line description for a message, e.g. "the gradient became non-finite
          (NaN or inf) at iteration 7 (evaluation 9 of f)", followed by
          "; non-finite loss terms: style, tv" when r.terms names any
!*/
inline std::string to_string(const non_finite_report& r) {
    const char* what = r.loss && r.gradient ? "the loss and the gradient" : r.loss ? "the loss" : "the gradient";
    return std::string(what) + " became non-finite (NaN or inf) at iteration " + std::to_string(r.iteration) +
           " (evaluation " + std::to_string(r.evaluation) + " of f)" + non_finite_terms_text(r);
}

template <class T> struct optim_result {
    T loss{};                   // f at the final x
    T gradient_norm{};          // Euclidean norm of the gradient at the final x
    std::size_t iterations = 0; // accepted steps (never more than the max_iterations option)
    std::size_t evaluations = 0;// calls of f, including line-search trials
    stop_reason reason = stop_reason::max_iterations;
    double elapsed_seconds = 0.0;
    non_finite_report non_finite;  // meaningful only when reason == stop_reason::non_finite
    // L-BFGS: the Euclidean length of the last accepted step (0 when none was taken), the scale a
    // follow-on run can start from (lbfgs::options::first_step_length). Adam leaves it 0.
    double last_step_length = 0.0;

    // True when a convergence test (gradient or loss change) ended the run.
    bool converged() const {
        return reason == stop_reason::converged_gradient || reason == stop_reason::converged_loss_change;
    }
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
