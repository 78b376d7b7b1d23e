// One nst-batch job: read its images (and its manifest masks), stylise with the process's cache
// (network and style targets reused across jobs), write the output atomically with the job's
// parameters recorded in it, as nst does. Any failure is caught and becomes the job's record, so
// a bad input stops only its own jobs.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <filesystem>
#include <new>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <nst/nst.hpp>

#include "../nst/options.hpp"
#include "../nst/run_parameters.hpp"
#include "../nst/stop_signals.hpp"
#include "job_record.hpp"
#include "jobs.hpp"

namespace nst::batch {

// A flag nothing sets: the stop of a job under mpirun, where Ctrl-C is Open MPI's to handle.
inline const std::atomic<bool>& never_set() {
    static const std::atomic<bool> flag{false};
    return flag;
}

struct job_context {
    const stylize_options* base;       // the command line's options (weights resolved, the cache set), no images
    const nst::image* init_image;      // --init's image (null: none), given to each job's run
    const cli::command_line* command;  // the shared flags as given (output format, recorded parameters)
    int rank = 0;
    std::string host;
    const std::atomic<bool>* stop = &never_set();  // when it turns true the current job is abandoned
};

// The job's masks (manifest columns content-mask, style-mask) into its options, read as nst reads
// its mask flags (alpha as coverage).
inline void load_job_masks(stylize_options& o, const job& j) {
    if (j.overrides.content_mask) o.content_mask = load_mask_image(*j.overrides.content_mask, o.input_limits);
    if (j.overrides.style_mask) o.style_masks = {load_mask_image(*j.overrides.style_mask, o.input_limits)};
}

// How the job's output is written: the command line's format, and the job's parameters as nst
// records them (run_parameters.hpp), with the job's inputs and per-job settings.
inline image_save_options job_save_options(const job_context& ctx, stylize_options settings, const job& j,
                                           const weights_info& weights) {
    cli::command_line c = *ctx.command;
    c.options = std::move(settings);
    c.content = j.content;
    c.styles = {j.style};
    c.output = j.output;
    c.content_mask = j.overrides.content_mask.value_or("");
    if (j.overrides.style_mask) c.style_masks = {*j.overrides.style_mask};
    if (j.overrides.colors) c.colors = *j.overrides.colors;
    image_save_options s;
    s.jpeg_quality = c.jpeg_quality;
    s.png_bit_depth = c.bit_depth;
    s.metadata = cli::parameters_json(c, weights);
    return s;
}

inline job_record start_record(const job& j, std::size_t index, const job_context& ctx) {
    job_record r;
    r.index = index;
    r.content = j.content;
    r.style = j.style;
    r.output = j.output;
    r.rank = ctx.rank;
    r.host = ctx.host;
    return r;
}

// Makes `folder` and its parents if missing. throws: io_error "cannot create the folder '<folder>'
// for <purpose>: <reason>".
inline void make_folder(const std::filesystem::path& folder, const std::string& purpose) {
    std::error_code made, found;
    std::filesystem::create_directories(folder, made);
    if (!std::filesystem::is_directory(folder, found))
        throw nst::io_error("cannot create the folder '" + folder.string() + "' for " + purpose +
                            (made ? ": " + made.message() : std::string()));
}

// The output's folder made if missing (a manifest's output may name folders below --output-dir)
// and checked as nst checks its --output: a path that cannot be written fails the job before its
// work, not after it.
inline void prepare_output(const std::string& output) {
    make_folder(nst::cli::detail::folder_of(output), "'" + output + "'");
    nst::cli::detail::check_whole_file_output(output, "output");
}

/*  Runs job `index`. A non-finite loss fails the job and writes nothing (a rerun retries it). */
inline job_record run_job(const job& j, std::size_t index, const job_context& ctx) {
    job_record r = start_record(j, index, ctx);
    const auto start = std::chrono::steady_clock::now();
    try {
        stylize_options o = job_options(*ctx.base, j);
        prepare_output(j.output);
        const nst::image content = nst::load_image(j.content, o.input_limits);
        // Moved in, not copied: `{style}` held two more copies of the style image (the initializer
        // list's and the vector's) for the whole run.
        std::vector<nst::image> styles;
        styles.push_back(nst::load_image(j.style, o.input_limits));
        o = nst::resolve_multiscale(std::move(o), content, styles);  // recorded as run: the pyramid for these shapes
        const stylize_options settings = o;  // the record's, which names the images by their files
        load_job_masks(o, j);
        // The --init image copied (the next job needs it too): with the command line's, the two
        // copies the memory estimate counts. It and the masks move into stylize, which holds no
        // copy of its own.
        if (o.init == init_kind::image && ctx.init_image) o.init_image = *ctx.init_image;
        const stylize_result result = nst::stylize(content, styles, std::move(o), nst::stop_flag(*ctx.stop));
        if (result.reason == stop_reason::stopped_by_callback) {
            // Not written: an unfinished image would be skipped as done by the next run.
            r.status = "interrupted";
            r.error = "stopped before it finished; not written";
        } else {
            if (result.reason == stop_reason::non_finite) throw std::runtime_error(result.failure);
            const cli::writing_whole_file whole;  // a second Ctrl-C ends the program after the file, not in it
            nst::save_image(result.output, j.output, job_save_options(ctx, settings, j, result.weights));
            r.status = "ok";
            r.loss = result.loss;
        }
    } catch (const std::bad_alloc&) {
        r.status = "failed";
        r.error = "out of memory (try a smaller --size)";
    } catch (const nst::image_too_large& e) {  // the library names its knob; a user has the flag
        r.status = "failed";
        r.error = std::string(e.what()) + "; on the command line: --max-input-pixels N";
    } catch (const nst::io_error& e) {
        r.status = "failed";
        r.error = e.what();
        r.out_of_space = e.system_error() == ENOSPC || e.system_error() == EDQUOT;
    } catch (const std::exception& e) {
        r.status = "failed";
        r.error = e.what();
    }
    // A failure names where its job comes from: the manifest line to mend (the same content and
    // style may be on several), or "<content> x <style>" for --contents/--styles.
    if (r.status == "failed" && !j.origin.empty()) r.error = j.origin + ": " + r.error;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace nst::batch
