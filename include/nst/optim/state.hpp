// What an optimizer tells its callbacks after each iteration, and the callback contract.
//
// The function f(x, gradient) an optimizer minimises returns either the loss T itself or any
// value V from which static_cast<T>(v) gives the loss (e.g. nst::loss_value<T>, which also
// carries the loss's parts). The optimizer keeps the V of the current accepted point and shows
// it to callbacks as state.value, so a callback sees exactly what f said about state.x.
// V must be move-constructible and move-assignable: the optimizer holds two (the accepted
// point's and the latest evaluation's) and swaps them when a step is accepted, never copies.
//
// A callback is any object `cb` such that `cb(state)` compiles for a
// `const iteration_state<T, X, V>&` and returns either void or something convertible to bool.
// Returning false asks the optimizer to stop; void means "never stops the run".
// Lambdas with `const auto&` parameters, function objects with a template operator() and
// function pointers all qualify; writing the state type out ties a callback to one V.
//
// When callbacks run (same rule for every nst optimizer):
//   - once at iteration 0, after the starting point has been evaluated and before any step, so a
//     history or progress display also sees the starting loss;
//   - then once after every accepted step (iteration 1, 2, ...), with x and gradient at the new
//     point. Line-search trial points are never reported.
//   - every callback is called each time, in the order given, even if an earlier one already
//     asked to stop; the run stops if any of them returned false.
// A stop requested at iteration k ends the run with iterations == k and x at that point.
#pragma once

#include <cstddef>
#include <functional>
#include <type_traits>

#include "../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

/*!
    WHAT THIS OBJECT REPRESENTS
        The accepted point of an optimizer run, as a callback sees it.
        - T: the scalar type of x's elements and of the loss
        - X: the container type of x and of the gradient
        - V: what f returns, decayed (std::decay_t of f(x, gradient)'s type); V == T for a
          function that returns the loss itself
    ensures
        - loss == static_cast<T>(value)
        - value, x and gradient all describe the same accepted point: value is the object f
          returned when it was called at x (never a line-search trial's)
        - the references are valid only during the callback; copy what must outlive it
!*/
template <class T, class X, class V = T> struct iteration_state {
    std::size_t iteration;   // accepted steps so far (0 = the starting point)
    T loss;                  // f(x) as a number: static_cast<T>(value)
    const V& value;          // what f returned at x (for a V with parts: all of them)
    const X& x;              // the current point
    const X& gradient;       // grad f(x)
    T gradient_norm;         // Euclidean norm of gradient
    std::size_t evaluations; // calls of f so far, including line-search trials
    double elapsed_seconds;  // wall time since minimize() started
};

/*!
    requires
        - f(const X& x, X& gradient) is valid
    ensures
        - function_value_t<F, X> is the decayed type f returns: the V of iteration_state
!*/
template <class F, class X>
using function_value_t = std::decay_t<std::invoke_result_t<F&, const X&, X&>>;

/*!
    requires
        - cb(state) is valid and returns void or a type convertible to bool
    ensures
        - calls cb(state) once
        - returns false if cb returned false, true otherwise (always true for void callbacks)
!*/
template <class Callback, class State> bool invoke_callback(Callback& cb, const State& state) {
    static_assert(std::is_invocable_v<Callback&, const State&>,
                  "an nst optimizer callback must be invocable as cb(const iteration_state<T, X, V>&)");
    using result = std::invoke_result_t<Callback&, const State&>;
    if constexpr (std::is_void_v<result>) {
        std::invoke(cb, state);
        return true;
    } else {
        static_assert(std::is_convertible_v<result, bool>,
                      "an nst optimizer callback must return void or something convertible to bool");
        return static_cast<bool>(std::invoke(cb, state));
    }
}

/*!
    requires
        - each callback satisfies the contract of invoke_callback
    ensures
        - calls every callback once, in order, with state (no short-circuit)
        - returns true if the run should continue, i.e. no callback returned false
!*/
template <class State, class... Callbacks>
bool invoke_callbacks(const State& state, Callbacks&&... callbacks) {
    (void)state;  // unused when there are no callbacks
    bool keep_going = true;
    ((keep_going = invoke_callback(callbacks, state) && keep_going), ...);
    return keep_going;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
