// Ctrl-C (SIGINT), SIGTERM (what service managers and containers send) and SIGHUP (the terminal
// or SSH session closed) all ask the program to stop cleanly: `nst` after the current iteration,
// saving the best image so far; `nst-batch` after abandoning its current job. While the inputs
// are still being read, both stop once they are, writing nothing. The exit code is then 128 + the
// signal (130, 143, 129). A second signal ends the program at once (while a file is
// being written, as soon as that file is whole: see writing_whole_file).
#pragma once

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstdio>

#include <unistd.h>

namespace nst::cli {

namespace detail {
inline std::atomic<bool> stop_requested{false};
inline std::atomic<int> stop_signal{0};
inline std::atomic<bool> writing_file{false};  // a writing_whole_file is in scope
inline std::atomic<int> end_signal{0};         // the second signal, arrived while writing_file
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

// The handler's messages, made before it is installed (it may only write() them): one for each
// signal, in two sets, so that catch_stop_signals can say something new (after the loading, what
// happens during the run) by filling the set the handler is not using and then switching to it.
struct stop_message {
    char text[256] = {};
    std::size_t size = 0;
};
struct stop_messages {
    stop_message interrupt, terminate, hangup;
};
inline stop_messages message_sets[2];
inline std::atomic<int> message_set{0};
inline std::atomic<bool> end_at_once{false};  // end_at_once_on_stop_signals was called
inline stop_messages end_messages;            // what it has the first signal say (may be empty)

inline void write_message(const stop_messages& set, int signal) {
    const stop_message& m = signal == SIGINT ? set.interrupt : signal == SIGHUP ? set.hangup : set.terminate;
    const ssize_t ignored = write(STDERR_FILENO, m.text, m.size);
    (void)ignored;
}

extern "C" inline void on_stop_signal(int signal) {
    if (stop_requested.exchange(true) || end_at_once.load()) {  // the second signal: give up at once,
        // but not halfway through a file, which would leave its temporary behind (a third
        // signal does not wait). (end_signal is stored before writing_file is read, and
        // ~writing_whole_file clears writing_file before it reads end_signal: one of them ends.)
        if (end_signal.exchange(signal) == 0) {
            if (end_at_once.load()) write_message(end_messages, signal);
            if (writing_file.load()) return;
        }
        _exit(128 + signal);
    }
    stop_signal.store(signal);
    write_message(message_sets[message_set.load()], signal);
}
}  // namespace detail

// What the message of a signal says from now on: "<program>: interrupted, <what> (Ctrl-C again
// to abort)". The loading over, the programs say what the run does when stopped.
inline void say_when_stopped(const char* program, const char* what) {
    const auto make = [&](detail::stop_message& m, const char* how, const char* again) {
        const int n = std::snprintf(m.text, sizeof m.text, "\n%s: %s, %s (%s again to abort)\n", program, how, what, again);
        m.size = n < 0 ? 0 : std::min(std::size_t(n), sizeof m.text - 1);
    };
    const int next = 1 - detail::message_set.load();
    detail::stop_messages& set = detail::message_sets[next];
    make(set.interrupt, "interrupted", "Ctrl-C");
    make(set.terminate, "terminated", "SIGTERM");
    make(set.hangup, "hung up", "SIGHUP");
    detail::message_set.store(next);
}

// From now on SIGINT, SIGTERM and SIGHUP set the flag that stop_requested() reads, and print the
// message of say_when_stopped(program, what). (After a hang-up the message may reach no one; the
// image is saved all the same.) SIGPIPE is ignored: with stderr piped into another program
// (`nst ... 2>&1 | tee run.log`), Ctrl-C ends that program too, and the next message written
// would otherwise kill the run before it saves; the messages are lost instead. Installed before
// the inputs are read: a signal while they load ended the program by the default action.
inline void catch_stop_signals(const char* program = "nst", const char* what = "stopping after this iteration") {
    say_when_stopped(program, what);
    std::signal(SIGINT, detail::on_stop_signal);
    std::signal(SIGTERM, detail::on_stop_signal);
    std::signal(SIGHUP, detail::on_stop_signal);
    std::signal(SIGPIPE, SIG_IGN);
}

// For a process that cannot stop cleanly because others are to end with it: nst-batch's ranks under
// mpirun, which sends every rank SIGTERM when it is stopped and SIGKILL a second later
// (odls_base_sigkill_timeout). From now on the first signal ends the program at once, as a second
// one does after catch_stop_signals (while a file is being written, as soon as it is whole, so
// that no temporary file is left), having written "<program>: <how>; <what>" when `what` is not
// null.
inline void end_at_once_on_stop_signals(const char* program, const char* what) {
    const auto make = [&](detail::stop_message& m, const char* how) {
        const int n = what ? std::snprintf(m.text, sizeof m.text, "%s: %s; %s\n", program, how, what) : 0;
        m.size = n < 0 ? 0 : std::min(std::size_t(n), sizeof m.text - 1);
    };
    make(detail::end_messages.interrupt, "interrupted");
    make(detail::end_messages.terminate, "terminated by SIGTERM");
    make(detail::end_messages.hangup, "hung up (SIGHUP)");
    detail::end_at_once.store(true);
    std::signal(SIGINT, detail::on_stop_signal);
    std::signal(SIGTERM, detail::on_stop_signal);
    std::signal(SIGHUP, detail::on_stop_signal);
}

// Held while an output file is written (through its temporary file): a second signal then ends
// the program once the file is whole, not halfway, when the temporary would be left behind.
class writing_whole_file {
public:
    writing_whole_file() { detail::writing_file.store(true); }
    ~writing_whole_file() {
        detail::writing_file.store(false);
        if (const int signal = detail::end_signal.load()) _exit(128 + signal);
    }
    writing_whole_file(const writing_whole_file&) = delete;
    writing_whole_file& operator=(const writing_whole_file&) = delete;
};

// How the end of a run names the signal that stopped it.
inline const char* stopped_by(int signal) {
    return signal == SIGINT ? "interrupted" : signal == SIGHUP ? "hung up (SIGHUP)" : "terminated by SIGTERM";
}

// The flag the handler sets; give it to nst::stop_flag to end a run cleanly.
inline const std::atomic<bool>& stop_requested() { return detail::stop_requested; }

// The signal that asked to stop (SIGINT, SIGTERM or SIGHUP), 0 while none did.
inline int stop_signal() { return detail::stop_signal.load(); }

}  // namespace nst::cli
