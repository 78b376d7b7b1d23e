// What became of one nst-batch job: the line of the --report file (JSON lines), the text a
// worker rank sends to rank 0, and the progress line rank 0 prints.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "../nst/progress.hpp"
#include "../nst/run_parameters.hpp"

namespace nst::batch {

struct job_record {
    std::size_t index = 0;  // in the job list
    std::string content, style, output;
    std::string status;  // ok | skipped | failed | interrupted (a signal stopped it; nothing written)
    std::string error;   // why it failed or stopped; empty otherwise
    double seconds = 0;  // wall time of the job (reading, stylising, writing)
    double loss = std::numeric_limits<double>::quiet_NaN();  // final (best) total loss of an ok job
    int rank = 0;
    std::string host;
    bool out_of_space = false;  // it failed writing to a full disk (ENOSPC, EDQUOT): the batch stops
};

namespace detail {

inline std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", v);
    return text;
}

}  // namespace detail

// One line of the report: {"content":..., "style":..., "output":..., "status":..., "error":...,
// "seconds":..., "loss":... (null unless ok), "rank":..., "host":...}
inline std::string to_json_line(const job_record& r) {
    using detail::json_number;
    using cli::json::quote;  // the same JSON strings as nst's recorded parameters
    return "{\"content\":" + quote(r.content) + ",\"style\":" + quote(r.style) +
           ",\"output\":" + quote(r.output) + ",\"status\":" + quote(r.status) +
           ",\"error\":" + quote(r.error) + ",\"seconds\":" + json_number(r.seconds) +
           ",\"loss\":" + json_number(r.loss) + ",\"rank\":" + std::to_string(r.rank) +
           ",\"host\":" + quote(r.host) + "}";
}

// The record as one text message (a worker rank to rank 0) and back: each field as its length in
// bytes, ':' and the bytes, so a field may hold any byte (a file name may hold all but '/' and NUL:
// a separator character in a name had split it, and rank 0 aborted the whole run on the record).
inline std::string encode(const job_record& r) {
    std::string text;
    for (const std::string& field : {std::to_string(r.index), r.content, r.style, r.output, r.status, r.error,
                                     detail::json_number(r.seconds), detail::json_number(r.loss),
                                     std::to_string(r.rank), r.host, std::string(r.out_of_space ? "1" : "0")})
        text += std::to_string(field.size()) + ':' + field;
    return text;
}

inline job_record decode(const std::string& text) {
    std::vector<std::string> f;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t colon = text.find(':', at);
        const std::size_t size = std::stoul(text.substr(at, colon - at));
        f.push_back(text.substr(colon + 1, size));
        at = colon + 1 + size;
    }
    f.resize(11);
    const auto number = [](const std::string& s) {
        return s == "null" || s.empty() ? std::numeric_limits<double>::quiet_NaN() : std::stod(s);
    };
    job_record r;
    r.index = std::stoul(f[0]);
    r.content = f[1];
    r.style = f[2];
    r.output = f[3];
    r.status = f[4];
    r.error = f[5];
    r.seconds = number(f[6]);
    r.loss = number(f[7]);
    r.rank = std::stoi(f[8]);
    r.host = f[9];
    r.out_of_space = f[10] == "1";
    return r;
}

// Rank 0's line per finished job: "[done/total] status output ... | rate, ETA". The rate counts
// the jobs that did their work (ok) since the first was handed out: skipped ones take no time, and
// one that fails at once (an unreadable image) had made the rate thousands of jobs a minute.
class batch_progress {
public:
    explicit batch_progress(std::size_t total) : total_(total), start_(std::chrono::steady_clock::now()) {}

    std::string line(const job_record& r) {
        ++done_;
        if (r.status == "ok") ++ran_;
        std::ostringstream s;
        s << "nst-batch: [" << done_ << "/" << total_ << "] " << r.status << " " << r.output;
        if (r.status == "skipped") s << " (exists)";
        if (r.status == "failed" || r.status == "interrupted") s << ": " << r.error;
        if (r.status == "ok")
            s << " in " << nst::cli::format_duration(r.seconds) << ", loss " << nst::cli::format_loss(r.loss)
              << ", rank " << r.rank << " on " << r.host;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        if (ran_ > 0 && elapsed > 0 && r.status != "interrupted") {
            const double rate = double(ran_) / elapsed;
            char text[64];
            std::snprintf(text, sizeof text, " | %.3g jobs/min", rate * 60);
            s << text << ", ETA " << nst::cli::format_duration(double(total_ - done_) / rate);
        }
        return s.str();
    }

private:
    std::size_t total_, done_ = 0, ran_ = 0;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace nst::batch
