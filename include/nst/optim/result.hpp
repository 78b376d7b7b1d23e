// What an optimizer run returns: why it stopped and where it ended. The point itself is the x
// that minimize() was given, updated in place.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

namespace nst {

enum class stop_reason {
    converged_gradient,     // |gradient| fell below the gradient tolerance
    converged_loss_change,  // the relative loss decrease over the patience window fell below tolerance
    max_iterations,         // the iteration budget was used up
    stopped_by_callback,    // a callback returned false
    line_search_failed,     // no step satisfying the line-search conditions was found, even along
                            // steepest descent; usually the loss/gradient is at its numerical limit
                            // or the gradient does not match the loss
    non_finite_value,       // the loss or gradient became NaN/inf (x is left at the last finite point)
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
        case stop_reason::non_finite_value: return "non_finite_value";
    }
    return "unknown stop_reason";
}

inline std::ostream& operator<<(std::ostream& out, stop_reason reason) { return out << to_string(reason); }

template <class T> struct optim_result {
    T loss{};                   // f at the final x
    T gradient_norm{};          // Euclidean norm of the gradient at the final x
    std::size_t iterations = 0; // accepted steps (never more than the max_iterations option)
    std::size_t evaluations = 0;// calls of f, including line-search trials
    stop_reason reason = stop_reason::max_iterations;
    double elapsed_seconds = 0.0;

    // True when a convergence test (gradient or loss change) ended the run.
    bool converged() const {
        return reason == stop_reason::converged_gradient || reason == stop_reason::converged_loss_change;
    }
};

}  // namespace nst
