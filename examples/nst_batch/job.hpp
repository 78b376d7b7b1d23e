// One job of nst-batch: its content, style and output, where it comes from (for messages) and
// the per-job options a manifest row may give.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace nst::batch {

// The manifest's optional per-job columns; an empty cell keeps the command line's value.
struct job_overrides {
    std::optional<double> size, iterations, style_scale, content_weight, style_weight, tv_weight, seed;
    std::optional<std::string> content_mask, style_mask;  // paths, read when the job runs
    std::optional<std::string> colors;                    // style | luminance | histogram
};

struct job {
    std::string content, style, output;  // output: the full path written
    std::string origin;                  // where the job comes from, for messages ("jobs.csv line 4")
    job_overrides overrides;
};

// `<content stem>__<style stem>.png`
inline std::string output_name(const std::string& content, const std::string& style) {
    namespace fs = std::filesystem;
    return fs::path(content).stem().string() + "__" + fs::path(style).stem().string() + ".png";
}

}  // namespace nst::batch
