// nst-batch under MPI: rank 0 hands out the jobs one at a time to whichever rank asks, and runs
// jobs itself on a second thread between answering requests; every other rank asks for a job,
// runs it, and sends its record back with the next request. Only rank 0's main thread and the
// workers' main threads call MPI (MPI_THREAD_FUNNELED).
//
// Messages: worker -> rank 0, tag `request`: the encoded record of the job just finished
// (empty on the first request); rank 0 -> worker, tag `assignment`: one int, the job index or
// -1 for "no more jobs". Waiting polls with short sleeps instead of blocking, because Open MPI's
// blocking calls spin and would take a core from the stylisation: also in the collectives, where
// a rank that has run out of jobs waits for the ranks still stylising.
//
// A rank that dies takes its current job with it: mpirun then ends the run (Open MPI's default),
// every finished output is already on disk (written atomically), and rerunning the same command
// does only the jobs without an output.
#pragma once

// The C API only: MPI's deprecated C++ bindings are not used (and warn under -Wextra).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "job_queue.hpp"

namespace nst::batch {

// True when a launcher (mpirun / mpiexec / srun) started this process: only then is MPI set up,
// so a plain `nst-batch ...` never needs an MPI runtime.
inline bool launched_by_mpi() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
        if (std::getenv(name)) return true;
    return false;
}

namespace detail {

inline void nap() { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }

// Waits for a non-blocking call to complete, napping between tests.
inline void wait_napping(MPI_Request& request) {
    int done = 0;
    for (MPI_Test(&request, &done, MPI_STATUS_IGNORE); !done; MPI_Test(&request, &done, MPI_STATUS_IGNORE)) nap();
}

}  // namespace detail

class mpi_world {
public:
    mpi_world(int& argc, char**& argv) {
        int provided = 0;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
        MPI_Comm local;  // the ranks sharing this host's memory
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
        MPI_Comm_size(local, &local_size_);
        MPI_Comm_rank(local, &local_rank_);
        MPI_Comm_free(&local);
    }
    mpi_world(const mpi_world&) = delete;
    mpi_world& operator=(const mpi_world&) = delete;
    ~mpi_world() { MPI_Finalize(); }

    int rank() const { return rank_; }
    int size() const { return size_; }
    int ranks_on_this_host() const { return local_size_; }
    bool first_on_this_host() const { return local_rank_ == 0; }

    // Rank 0's value on every rank.
    std::uint64_t broadcast(std::uint64_t value) const {
        unsigned long long v = value;
        MPI_Request request;
        MPI_Ibcast(&v, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD, &request);
        detail::wait_napping(request);
        return v;
    }
    // The largest value over all ranks, on every rank.
    int max_over_ranks(int value) const {
        int out = value;
        MPI_Request request;
        MPI_Iallreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &request);
        detail::wait_napping(request);
        return out;
    }

private:
    int rank_ = 0, size_ = 1, local_size_ = 1, local_rank_ = 0;
};

namespace detail {

enum tag : int { request = 1, assignment = 2 };

// Records of the jobs rank 0's worker thread finished, for the main thread to pass to the sink.
class record_mailbox {
public:
    void post(job_record r) {
        const std::lock_guard<std::mutex> lock(mutex_);
        records_.push_back(std::move(r));
    }
    bool deliver(const record_sink& sink) {
        std::deque<job_record> ready;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            ready.swap(records_);
        }
        for (const auto& r : ready) sink(r);
        return !ready.empty();
    }

private:
    std::mutex mutex_;
    std::deque<job_record> records_;
};

// Answers one pending request if there is one; returns whether it did. Counts the workers sent
// away (no more jobs) in `finished`.
inline bool answer_request(job_queue& queue, const record_sink& sink, int& finished) {
    int waiting = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, tag::request, MPI_COMM_WORLD, &waiting, &status);
    if (!waiting) return false;
    int length = 0;
    MPI_Get_count(&status, MPI_CHAR, &length);
    std::string message(std::size_t(length), '\0');
    MPI_Recv(message.data(), length, MPI_CHAR, status.MPI_SOURCE, tag::request, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (length > 0) sink(decode(message));
    const auto next = queue.take();
    int index = next ? int(*next) : -1;
    MPI_Send(&index, 1, MPI_INT, status.MPI_SOURCE, tag::assignment, MPI_COMM_WORLD);
    if (index < 0) ++finished;
    return true;
}

}  // namespace detail

/*  Rank 0: runs jobs from `queue` on a thread of its own while its main thread answers the
    other ranks' requests, until every job is done and every other rank was sent away.
    `sink` receives every record (from all ranks) on the calling thread. */
inline void dispatch_as_rank0(const mpi_world& world, job_queue& queue, const run_function& run,
                              const record_sink& sink) {
    detail::record_mailbox mailbox;
    std::mutex done_mutex;
    bool local_done = false;
    std::thread local([&] {
        while (const auto index = queue.take()) mailbox.post(run(*index));
        const std::lock_guard<std::mutex> lock(done_mutex);
        local_done = true;
    });
    int finished = 0;
    for (;;) {
        bool busy = detail::answer_request(queue, sink, finished);
        busy = mailbox.deliver(sink) || busy;
        bool here_done = false;
        {
            const std::lock_guard<std::mutex> lock(done_mutex);
            here_done = local_done;
        }
        if (here_done && finished == world.size() - 1) break;
        if (!busy) detail::nap();
    }
    local.join();
    mailbox.deliver(sink);
}

// Every other rank: asks rank 0 for jobs and runs them until told there are none left.
inline void work_for_rank0(const run_function& run) {
    std::string finished;  // the record of the previous job, sent with the next request
    for (;;) {
        MPI_Send(finished.data(), int(finished.size()), MPI_CHAR, 0, detail::tag::request, MPI_COMM_WORLD);
        int index = -1;
        MPI_Request pending;
        MPI_Irecv(&index, 1, MPI_INT, 0, detail::tag::assignment, MPI_COMM_WORLD, &pending);
        detail::wait_napping(pending);
        if (index < 0) return;
        finished = encode(run(std::size_t(index)));
    }
}

}  // namespace nst::batch
