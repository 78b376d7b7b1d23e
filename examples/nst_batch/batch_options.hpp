// nst-batch's command line: its own flags (job lists, output folder, report, --overwrite) plus
// every stylisation flag of nst, defined once in examples/nst/options.hpp. nst's flags for one
// run (its inputs and output, masks and blend of its styles, its loss log and snapshots) are
// refused with the reason and what to use instead.
#pragma once

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include <nst/core/version.hpp>

#include "../nst/options.hpp"

namespace nst::batch {

struct batch_command_line {
    nst::cli::command_line common;  // the shared stylisation flags
    std::vector<std::string> contents, styles;
    std::string manifest, output_dir = ".", report;
    bool overwrite = false;
};

namespace detail {

inline void add_batch_options(CLI::App& app, batch_command_line& b) {
    auto* contents = app.add_option("--contents", b.contents, "Content images or folders of them (all pairs with --styles)");
    auto* styles = app.add_option("--styles", b.styles, "Style images or folders of them");
    auto* manifest = app.add_option("--manifest", b.manifest,
                                    "CSV of jobs: content,style[,output][,size,iterations,...] (see README)");
    contents->excludes(manifest)->needs(styles);
    styles->excludes(manifest)->needs(contents);
    app.add_option("--output-dir", b.output_dir, "Folder of the outputs <content>__<style>.png (created if missing)")
        ->capture_default_str();
    app.add_option("--report", b.report, "Write one JSON line per job (status, error, seconds, loss, rank, host)");
    app.add_flag("--overwrite", b.overwrite, "Redo jobs whose output exists (default: skip them)");
}

// nst's flags that have no meaning for many jobs, and what nst-batch offers instead.
inline const std::vector<std::pair<std::string, std::string>>& refused_options() {
    static const std::vector<std::pair<std::string, std::string>> refused{
        {"-c,--content", "give --contents FILE|DIR ... (or --manifest)"},
        {"-s,--style", "give --styles FILE|DIR ... (or --manifest)"},
        {"-o,--output", "outputs go to --output-dir as <content>__<style>.png, or a manifest's output column"},
        {"--style-blend", "each job has one style"},
        {"--style-mask", "give each job's mask in a manifest's style-mask column"},
        {"--content-mask", "give each job's mask in a manifest's content-mask column"},
        {"--log", "--report writes one JSON line per job"},
        {"--save-every", "a job writes only its final image"},
        {"--loss-plot", "--report records each job's final loss"},
        {"--snapshot-grid", "a job writes only its final image"},
        {"--print-every", "nst-batch prints one line per finished job"},
        {"--params-json", "each output image records its job's parameters"},
    };
    return refused;
}

// The refused flags are known (hidden from --help) so that using one says why it is refused.
inline void add_refused_options(CLI::App& app, std::vector<std::string>& sink) {
    for (const auto& r : refused_options()) app.add_option(r.first, sink)->group("");
}

inline void refuse_single_run_options(const CLI::App& app) {
    for (const auto& r : refused_options()) {
        const std::string name = r.first.substr(r.first.rfind(',') + 1);
        if (app.count(name) > 0) throw nst::cli::usage_error(name + " is nst's, for one run: " + r.second);
    }
}
}  // namespace detail

/*  Parses argv into b (the shared flags into b.common).
    ensures: an exit code when the program should end now (--help, --version), else nullopt.
    throws:  usage_error for an unknown flag, a missing job list or a malformed value. */
inline std::optional<int> parse_batch_command_line(int argc, char** argv, batch_command_line& b, bool with_mpi,
                                                   bool speak = true) {
    std::ostream silent(nullptr);  // ranks other than 0 print no help text
    std::ostream& out = speak ? std::cout : silent;
    CLI::App app{std::string("nst-batch ") + NST_VERSION_STRING +
                 (with_mpi ? " (with MPI)" : " (without MPI)") +
                 ": neural style transfer of many content x style pairs; under mpirun the jobs\n"
                 "are shared among the ranks. Existing outputs are skipped, so rerunning a stopped\n"
                 "run completes it. Exit codes: 0 every job done or skipped, 1 some job failed, 2 bad usage,\n"
                 "130/143/129 stopped by Ctrl-C/SIGTERM/SIGHUP (the current job abandoned, finished images kept)."};
    app.set_version_flag("--version", std::string(NST_VERSION_STRING) + (with_mpi ? " (with MPI)" : " (without MPI)"));
    app.get_formatter()->column_width(34);
    detail::add_batch_options(app, b);
    nst::cli::detail::add_stylisation_options(app, b.common);
    // Two of nst's flags mean more here.
    app.get_option("--threads")->description("Threads per rank (default: the host's cores / its ranks; alone: "
                                             "OMP_NUM_THREADS or all cores)");
    app.get_option("--quiet")->description("Only failures on stderr (and then the summary)");
    std::vector<std::string> refused_values;
    detail::add_refused_options(app, refused_values);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e, out, out);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e, out, out);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e, out, out);
    } catch (const CLI::ParseError& e) {
        // nst's -c beside --styles fails CLI11's "--styles requires --contents" first: the
        // single-run flag is the better reason.
        detail::refuse_single_run_options(app);
        throw nst::cli::usage_error(
            nst::cli::detail::parse_error_text(e) +
            nst::cli::detail::flag_hint(app, argc, argv, "nst-batch --contents FILES --styles FILES --output-dir DIR") +
            " (see nst-batch --help)");
    }
    detail::refuse_single_run_options(app);
    if (b.manifest.empty() && b.contents.empty())
        throw nst::cli::usage_error("give --contents and --styles, or --manifest (see nst-batch --help)");
    return std::nullopt;
}

}  // namespace nst::batch
