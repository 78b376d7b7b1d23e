// Progress of a stylisation on a terminal: a live one-line bar (iteration/total, total and
// partial losses, iterations per second, time left) redrawn in place when the stream is a
// terminal, and plain lines (every 5% of the run or every 10 s, whichever comes first) when it
// is a file or a pipe, so logs stay readable.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <sys/ioctl.h>
#include <unistd.h>

namespace nst::cli {

// "1h02m", "3m07s", "12s", "--" for unknown.
inline std::string format_duration(double seconds) {
    if (!(seconds >= 0) || !std::isfinite(seconds)) return "--";
    const long s = long(std::lround(seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

inline std::string format_loss(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3e", v);
    return buf;
}

class progress_display {
public:
    // total: the iteration budget; out: usually stderr. The mode follows isatty(out).
    progress_display(std::size_t total, std::FILE* out = stderr)
        : total_(total), out_(out), tty_(isatty(fileno(out)) != 0) {}

    bool is_terminal() const { return tty_; }

    // --print-every: plain lines every n iterations (and the first and last), on a terminal too.
    void print_every(std::size_t n) {
        every_ = n;
        if (n > 0) tty_ = false;
    }

    // Prices the run's steps for the time left: parts of `steps` steps costing `cost` each, in
    // run order (nst::planned_step_costs). Unpriced, every step costs the same, which in a
    // coarse-to-fine run (cheap small steps first) predicts a fraction of the time left.
    template <class Parts> void price_steps(const Parts& parts) {
        prices_.clear();
        for (const auto& part : parts) prices_.push_back({part.steps, part.cost});
    }

    // Reports one iteration. `size` > 0: the longer side being optimised, shown (coarse-to-fine
    // runs). `final` forces a line (the last report of a run).
    void update(std::size_t iteration, double loss, double content, double style, double tv,
                double elapsed_seconds, std::size_t size = 0, bool final = false) {
        if (iteration == 0) start_seconds_ = elapsed_seconds;
        // Speed from iteration 0 on, so setup time (evaluating the start) is not counted.
        const double spent = elapsed_seconds - start_seconds_;
        const double rate = iteration > 0 && spent > 0 ? double(iteration) / spent : 0.0;
        const double done = work(iteration);
        const double left = rate > 0 && done > 0 ? spent * (work(total_) - done) / done : -1.0;
        char parts[192];
        char at[32] = "";
        if (size > 0) std::snprintf(at, sizeof at, "at %zu px, ", size);
        std::snprintf(parts, sizeof parts, "%sloss %s (content %s, style %s, tv %s)", at, format_loss(loss).c_str(),
                      format_loss(content).c_str(), format_loss(style).c_str(), format_loss(tv).c_str());
        char speed[64];
        std::snprintf(speed, sizeof speed, "%.2f it/s, %s left", rate, format_duration(left).c_str());

        if (tty_) {
            const int columns = terminal_columns();
            char count[48];
            std::snprintf(count, sizeof count, "%zu/%zu", iteration, total_);
            std::string tail = std::string(" ") + count + " " + parts + " " + speed;
            int bar = columns - int(tail.size()) - 3;
            if (bar < 10) {  // narrow terminal: drop the partial losses
                tail = std::string(" ") + count + " loss " + format_loss(loss) + " " + speed;
                bar = std::max(0, columns - int(tail.size()) - 3);
            }
            bar = std::min(bar, 40);
            const int filled =
                total_ ? int(double(bar) * double(std::min(iteration, total_)) / double(total_)) : bar;
            std::string line = "\r[" + std::string(std::size_t(filled), '#') +
                               std::string(std::size_t(bar - filled), '.') + "]" + tail;
            if (int(line.size()) - 1 > columns) line.resize(std::size_t(std::max(columns, 1)));
            std::fprintf(out_, "%s\033[K", line.c_str());
            if (final) std::fputc('\n', out_);
            std::fflush(out_);
            return;
        }
        const std::size_t every = every_ ? every_ : std::max<std::size_t>(1, total_ / 20);
        const bool overdue = every_ == 0 && elapsed_seconds - last_line_ >= 10.0;
        if (final || iteration == 0 || iteration % every == 0 || overdue) {
            std::fprintf(out_, "nst: iteration %zu/%zu %s, %s\n", iteration, total_, parts, speed);
            std::fflush(out_);
            last_line_ = elapsed_seconds;
        }
    }

    // Ends a live bar's line so later messages start on a fresh line.
    void finish() {
        if (tty_) {
            std::fputc('\n', out_);
            std::fflush(out_);
        }
    }

private:
    // The cost of the first n steps (n when unpriced).
    double work(std::size_t n) const {
        if (prices_.empty()) return double(n);
        double sum = 0;
        for (const auto& [steps, cost] : prices_) {
            const std::size_t k = std::min(n, steps);
            sum += double(k) * cost;
            n -= k;
        }
        return sum;
    }

    int terminal_columns() const {
        winsize ws{};
        if (ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
        return 100;
    }

    std::size_t total_;
    std::FILE* out_;
    bool tty_;
    double start_seconds_ = 0;
    double last_line_ = -1e9;
    std::size_t every_ = 0;  // print_every; 0: every 5% or 10 s
    std::vector<std::pair<std::size_t, double>> prices_;  // price_steps: (steps, cost of each)
};

}  // namespace nst::cli
