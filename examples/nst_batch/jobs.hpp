// nst-batch's job list: every content x style pair of --contents / --styles (folders expanded
// to their images), or the rows of a --manifest CSV with optional per-job options (read by
// manifest.hpp). Every rank of an MPI run builds the same list from the same command line
// (inputs on a shared file system).
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nst/core/number_text.hpp>
#include <nst/style_transfer.hpp>

#include "../nst/options.hpp"
#include "job.hpp"
#include "manifest.hpp"

namespace nst::batch {

using nst::cli::usage_error;

// `files` with each file after its first mention dropped (the same file through a folder and by
// name, or named twice); the dropped ones are added to `repeated`.
inline std::vector<std::string> first_mentions(const std::vector<std::string>& files, std::vector<std::string>& repeated) {
    std::set<std::string> seen;
    std::vector<std::string> out;
    for (const auto& f : files)
        (seen.insert(nst::cli::detail::comparable_path(f)).second ? out : repeated).push_back(f);
    return out;
}

/*  Every pair, content-major, outputs in output_dir. A folder of contents or styles that is the
    output folder (the default, ".") holds the outputs of an earlier run of these pairs: they are
    left out (named in `left_out` when given), so the same command runs again; so is a file given
    twice (by name and through its folder), which would only write its outputs twice. */
inline std::vector<job> all_pairs(const std::vector<std::string>& contents, const std::vector<std::string>& styles,
                                  const std::string& output_dir, std::vector<std::string>* left_out = nullptr) {
    using nst::cli::detail::expand_image_folders;
    const auto pairs = [&](const std::vector<std::string>& cs, const std::vector<std::string>& ss) {
        std::vector<job> jobs;
        for (const auto& c : cs)
            for (const auto& s : ss)
                jobs.push_back({c, s, (std::filesystem::path(output_dir) / output_name(c, s)).string(), c + " x " + s, {}});
        return jobs;
    };
    std::set<std::string> outputs;  // of the pairs of everything the folders hold
    for (const job& j : pairs(expand_image_folders(contents, "--contents").files,
                              expand_image_folders(styles, "--styles").files))
        outputs.insert(nst::cli::detail::comparable_path(j.output));
    const auto own = [&](const std::string& p) { return outputs.count(nst::cli::detail::comparable_path(p)) > 0; };
    const auto cs = expand_image_folders(contents, "--contents", own), ss = expand_image_folders(styles, "--styles", own);
    std::vector<std::string> dropped = cs.left_out;
    dropped.insert(dropped.end(), ss.left_out.begin(), ss.left_out.end());
    const std::vector<std::string> content_files = first_mentions(cs.files, dropped);
    const std::vector<job> jobs = pairs(content_files, first_mentions(ss.files, dropped));
    if (left_out) *left_out = dropped;
    return jobs;
}

// Two jobs writing one file would overwrite each other, and a job (or the --report, when given)
// writing one of the batch's inputs would destroy it: a content, style or mask of any job (a
// manifest's output cell naming a photo), or a file of the whole batch (`shared_inputs`, each
// with its option: the weights, the manifest, the --init image; `--report w.h5` replaced the
// weights with a JSON line). All refused. Paths are compared made absolute, through links.
inline void require_outputs_apart(const std::vector<job>& jobs, const std::string& report = "",
                                  const std::vector<nst::cli::detail::named_path>& shared_inputs = {}) {
    using nst::cli::detail::comparable_path;
    std::map<std::string, std::string> inputs;  // path -> what it is ("an input of <origin>", "the --weights file")
    std::map<std::string, const job*> outputs;
    for (const auto& [option, path] : shared_inputs)
        if (!path.empty()) inputs.emplace(comparable_path(path), "the " + option + " file");
    for (const auto& j : jobs) {
        for (const std::string& in : {j.content, j.style}) inputs.emplace(comparable_path(in), "an input of " + j.origin);
        for (const auto& mask : {j.overrides.content_mask, j.overrides.style_mask})
            if (mask) inputs.emplace(comparable_path(*mask), "an input of " + j.origin);
    }
    for (const auto& j : jobs) {
        const std::string k = comparable_path(j.output);
        if (const auto in = inputs.find(k); in != inputs.end())
            throw usage_error(j.origin + ": the output " + j.output + " is " + in->second +
                              ": it would be overwritten (give the output another path)");
        const auto [it, fresh] = outputs.emplace(k, &j);
        if (!fresh)
            throw usage_error("two jobs write " + j.output + " (" + it->second->origin + " and " + j.origin +
                              "); rename an input or give outputs in a manifest");
    }
    if (report.empty()) return;
    const std::string k = comparable_path(report);
    if (const auto in = inputs.find(k); in != inputs.end())
        throw usage_error("--report '" + report + "' is " + in->second + ": it would be overwritten");
    if (const auto out = outputs.find(k); out != outputs.end())
        throw usage_error("--report '" + report + "' is the output of " + out->second->origin +
                          ": give the report its own path");
}

/*  The settings of one job: the command line's (`base`, which holds no images), with the job's
    overrides. An --init image is the command line's, checked once when read and given to each
    job as it runs (run_job): held in `base`, every job's options copied it, and the plan checks
    every job (0.65 s a job for a 12 MP image).
    throws: usage_error naming the job's origin for a value stylize refuses. */
inline stylize_options job_options(const stylize_options& base, const job& j) {
    stylize_options o = base;
    const job_overrides& v = j.overrides;
    const auto whole = [&](const std::optional<double>& x, const char* column) {
        if (!(*x >= 0) || *x != std::floor(*x) || *x > 1e15)
            throw usage_error(j.origin + ", column " + column + ": expected a whole number >= 0, got " +
                              number_text(*x));
        return static_cast<std::uint64_t>(*x);
    };
    if (v.size) o.size = whole(v.size, "size");
    if (v.iterations) o.iterations = whole(v.iterations, "iterations");
    if (v.seed) o.seed = whole(v.seed, "seed");
    if (v.style_scale) o.style_scale = *v.style_scale;
    if (v.content_weight) o.content_weight = *v.content_weight;
    if (v.style_weight) o.style_weight = *v.style_weight;
    if (v.tv_weight) o.tv_weight = *v.tv_weight;
    if (v.colors) {  // replaces the command line's --colors / --original-colors
        o.original_colors = false;
        o.colors = *v.colors == "histogram"   ? color_mode::histogram
                   : *v.colors == "luminance" ? color_mode::luminance
                                              : color_mode::style;
    }
    const init_kind init = o.init;
    if (init == init_kind::image) o.init = init_kind::content;  // (its image comes with the run)
    try {
        validate_options(o, 1);
    } catch (const invalid_argument& e) {
        throw usage_error(j.origin + ": " + e.what());
    }
    o.init = init;
    return o;
}

}  // namespace nst::batch
