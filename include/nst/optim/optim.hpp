// Umbrella for nst's optimizers. An nst optimizer is a class with
//     template <class F, class X, class... Callbacks>
//     optim_result<T> minimize(F&& f, X& x, Callbacks&&... callbacks) const;
// where f(const X& x, X& gradient) returns the loss (T, or a value v with static_cast<T>(v) the
// loss, shown to callbacks as state.value) and fills the gradient, x is updated in place, and
// callbacks follow state.hpp. Plug your own optimizer in by following the same shape.
#pragma once

#include "adam.hpp"
#include "callbacks.hpp"
#include "lbfgs.hpp"
#include "line_search.hpp"
#include "result.hpp"
#include "state.hpp"
