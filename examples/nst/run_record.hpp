// What the `nst` program keeps of a run, one report at a time: the loss history (for the CSV
// log, with the size of each row, and the loss plot), numbered snapshots and the thumbnails of the contact sheet; and the
// files it writes from them at the end.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nst/io/detail/atomic_file.hpp>
#include <nst/io/image.hpp>
#include <nst/style_transfer.hpp>

#include "contact_sheet.hpp"
#include "loss_plot.hpp"
#include "options.hpp"
#include "run_parameters.hpp"
#include "stop_signals.hpp"

namespace nst::cli {

// An output file could not be written once the run had started (disk full, folder removed or
// made read-only meanwhile): exit code 1. What was written completely stays; nothing partial does
// (every file goes through a temporary file and a rename).
struct output_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// out.png, 50, 500 -> out_0050.png (next to the output)
inline std::string snapshot_path(const std::string& output, std::size_t iteration, std::size_t total) {
    const std::filesystem::path p(output);
    const int digits = std::max(4, int(std::to_string(total).size()));
    char number[32];
    std::snprintf(number, sizeof number, "_%0*zu", digits, iteration);
    return (p.parent_path() / (p.stem().string() + number + p.extension().string())).string();
}

// The iteration whose snapshot of `output` is called `name` (out.png: out_0050.png -> 50), or 0.
inline std::size_t snapshot_iteration(const std::string& output, const std::string& name, std::size_t total) {
    const std::optional<std::string> digits = detail::snapshot_digits(output, name);
    if (!digits || digits->size() > 18) return 0;
    const std::size_t iteration = std::stoull(*digits);
    const bool named_so = iteration <= total &&
                          std::filesystem::path(snapshot_path(output, iteration, total)).filename() == name;
    return named_so ? iteration : 0;
}

// --save-every's snapshots must not overwrite an input (a photo called out_0050.png beside
// out.png) or another output (--log out_0002.png), their names (the output's and "_0050")
// must fit the file system, and a name must not be taken by what a file cannot replace (a
// folder, a device, a link into a missing folder), which would end the run at that snapshot:
// checked once the run's planned steps, and so the snapshots' names, are known. A file is the
// one a snapshot would replace when it is that name in the output's folder, given so or through a link.
inline void check_snapshots_apart(const command_line& c, std::size_t planned_total) {
    namespace fs = std::filesystem;
    if (!c.save_every) return;
    const std::string last = fs::path(snapshot_path(c.output, planned_total, planned_total)).filename().string();
    if (const std::size_t longest = nst::detail::longest_file_name(detail::folder_of(c.output)); last.size() > longest)
        throw usage_error("--save-every: the snapshot name '" + last + "' is " + std::to_string(last.size()) +
                          " bytes long, its file system allows " + std::to_string(longest) +
                          " (give --output a shorter name)");
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(detail::folder_of(c.output), ec)) {
        const std::size_t iteration = snapshot_iteration(c.output, entry.path().filename().string(), planned_total);
        if (iteration && iteration % c.save_every == 0)
            detail::check_whole_file_output(entry.path().string(), "--save-every " + std::to_string(c.save_every) +
                                                                       ": the snapshot of iteration " +
                                                                       std::to_string(iteration));
    }
    const fs::path folder = detail::comparable_path(detail::folder_of(c.output).string());
    std::vector<detail::named_path> files = detail::input_files(c);  // and the other outputs
    for (const detail::named_path& out : detail::output_files(c))
        if (out.first != "--output") files.push_back(out);
    for (const auto& [option, input] : files) {
        const fs::path given = fs::path(detail::comparable_path(detail::folder_of(input).string())) /
                               fs::path(input).filename();
        for (const fs::path& path : {given, fs::path(detail::comparable_path(input))}) {
            const std::size_t iteration = path.parent_path() == folder
                                              ? snapshot_iteration(c.output, path.filename().string(), planned_total)
                                              : 0;
            if (iteration && iteration % c.save_every == 0)
                throw usage_error("--save-every " + std::to_string(c.save_every) + " would overwrite the " + option +
                                  " file '" + input + "' with the snapshot of iteration " + std::to_string(iteration) +
                                  " (give --output another name)");
        }
    }
}

class run_record {
public:
    // planned_total: the run's planned steps (nst::planned_iterations with the images: a tiled
    // scale counts its steps per tile).
    run_record(const command_line& c, std::size_t planned_total)
        : c_(c),
          total_(planned_total),
          grid_every_(c.save_every ? c.save_every : std::max<std::size_t>(1, (total_ + 7) / 8)) {}

    // Records one progress report: losses, CSV row, snapshot and thumbnail when due.
    void add(const stylize_progress& p) {
        // A scale change reports its upsampled start under the previous scale's last iteration:
        // that iteration's snapshot and thumbnail are the finished smaller scale's, not replaced.
        const bool repeated = reports_++ > 0 && p.iteration == last_iteration_;
        last_iteration_ = p.iteration;
        last_size_ = p.size;
        iterations_.push_back(double(p.iteration));
        totals_.push_back(p.loss);
        contents_.push_back(p.content_loss);
        styles_.push_back(p.style_loss);
        tvs_.push_back(p.tv_loss);
        char row[256];
        std::snprintf(row, sizeof row, "%zu,%.9g,%.9g,%.9g,%.9g,%.3f,%zu,%zu\n", p.iteration, p.loss, p.content_loss,
                      p.style_loss, p.tv_loss, p.elapsed_seconds, p.evaluations, p.size);
        csv_ += row;
        const bool snapshot = c_.save_every && p.iteration > 0 && p.iteration % c_.save_every == 0 && !repeated;
        const bool thumbnail = !c_.snapshot_grid.empty() && p.iteration % grid_every_ == 0 && !repeated;
        if (!snapshot && !thumbnail) return;
        const nst::image current = p.current_image();
        if (snapshot)
            writing("the snapshot", [&] {
                save_image(current, snapshot_path(c_.output, p.iteration, total_), snapshot_options());
            });
        if (thumbnail) thumbnails_.push_back({resize_longer_side(current, 200), iteration_label(p.iteration)});
    }

    std::size_t last_iteration() const { return last_iteration_; }
    std::size_t last_size() const { return last_size_; }  // the longer side of the last report

    /*  Writes the output image and every extra file asked for (log, loss plot, contact sheet,
        parameters); each image records the run's parameters (run_parameters.hpp).
        throws: output_error naming the file that could not be written; the files before it
                are complete, it and the ones after it are not written at all. */
    void write_outputs(const nst::image& output, const weights_info& weights) {
        image_save_options image_options = save_options(parameters_json(c_, weights));
        writing("the output", [&] { save_image(output, c_.output, image_options); });
        if (!c_.params_json.empty())
            writing("the --params-json file", [&] { write_text_atomically(c_.params_json, image_options.metadata); });
        image_options.png_bit_depth = 8;  // drawings
        if (!c_.log.empty()) writing("the --log file", [&] { write_text_atomically(c_.log, csv_); });
        if (!c_.loss_plot.empty())
            writing("the --loss-plot image", [&] {
                save_image(draw_loss_plot({{"total", draw::black, totals_, iterations_},
                                           {"content", draw::blue, contents_, iterations_},
                                           {"style", draw::red, styles_, iterations_},
                                           {"tv", draw::green, tvs_, iterations_}}),
                           c_.loss_plot, image_options);
            });
        if (!c_.snapshot_grid.empty()) {
            if (thumbnails_.empty() || thumbnails_.back().label != iteration_label(last_iteration_))
                thumbnails_.push_back({resize_longer_side(output, 200), "final"});
            writing("the --snapshot-grid image",
                    [&] { save_image(contact_sheet(thumbnails_), c_.snapshot_grid, image_options); });
        }
    }

private:
    image_save_options save_options(std::string metadata) const {
        image_save_options o;
        o.jpeg_quality = c_.jpeg_quality;
        o.png_bit_depth = c_.bit_depth;
        o.metadata = std::move(metadata);
        return o;
    }
    // Snapshots come before the run's report: the weights are identified here, once.
    const image_save_options& snapshot_options() {
        if (snapshot_options_.metadata.empty())
            snapshot_options_ = save_options(parameters_json(c_, identify_weights_file(c_.options.weights)));
        return snapshot_options_;
    }

    static std::string iteration_label(std::size_t iteration) { return "iteration " + std::to_string(iteration); }

    // Runs one write; its io_error (the message names the file and the system's reason)
    // becomes an output_error that says what was being saved. A second Ctrl-C meanwhile ends the
    // program once the file is whole (stop_signals.hpp), not halfway, leaving its temporary.
    template <class Write> static void writing(const char* what, Write&& write) {
        const writing_whole_file whole;
        try {
            write();
        } catch (const nst::io_error& e) {
            throw output_error(std::string("could not save ") + what + ": " + e.what());
        }
    }

    // Written all at once at the end (temporary file + rename), so it is never half-written.
    static void write_text_atomically(const std::string& path, const std::string& text) {
        nst::detail::atomic_file file(path);
        file.write(text.data(), text.size());
        file.commit();
    }

    const command_line& c_;
    std::size_t total_;  // steps planned over all scales
    std::size_t grid_every_;
    std::size_t last_iteration_ = 0;
    std::size_t last_size_ = 0;
    std::size_t reports_ = 0;
    std::vector<double> iterations_, totals_, contents_, styles_, tvs_;  // one entry per report
    // size: the longer side optimised at that row (coarse-to-fine runs log every scale; the first
    // row of a later scale repeats the iteration number, at the upsampled start).
    std::string csv_ = "iteration,loss,content,style,tv,elapsed_seconds,evaluations,size\n";
    std::vector<labelled_image> thumbnails_;
    image_save_options snapshot_options_;
};

}  // namespace nst::cli
