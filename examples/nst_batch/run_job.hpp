// One nst-batch job: read its two images, stylise with the process's cache (network and style
// targets reused across jobs), write the output atomically. Any failure is caught and becomes
// the job's record, so a bad input stops only its own jobs.
#pragma once

#include <chrono>
#include <exception>
#include <new>
#include <string>

#include <nst/nst.hpp>

#include "job_record.hpp"
#include "jobs.hpp"

namespace nst::batch {

struct job_context {
    const stylize_options* base;  // the command line's options (weights resolved)
    int jpeg_quality = 95;
    stylize_cache* cache;
    int rank = 0;
    std::string host;
};

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

/*  Runs job `index`. A non-finite loss fails the job and writes nothing (a rerun retries it). */
inline job_record run_job(const job& j, std::size_t index, const job_context& ctx) {
    job_record r = start_record(j, index, ctx);
    const auto start = std::chrono::steady_clock::now();
    try {
        stylize_options o = job_options(*ctx.base, j);
        o.cache = ctx.cache;
        const nst::image content = nst::load_image(j.content, o.input_limits);
        const nst::image style = nst::load_image(j.style, o.input_limits);
        const stylize_result result = nst::stylize(content, {style}, o);
        if (result.reason == stop_reason::non_finite) throw std::runtime_error(result.failure);
        nst::save_image(result.output, j.output, ctx.jpeg_quality);
        r.status = "ok";
        r.loss = result.loss;
    } catch (const std::bad_alloc&) {
        r.status = "failed";
        r.error = "out of memory (try a smaller --size)";
    } catch (const std::exception& e) {
        r.status = "failed";
        r.error = e.what();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace nst::batch
