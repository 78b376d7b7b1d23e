// The jobs still to hand out, taken one at a time by whoever is free (rank 0's own worker thread
// and, under MPI, the requests of the other ranks): dynamic distribution, so a rank that drew
// cheap jobs simply takes more of them.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "job_record.hpp"

namespace nst::batch {

using run_function = std::function<job_record(std::size_t index)>;
using record_sink = std::function<void(const job_record&)>;

class job_queue {
public:
    explicit job_queue(std::vector<std::size_t> pending) : pending_(std::move(pending)) {}

    // The next job, or nullopt when every job was handed out; each job is returned exactly once.
    std::optional<std::size_t> take() {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (next_ == pending_.size()) return std::nullopt;
        return pending_[next_++];
    }

    // Hands out no more jobs (the running ones finish).
    void close() {
        const std::lock_guard<std::mutex> lock(mutex_);
        next_ = pending_.size();
    }

private:
    std::mutex mutex_;
    std::vector<std::size_t> pending_;
    std::size_t next_ = 0;
};

// Without MPI (or alone): every pending job, here, in order; none started once `stop` is true.
inline void run_all_here(job_queue& queue, const run_function& run, const record_sink& sink,
                         const std::atomic<bool>& stop) {
    while (!stop.load())
        if (const auto index = queue.take()) sink(run(*index));
        else break;
}

}  // namespace nst::batch
