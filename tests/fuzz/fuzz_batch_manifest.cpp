// libFuzzer target: any bytes as an nst-batch --manifest through nst::batch::parse_manifest
// (CSV lines and quoted cells, the header's columns, per-job numbers, colour modes and paths,
// output names). A usage_error (exit 2 in nst-batch) is the expected outcome for bad input;
// anything else (a crash, a sanitizer report, another exception, a job the reader promises
// never to return) is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../../examples/nst_batch/manifest.hpp"

namespace {

bool image_extension(const std::string& path) {
    const std::string ext = nst::cli::detail::lower_extension(path);
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool finite_or_unset(const std::optional<double>& v) { return !v || std::isfinite(*v); }

// A path the file system sees whole: it stops at a NUL byte, so "a.jpg\0.png" would be "a.jpg".
bool usable_path(const std::string& path) { return !path.empty() && path.find('\0') == std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A manifest in a subfolder, so relative paths are resolved against a folder.
    const std::string path = "batch/jobs.csv";
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    std::vector<nst::batch::job> jobs;
    try {
        jobs = nst::batch::parse_manifest(in, path, "out");
    } catch (const nst::cli::usage_error&) {
        return 0;
    }
    // A manifest that reads has jobs, each with a content, a style, an output nst-batch can
    // write, its line named, and finite numbers.
    if (jobs.empty()) __builtin_trap();
    for (const nst::batch::job& j : jobs) {
        if (!usable_path(j.content) || !usable_path(j.style) || !usable_path(j.output) || !image_extension(j.output))
            __builtin_trap();
        if (j.origin.rfind(path + " line ", 0) != 0) __builtin_trap();
        const nst::batch::job_overrides& o = j.overrides;
        for (const auto* v : {&o.size, &o.iterations, &o.style_scale, &o.content_weight, &o.style_weight,
                              &o.tv_weight, &o.seed})
            if (!finite_or_unset(*v)) __builtin_trap();
        if (o.colors && *o.colors != "style" && *o.colors != "luminance" && *o.colors != "histogram")
            __builtin_trap();
        if ((o.content_mask && !usable_path(*o.content_mask)) || (o.style_mask && !usable_path(*o.style_mask)))
            __builtin_trap();
    }
    return 0;
}
