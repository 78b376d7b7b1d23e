// nst-batch: neural style transfer of many content x style pairs, on one machine or, under
// mpirun, on many (the jobs are handed out one at a time to whichever rank is free).
//
//   nst-batch --contents photos/ --styles paintings/ --output-dir out/ --report report.jsonl
//   mpirun -np 4 --hostfile hosts nst-batch --manifest jobs.csv --output-dir out/
//
// Exit codes: 0 every job done or skipped; 1 some job failed (each failure is logged with its
// reason and is in the report; the other jobs ran) or writing the report failed; 2 bad usage (one
// line on stderr, no job run); 130 / 143 / 129 stopped by Ctrl-C / SIGTERM / SIGHUP (the current
// job abandoned, finished images kept; during the setup, before the first job, nothing is written).
// The program's parts live next to this file: batch_options.hpp (command line), jobs.hpp (the
// job list; job.hpp, one job; manifest.hpp, reading --manifest), run_job.hpp (running one job),
// job_record.hpp (report and progress lines), job_queue.hpp and mpi_dispatch.hpp (who runs which
// job). Run `nst-batch --help` for every option.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include <nst/nst.hpp>

#include "../nst/flag_image.hpp"
#include "../nst/openblas_core.hpp"
#include "../nst/openmp_waiting.hpp"
#include "../nst/output_paths.hpp"
#include "../nst/stop_signals.hpp"
#include "batch_options.hpp"
#include "job_queue.hpp"
#include "job_record.hpp"
#include "jobs.hpp"
#include "report_file.hpp"
#include "run_job.hpp"
#ifdef NST_WITH_MPI
#include "mpi_dispatch.hpp"
#endif

#ifndef NST_DEFAULT_DATA_DIR
#define NST_DEFAULT_DATA_DIR ""
#endif

namespace {

using namespace nst::batch;
using nst::cli::usage_error;

#ifdef NST_WITH_MPI
constexpr bool with_mpi = true;
#else
constexpr bool with_mpi = false;
#endif

struct batch_plan {
    batch_command_line command;
    nst::stylize_options base;  // the command line's options, weights path resolved, cache set
    nst::image init_image;      // --init's image (empty: none)
    std::vector<job> jobs;
    nst::stylize_cache cache;   // the process's: the weights read once, style targets per style
};

std::string host_name() {
    char name[256] = {};
    return gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("unknown");
}

// Reads the command line and builds the job list; everything bad about them is a usage_error
// (or nst::invalid_argument / io_error), found before any job runs. Returns an exit code for
// --help and --version.
std::optional<int> plan_batch(int argc, char** argv, batch_plan& p, int ranks_on_host, bool speak) {
    batch_command_line& b = p.command;
    b.common.data_dir = NST_DEFAULT_DATA_DIR;
    b.common.program = "nst-batch";
    if (const auto code = parse_batch_command_line(argc, argv, b, with_mpi, speak)) return code;
    nst::cli::convert_stylisation_options(b.common, speak);  // (a warning: rank 0's alone)
    nst::stylize_options& o = p.base = b.common.options;
    o.weights = nst::find_vgg19_weights(b.common.weights, b.common.data_dir);
    if (o.init == nst::init_kind::image)
        o.init_image = nst::cli::load_flag_image("--init", b.common.init, o.input_limits);
    if (o.threads == 0 && ranks_on_host > 1)  // share the host's cores among its ranks
        o.threads = std::max(1, int(std::thread::hardware_concurrency()) / ranks_on_host);
    nst::cli::detail::validate_flags(o, 1);
    p.init_image = std::exchange(o.init_image, nst::image());  // each job's run is given it (job_options: why)

    std::vector<std::string> left_out;  // an earlier run's outputs in an input folder, files given twice
    p.jobs = b.manifest.empty() ? all_pairs(b.contents, b.styles, b.output_dir, &left_out)
                                : read_manifest(b.manifest, b.output_dir);
    if (speak && !b.common.quiet && !left_out.empty())
        std::fprintf(stderr, "nst-batch: notice: %s left out of the inputs (this batch's outputs, or given twice)\n",
                     nst::cli::detail::some_names(left_out).c_str());
    for (const auto& j : p.jobs) {  // each job's overrides and output format checked
        job_options(o, j);
        nst::cli::detail::require_format_holds_bit_depth(j.output, b.common.bit_depth, j.origin + ": output");
    }
    require_outputs_apart(p.jobs, b.report,
                          {{b.common.weights.empty() ? "VGG19 weights" : "--weights", o.weights},
                           {"--manifest", b.manifest},
                           {"--init", o.init == nst::init_kind::image ? b.common.init : ""}});
    if (!b.report.empty()) {
        // A report in the --output-dir this run makes (`--output-dir out --report out/r.jsonl`) is
        // checked when the folder is made and the report opened (batch_log), before any job.
        namespace fs = std::filesystem;
        using nst::cli::detail::comparable_path;
        std::error_code ec;
        const fs::path in_output_dir = fs::path(b.output_dir) / fs::path(b.report).filename();  // ("out/" too)
        const bool in_new_output_dir = !fs::exists(b.output_dir, ec) &&
                                       comparable_path(b.report) == comparable_path(in_output_dir.string());
        if (!in_new_output_dir) nst::cli::detail::check_writable_file(b.report, "--report");
    }
    // A bad weights file would fail every job: refused now, by the read the jobs then share.
    o.cache = &p.cache;
    const std::shared_ptr<const nst::model_weights> read = nst::stylize_weights(o);
    const nst::weights_info& weights = read->info;
    // As nst says it (with -q too): outputs made with a file no one can name are hard to reproduce.
    if (speak && weights.known_name.empty())
        std::fprintf(stderr, "nst-batch: notice: the weights file %s is not one nst knows (SHA-256 %s)\n",
                     weights.path.c_str(), weights.sha256.c_str());
    return std::nullopt;
}

// The same job list on every rank, checked by a hash of it (FNV-1a).
std::uint64_t job_list_hash(const std::vector<job>& jobs) {
    std::uint64_t h = 1469598103934665603ull;
    for (const auto& j : jobs)
        for (const std::string* s : {&j.content, &j.style, &j.output})
            for (const char ch : *s + '\n') h = (h ^ std::uint64_t(static_cast<unsigned char>(ch))) * 1099511628211ull;
    return h;
}

// Runs `body` and turns an exception into the exit code and message of a failed setup.
template <class Body> int guarded(Body&& body, std::string& message) {
    try {
        return body();
    } catch (const usage_error& e) {
        message = e.what();
    } catch (const nst::image_too_large& e) {
        message = std::string(e.what()) + "; on the command line: --max-input-pixels N";
    } catch (const nst::invalid_argument& e) {
        message = e.what();
    } catch (const nst::io_error& e) {
        message = e.what();
    } catch (const std::exception& e) {
        message = std::string("internal error: ") + e.what();
        return 1;
    }
    return 2;
}

// Rank 0's bookkeeping: the report file, the progress lines and the counts.
class batch_log {
public:
    batch_log(const batch_plan& p)
        : quiet_(p.command.common.quiet), report_path_(p.command.report), total_(p.jobs.size()), progress_(total_) {
        make_folder(p.command.output_dir, "--output-dir");
        // Tried for real, as nst's --output: a folder that exists but takes no files (/proc as
        // root) failed every job after its work.
        if (const int error = nst::cli::detail::cannot_create_files_in(p.command.output_dir))
            throw usage_error("--output-dir '" + p.command.output_dir + "': cannot create files in it: " +
                              std::strerror(error));
        if (!p.command.report.empty()) report_.emplace(p.command.report);
    }

    // Records a finished job; returns false when no more jobs should start: it failed writing to a
    // full disk, where each later one would do all its work and fail the same way.
    bool add(const job_record& r) {
        if (report_ && !report_->failed() && !report_->append(to_json_line(r)))
            // said once; the jobs go on (their images are what matters), the exit code is 1
            std::fprintf(stderr, "nst-batch: error: --report '%s': writing failed: %s; the report stops here\n",
                         report_path_.c_str(), std::strerror(report_->error()));
        const std::string line = progress_.line(r);
        if (!quiet_ || r.status == "failed") std::fprintf(stderr, "%s\n", line.c_str());
        if (r.status != "interrupted") ++counts_[r.status == "ok" ? 0 : r.status == "skipped" ? 1 : 2];
        if (r.out_of_space && disk_full_.empty()) disk_full_ = r.output;
        return disk_full_.empty();
    }

    // The summary line and the exit code; `signal`: the one that stopped the run early, or 0.
    int finish(double seconds, int signal = 0) const {
        const std::string took = nst::cli::format_duration(seconds);
        if (signal != 0) {
            std::fprintf(stderr, "nst-batch: %s: %zu done, %zu skipped, %zu failed, %zu not done in %s; the same command "
                         "again does the rest\n", nst::cli::stopped_by(signal), counts_[0],
                         counts_[1], counts_[2], total_ - counts_[0] - counts_[1] - counts_[2], took.c_str());
            return 128 + signal;
        }
        if (!disk_full_.empty()) {
            std::fprintf(stderr, "nst-batch: stopped, writing %s met a full disk or quota: %zu done, %zu skipped, %zu "
                         "failed, %zu not started in %s; with space freed the same command again does the rest\n",
                         disk_full_.c_str(),
                         counts_[0], counts_[1], counts_[2], total_ - counts_[0] - counts_[1] - counts_[2], took.c_str());
            return 1;
        }
        if (!quiet_ || counts_[2] > 0 || report_failed())
            std::fprintf(stderr, "nst-batch: %zu done, %zu skipped, %zu failed in %s%s\n", counts_[0], counts_[1],
                         counts_[2], took.c_str(), report_failed() ? "; the --report is incomplete" : "");
        return counts_[2] > 0 || report_failed() ? 1 : 0;
    }

    bool report_failed() const { return report_ && report_->failed(); }

private:
    bool quiet_;
    std::string report_path_;
    std::size_t total_;
    batch_progress progress_;
    std::optional<report_file> report_;
    std::size_t counts_[3] = {0, 0, 0};
    std::string disk_full_;  // the output of the first job that met a full disk
};

// The jobs to run; those whose output exists (without --overwrite) become `skipped` records.
std::vector<std::size_t> pending_jobs(const batch_plan& p, std::vector<job_record>& skipped) {
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < p.jobs.size(); ++i) {
        std::error_code ec;
        if (!p.command.overwrite && std::filesystem::is_regular_file(p.jobs[i].output, ec)) {  // a folder is not done
            job_record r;
            r.index = i;
            r.content = p.jobs[i].content;
            r.style = p.jobs[i].style;
            r.output = p.jobs[i].output;
            r.status = "skipped";
            r.host = host_name();
            skipped.push_back(r);
        } else {
            pending.push_back(i);
        }
    }
    return pending;
}

// The first line on stderr, then the skipped jobs' lines; returns the jobs to run.
std::vector<std::size_t> start_log(const batch_plan& p, batch_log& log, int ranks) {
    std::vector<job_record> skipped;
    const std::vector<std::size_t> pending = pending_jobs(p, skipped);
    const int threads = p.base.threads;
    if (!p.command.common.quiet)
        std::fprintf(stderr, "nst-batch: %zu job%s, %zu to run, on %d rank%s x %s thread%s\n", p.jobs.size(),
                     p.jobs.size() == 1 ? "" : "s", pending.size(), ranks, ranks == 1 ? "" : "s",
                     threads > 0 ? std::to_string(threads).c_str() : "all", threads == 1 ? "" : "s");
    for (const auto& r : skipped) log.add(r);
    return pending;
}

int fail_setup(int code, const std::string& message) {
    if (code != 0) std::fprintf(stderr, "nst-batch: error: %s\n", message.c_str());
    return code;
}

int run_alone(int argc, char** argv) {
    // Ctrl-C / SIGTERM while the setup reads the weights and the --init image: the batch stops
    // before its first job, having made and written nothing. Then, during the jobs: the current
    // job is abandoned (not written), no other starts, the report and summary say so. (Under
    // mpirun every rank ends at once: run_with_mpi.)
    nst::cli::catch_stop_signals("nst-batch", "stopping before the first job, nothing written");
    batch_plan p;
    std::string message;
    int early = -1;  // the exit code of --help / --version
    const int code = guarded([&] { early = plan_batch(argc, argv, p, 1, true).value_or(-1); return 0; }, message);
    if (code != 0) return fail_setup(code, message);
    if (early >= 0) return early;
    nst::cli::warn_about_openblas_core("nst-batch");
    if (const int signal = nst::cli::stop_signal()) {
        std::fprintf(stderr, "nst-batch: %s before the first job; nothing written\n", nst::cli::stopped_by(signal));
        return 128 + signal;
    }
    nst::cli::say_when_stopped("nst-batch", "abandoning the current job");
    const auto start = std::chrono::steady_clock::now();
    std::optional<batch_log> log;
    if (const int c = guarded([&] { log.emplace(p); return 0; }, message)) return fail_setup(c, message);
    job_queue queue(start_log(p, *log, 1));
    const std::atomic<bool>& stop = nst::cli::stop_requested();
    const job_context ctx{&p.base, &p.init_image, &p.command.common, 0, host_name(), &stop};
    run_all_here(
        queue, [&](std::size_t i) { return run_job(p.jobs[i], i, ctx); },
        [&](const job_record& r) {
            if (!log->add(r)) queue.close();
        },
        stop);
    return log->finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                       nst::cli::stop_signal());
}

#ifdef NST_WITH_MPI
// Every rank plans; then rank 0 opens the log. A rank whose setup failed, or whose job list is
// not rank 0's, makes every rank stop with its exit code (only one message is printed).
int run_with_mpi(int argc, char** argv) {
    const mpi_world world(argc, argv);
    // Stopped, mpirun ends every rank (SIGTERM, SIGKILL a second later): no rank can finish its
    // job or the report, but none leaves a temporary file, and rank 0 says what is kept.
    nst::cli::end_at_once_on_stop_signals(
        "nst-batch", world.rank() == 0 ? "mpirun ends every rank at once; the jobs reported done are "
                                         "written, the same command again does the rest"
                                       : nullptr);
    batch_plan p;
    std::string message;
    int early = -1;  // the exit code of --help / --version
    std::optional<batch_log> log;
    int code = guarded(
        [&] {
            early = plan_batch(argc, argv, p, world.ranks_on_this_host(), world.rank() == 0).value_or(-1);
            return 0;
        },
        message);
    // Every rank takes part in every collective, whatever its own setup gave: a rank skipping one
    // paired the others' with the next, and the run hung or aborted.
    const std::uint64_t rank0_hash = world.broadcast(job_list_hash(p.jobs));
    if (code == 0 && early < 0 && rank0_hash != job_list_hash(p.jobs)) {
        code = 2;
        message = "rank " + std::to_string(world.rank()) + " on " + host_name() +
                  " built another job list than rank 0 (inputs must be at the same paths on every host)";
    }
    // Rank 0 makes --output-dir and empties the --report once every rank's setup is good: a run
    // refused on another rank leaves the last run's report as it was.
    const bool planned = world.max_over_ranks(code) == 0;
    if (planned && early < 0 && world.rank() == 0) code = guarded([&] { log.emplace(p); return 0; }, message);
    const int rank0_code = int(world.broadcast(std::uint64_t(code)));
    const int worst = world.max_over_ranks(code);
    if (worst != 0) return world.rank() == 0 || rank0_code == 0 ? fail_setup(code, message) : code;
    if (early >= 0) return early;
    // Each host's OpenBLAS is its own: said once per host, by its first rank.
    if (world.first_on_this_host()) nst::cli::warn_about_openblas_core("nst-batch on " + host_name());

    const job_context ctx{&p.base, &p.init_image, &p.command.common, world.rank(), host_name()};
    const run_function run = [&](std::size_t i) { return run_job(p.jobs[i], i, ctx); };
    if (world.rank() != 0) {
        work_for_rank0(run);
        return int(world.broadcast(0));
    }
    const auto start = std::chrono::steady_clock::now();
    job_queue queue(start_log(p, *log, world.size()));
    dispatch_as_rank0(world, queue, run, [&](const job_record& r) {
        if (!log->add(r)) queue.close();
    });
    const int result = log->finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return int(world.broadcast(std::uint64_t(result)));
}
#endif

}  // namespace

int main(int argc, char** argv) {
    nst::cli::restart_with_passive_openmp_waiting(argv);  // (before MPI starts)
#ifdef NST_WITH_MPI
    if (launched_by_mpi()) return run_with_mpi(argc, argv);
#endif
    return run_alone(argc, argv);
}
