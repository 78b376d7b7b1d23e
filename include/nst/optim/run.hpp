// Internal: the bookkeeping every optimizer run shares — the clock, evaluating f into a gradient
// of x's shape, the result, and the test made at every accepted point (callbacks first, then the
// gradient tolerance). An optimizer adds only its own update rule and stopping rules.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"
#include "result.hpp"
#include "state.hpp"
#include "vector_ops.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace optim_detail {

// Whether V carries named parts (objective's loss_value: parts, each with a group and a value).
template <class V, class = void> struct has_named_parts : std::false_type {};
template <class V>
struct has_named_parts<V, std::void_t<decltype(std::declval<const V&>().parts.begin()->group),
                                      decltype(std::declval<const V&>().parts.begin()->value)>>
    : std::true_type {};

template <class T, class X, class F> class run {
public:
    using value_type = function_value_t<F, X>;
    static_assert(std::is_constructible_v<T, const value_type&>,
                  "f(x, gradient) must return the loss T or a value v with static_cast<T>(v)");
    using state_type = iteration_state<T, X, value_type>;

    // requires: x is not empty (throws invalid_argument naming `who` otherwise).
    run(const char* who, F& f, X& x) : who_(who), f_(f), x_(x), n_(x.size()), gradient_(x) {
        if (n_ == 0) throw invalid_argument(who_ + ": x is empty (nothing to optimise)");
        g_ = gradient_.data();
    }

    std::size_t size() const { return n_; }
    T* g() { return g_; }
    X& gradient() { return gradient_; }
    optim_result<T>& result() { return result_; }
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

    // f(x, gradient) into loss and g(); returns whether both are finite (if not, notes where
    // in result().non_finite). What f returned is kept as the latest value until
    // accept_latest() makes it the accepted point's.
    bool evaluate() {
        fill_zero(g_, n_);
        latest_ = f_(static_cast<const X&>(x_), gradient_);
        loss = static_cast<T>(*latest_);
        ++result_.evaluations;
        g_ = gradient_.data();  // `gradient = expr` in f may have swapped in a new buffer
        if (gradient_.size() != n_)
            throw shape_error(who_ + ": f resized the gradient from " + std::to_string(n_) +
                              " to " + std::to_string(gradient_.size()) + " elements");
        const bool loss_finite = std::isfinite(loss), gradient_finite = all_finite(g_, n_);
        if (loss_finite && gradient_finite) return true;
        // Only here, off the finite path: which named parts went bad.
        result_.non_finite = {result_.iterations + 1, result_.evaluations, !loss_finite, !gradient_finite,
                              non_finite_groups(*latest_)};
        return false;
    }

    // evaluate() at a point stepped to from `back` (the accepted x, same size): if f throws, x
    // is put back there first, so a caller that catches the exception (e.g. a cancelled
    // evaluation) holds the point the callbacks last saw, not an untested trial.
    bool evaluate_from(const T* back) {
        try {
            return evaluate();
        } catch (...) {
            copy(back, x_.data(), n_);
            throw;
        }
    }

    // The first evaluation: a non-finite start is the caller's error, not a result.
    void evaluate_start() {
        if (!evaluate()) {
            const non_finite_report& r = result_.non_finite;
            const char* what = r.loss && r.gradient ? "loss and gradient" : r.loss ? "loss" : "gradient";
            // The terms in the words of a run's report (to_string): one wording for both paths.
            throw non_finite_start(who_ + ": the " + what + " at the starting point " +
                                   (r.loss && r.gradient ? "are" : "is") + " not finite (loss = " +
                                   number_text(loss) + non_finite_terms_text(r) + ")");
        }
        gradient_norm = norm(g_, n_);
        accept_latest();
    }

    // For a value with named parts: the groups of the parts that are not finite, each once (a
    // term that went NaN, named); else none.
    static std::vector<std::string> non_finite_groups([[maybe_unused]] const value_type& value) {
        std::vector<std::string> groups;
        if constexpr (has_named_parts<value_type>::value) {
            for (const auto& part : value.parts) {
                const std::string group(part.group);
                if (!std::isfinite(double(part.value)) &&
                    std::find(groups.begin(), groups.end(), group) == groups.end())
                    groups.push_back(group);
            }
        }
        return groups;
    }

    // The latest evaluation is the new accepted point: callbacks see its value from now on.
    void accept_latest() { std::swap(accepted_, latest_); }

    // Runs the callbacks at the current point, then the gradient test
    // |g| <= tolerance * max(1, |x|); true means stop with *reason.
    template <class... Callbacks>
    bool callbacks_or_gradient_stop(double tolerance, stop_reason* reason,
                                    Callbacks&... callbacks) {
        const state_type state{result_.iterations, loss, *accepted_, x_, gradient_,
                               static_cast<T>(gradient_norm), result_.evaluations, seconds()};
        if (!invoke_callbacks(state, callbacks...))
            return *reason = stop_reason::stopped_by_callback, true;
        if (gradient_norm == 0.0 ||
            gradient_norm <= tolerance * std::max(1.0, norm(x_.data(), n_)))
            return *reason = stop_reason::converged_gradient, true;
        return false;
    }

    optim_result<T> finish(stop_reason reason) {
        result_.loss = loss;
        result_.gradient_norm = static_cast<T>(gradient_norm);
        result_.reason = reason;
        if (reason != stop_reason::non_finite) result_.non_finite = {};  // trials the run got past
        result_.elapsed_seconds = seconds();
        return result_;
    }

    T loss{};
    double gradient_norm = 0.0;  // |g| at the current point

private:
    std::string who_;
    F& f_;
    X& x_;
    std::size_t n_;
    X gradient_;  // same shape as x
    T* g_;
    optim_result<T> result_;
    std::optional<value_type> latest_, accepted_;  // f's answer at the last evaluation / at x
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace optim_detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
