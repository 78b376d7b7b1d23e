// Ready-made optimizer callbacks (the contract is in state.hpp). Each is a small value type
// usable with any nst optimizer, scalar type, tensor rank and value type V of f: they read only
// state.loss and state.elapsed_seconds. Callbacks run between iterations,
// so a stop request takes effect after the current iteration (for L-BFGS: its line search).
// To stop sooner, f may throw: x is then the last accepted point, as a callback last saw it.
#pragma once

#include <atomic>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "state.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

/*!
    ensures
        - stops the run at the first iteration (0 included) reached when at least `seconds` of
          wall time have passed since minimize() started. stop_after_seconds{0} stops at once.
!*/
struct stop_after_seconds {
    double seconds;

    template <class State> bool operator()(const State& state) const {
        return state.elapsed_seconds < seconds;
    }
};

/*!
    requires
        - the flag outlives the run (the callback keeps a reference)
    ensures
        - stops the run at the first iteration (0 included) at which flag is true; setting the
          flag from another thread or a signal handler (lock-free atomic) is the intended use,
          e.g. to end a long stylisation cleanly on Ctrl-C and keep the current image
!*/
class stop_flag {
public:
    explicit stop_flag(const std::atomic<bool>& flag) : flag_(&flag) {}

    template <class State> bool operator()(const State&) const {
        return !flag_->load(std::memory_order_relaxed);
    }

private:
    const std::atomic<bool>* flag_;  // a pointer keeps the callback copy-assignable
};

/*!
    requires
        - losses outlives the run (the callback keeps a reference)
    ensures
        - appends state.loss to losses at every callback, starting with the loss at iteration 0,
          so after a run losses.size() grows by result.iterations + 1; never stops the run
!*/
template <class T> class record_history {
public:
    explicit record_history(std::vector<T>& losses) : losses_(&losses) {}

    template <class State> void operator()(const State& state) const { losses_->push_back(state.loss); }

private:
    std::vector<T>* losses_;
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
