// Ctrl-C (SIGINT) and SIGTERM (what service managers and containers send) both ask the `nst`
// program to stop after the current iteration and save the best image so far; the exit code is
// then 128 + the signal (130, 143). A second signal ends the program at once.
#pragma once

#include <atomic>
#include <csignal>

#include <unistd.h>

namespace nst::cli {

namespace detail {
inline std::atomic<bool> stop_requested{false};
inline std::atomic<int> stop_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

extern "C" inline void on_stop_signal(int signal) {
    if (stop_requested.exchange(true)) _exit(128 + signal);  // the second signal: give up at once
    stop_signal.store(signal);
    const char interrupt[] = "\nnst: interrupted, stopping after this iteration (Ctrl-C again to abort)\n";
    const char terminate[] = "\nnst: terminated, stopping after this iteration (SIGTERM again to abort)\n";
    const bool is_interrupt = signal == SIGINT;
    const ssize_t ignored = is_interrupt ? write(STDERR_FILENO, interrupt, sizeof interrupt - 1)
                                         : write(STDERR_FILENO, terminate, sizeof terminate - 1);
    (void)ignored;
}
}  // namespace detail

// From now on SIGINT and SIGTERM set the flag that stop_requested() reads.
inline void catch_stop_signals() {
    std::signal(SIGINT, detail::on_stop_signal);
    std::signal(SIGTERM, detail::on_stop_signal);
}

// The flag the handler sets; give it to nst::stop_flag to end a run cleanly.
inline const std::atomic<bool>& stop_requested() { return detail::stop_requested; }

// The signal that asked to stop (SIGINT or SIGTERM), 0 while none did.
inline int stop_signal() { return detail::stop_signal.load(); }

}  // namespace nst::cli
