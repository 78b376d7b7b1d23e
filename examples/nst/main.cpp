// nst: neural style transfer from the command line.
//
//   nst --content photo.jpg --style painting.jpg --output out.png
//
// Exit codes: 0 success; 2 bad input or usage (one line on stderr naming the problem, no output
// file written); 1 internal failure, an output that could not be written once the run had
// started (disk full, folder removed; nothing partial is left), or the loss became non-finite
// (the best finite image so far is saved); 130 interrupted by Ctrl-C, 143 stopped by SIGTERM,
// 129 by SIGHUP (each saves the best image so far; before the first iteration, while the inputs
// are read, nothing is written). Run `nst --help` for every option.
//
// The program's own parts live next to this file: options.hpp (command line), run_record.hpp
// (history, snapshots, output files), progress.hpp, loss_plot.hpp, contact_sheet.hpp,
// canvas.hpp (drawing), stop_signals.hpp (Ctrl-C / SIGTERM), openblas_core.hpp (the warning
// about OpenBLAS's slow generic kernels, nst-batch's too). The library does the rest.
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>
#include <algorithm>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <nst/nst.hpp>

#include "flag_image.hpp"
#include "openblas_core.hpp"
#include "openmp_waiting.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "run_record.hpp"
#include "stop_signals.hpp"

#ifndef NST_DEFAULT_DATA_DIR
#define NST_DEFAULT_DATA_DIR ""
#endif

namespace {

using namespace nst::cli;

struct images {
    nst::image content;
    std::vector<nst::image> styles;
};

// Finds the weights and reads every input image (and the init image into c.options).
images load_inputs(command_line& c) {
    c.options.weights = nst::find_vgg19_weights(c.weights, c.data_dir);
    const nst::image_limits& limits = c.options.input_limits;
    images in{load_flag_image("--content", c.content, limits), {}};
    for (const auto& path : c.styles) in.styles.push_back(load_flag_image("--style", path, limits));
    for (const auto& path : c.style_masks)
        c.options.style_masks.push_back(path.empty() || path == "-" ? nst::image()
                                                                   : load_flag_mask("--style-mask", path, limits));
    if (!c.content_mask.empty()) c.options.content_mask = load_flag_mask("--content-mask", c.content_mask, limits);
    if (c.options.init == nst::init_kind::image) {
        c.options.init_image = load_flag_image("--init", c.init, limits);
        detail::validate_flags(c.options, in.styles.size());
    }
    return in;
}

// Tiling engaged by itself (a scale's untiled estimate is above --memory-limit): say so, once
// for each scale that is tiled (with --scales / --multiscale only the large ones may be).
void notice_automatic_tiling(const command_line& c, const std::vector<nst::tiling_plan>& scales) {
    const std::uint64_t limit = c.options.memory_limit ? c.options.memory_limit : nst::default_memory_limit();
    for (const nst::tiling_plan& t : scales) {
        if (!t.window) continue;
        const std::size_t h = t.rows.cores.back().end, w = t.cols.cores.back().end;
        std::fprintf(stderr,
                     "nst: notice: %zu x %zu does not fit in the memory limit of %s in one piece; stylising it in "
                     "%zu overlapping tiles of %zu px (set the size with --tile)\n",
                     w, h, nst::format_bytes(limit).c_str(), t.tiles(), t.window);
    }
}

// Scales asked for (--scales, --multiscale) that the budget gives no step: said, not run silently.
void notice_unused_scales(const command_line& c) {
    if (c.options.iterations == 0) return;
    const std::vector<std::size_t> asked = nst::requested_scales(c.options);
    const std::vector<nst::scale_step> plan = nst::plan_scales(c.options);
    std::string unused;
    for (std::size_t s : asked)
        if (std::none_of(plan.begin(), plan.end(), [s](const nst::scale_step& p) { return p.size == s; }))
            unused += (unused.empty() ? "" : ", ") + std::to_string(s);
    if (unused.empty()) return;
    std::fprintf(stderr,
                 "nst: notice: --iterations %zu leaves no steps for %s px (the sizes below the output size share "
                 "%.0f%% of the budget's cost); only the larger sizes run\n",
                 c.options.iterations, unused.c_str(), 100 * nst::coarse_share(c.options));
}

// The tiling plan of the scale at `size` (the longer side), or none when it ran whole.
const nst::tiling_plan* tiled_scale(const command_line& c, const std::vector<nst::tiling_plan>& tiling,
                                    std::size_t size) {
    const std::vector<nst::scale_step> steps = nst::plan_scales(c.options);
    for (std::size_t i = 0; i < steps.size() && i < tiling.size(); ++i)
        if (steps[i].size == size && tiling[i].window != 0) return &tiling[i];
    return nullptr;
}

// A stop in a tiled scale: the losses reported are the current tile's and the result's is a sum
// over tiles at different stages, so no loss is named; what was kept is.
void report_tiled_stop(const command_line& c, int signal, const run_record& record, const nst::tiling_plan& plan,
                       const std::string& upsampled) {
    std::fprintf(stderr,
                 "nst: %s at iteration %zu, in the tiled pass at %zu px (%zu tiles of %zu px, %zu sweep%s); saved the "
                 "image as it stands%s to %s: each tile as its last visit left it, the interrupted tile at its best "
                 "so far (a tiled pass has no loss of the whole image)\n",
                 stopped_by(signal), record.last_iteration(), record.last_size(), plan.tiles(), plan.window,
                 plan.sweeps, plan.sweeps == 1 ? "" : "s", upsampled.c_str(), c.output.c_str());
}

// The last lines on stderr and the exit code: 0; 1 when the loss became non-finite (the best
// finite image is saved); or 128 + the signal that stopped the run.
int report(const command_line& c, const nst::stylize_result& result, const run_record& record,
           const std::vector<nst::tiling_plan>& tiling) {
    if (result.reason == nst::stop_reason::non_finite) {
        std::fprintf(stderr, "nst: error: %s; saved the best finite image so far (loss %s) to %s\n",
                     result.failure.c_str(), format_loss(result.loss).c_str(), c.output.c_str());
        return 1;
    }
    const int signal = stop_signal();
    if (signal != 0) {
        // Stopped below the output size: the loss is that scale's (its objective, at its size),
        // the image saved its best, upsampled.
        const std::size_t output_size = nst::requested_scales(c.options).back();
        const bool below = record.last_size() != 0 && record.last_size() != output_size;
        if (const nst::tiling_plan* plan = tiled_scale(c, tiling, record.last_size())) {
            report_tiled_stop(c, signal, record, *plan, below ? ", upsampled" : "");
            return 128 + signal;
        }
        const std::string at = below ? " at " + std::to_string(record.last_size()) + " px, upsampled" : "";
        std::fprintf(stderr, "nst: %s at iteration %zu; saved the best image so far (loss %s%s) to %s\n",
                     stopped_by(signal), record.last_iteration(), format_loss(result.loss).c_str(), at.c_str(),
                     c.output.c_str());
        return 128 + signal;
    }
    if (result.weights.known_name.empty())
        std::fprintf(stderr, "nst: notice: the weights file %s is not one nst knows (SHA-256 %s)\n",
                     result.weights.path.c_str(), result.weights.sha256.c_str());
    else if (!c.quiet)
        std::fprintf(stderr, "nst: weights: %s\n", result.weights.known_name.c_str());
    if (!c.quiet)
        std::fprintf(stderr, "nst: %zu iterations in %s (%s), loss %s; wrote %s\n", result.iterations,
                     format_duration(result.seconds).c_str(), nst::to_string(result.reason).c_str(),
                     format_loss(result.loss).c_str(), c.output.c_str());
    return 0;
}

// The library names styles by position ("style image 2 working size ...", "style mask 2 is all
// black") and the content mask by its role; the message gets each one's file: "style image 2
// ('scream.jpg')", "content mask ('sky.png')".
std::string with_input_files(const std::string& message, const command_line& c) {
    static const std::regex named("style (image|mask) ([0-9]+)|content mask");
    std::string out;
    std::size_t done = 0;
    for (auto m = std::sregex_iterator(message.begin(), message.end(), named); m != std::sregex_iterator(); ++m) {
        std::string file = c.content_mask;
        if ((*m)[1].matched) {
            const std::size_t k = std::stoul((*m)[2]);
            const std::vector<std::string>& files = (*m)[1] == "image" ? c.styles : c.style_masks;
            file = k >= 1 && k <= files.size() ? files[k - 1] : "";
        }
        out += message.substr(done, std::size_t(m->position() + m->length()) - done);
        if (!file.empty() && file != "-") out += " ('" + file + "')";
        done = std::size_t(m->position() + m->length());
    }
    return out + message.substr(done);
}

// --multiscale whose pyramid holds no size below the output size (--size below ~181 px, or
// images too narrow for the network at the smaller sizes): said, not run single-scale silently.
void notice_single_size_pyramid(const command_line& c) {
    if (c.quiet || c.options.scales.size() > 1) return;
    std::fprintf(stderr,
                 "nst: notice: --multiscale has no size below --size %zu (its pyramid starts at ~128 px, where "
                 "every image must fit the network); only %zu px runs\n",
                 c.options.size, c.options.size);
}

// A signal while the inputs were read (before the first iteration): nothing to save yet.
int report_stopped_before_run() {
    std::fprintf(stderr, "nst: %s before the first iteration; nothing written\n", stopped_by(stop_signal()));
    return 128 + stop_signal();
}

int stylise(command_line& c) {
    const images in = load_inputs(c);
    if (c.weights.empty()) detail::check_outputs_apart(c);  // again: nst found the weights itself
    const bool multiscale = c.options.multiscale;
    c.options = nst::resolve_multiscale(std::move(c.options), in.content, in.styles);  // the pyramid for these shapes
    if (multiscale) notice_single_size_pyramid(c);

    const std::vector<nst::tiling_plan> tiling = nst::plan_scale_tiling(in.content, in.styles, c.options);
    if (c.options.tile == 0) notice_automatic_tiling(c, tiling);

    warn_about_openblas_core("nst");
    if (stop_signal() != 0) return report_stopped_before_run();
    // The plan's steps, priced for the time left; their sum is what progress counts to
    // (nst::planned_iterations).
    const std::vector<nst::priced_steps> priced = nst::planned_step_costs(in.content, in.styles, c.options);
    std::size_t planned = 0;
    for (const nst::priced_steps& part : priced) planned += part.steps;
    check_snapshots_apart(c, planned);
    progress_display display(planned);
    display.print_every(c.print_every);
    display.price_steps(priced);
    run_record record(c, planned);
    const nst::stop_flag stop(stop_requested());
    bool started = false, stopped_before = false;
    const auto on_progress = [&](const nst::stylize_progress& p) {
        if (!started) {  // the first iteration: from now on a stop saves what the run made
            say_when_stopped("nst", "stopping after this iteration");
            stopped_before = stop_signal() != 0;
            if (stopped_before) return false;
            if (!c.quiet) notice_unused_scales(c);  // once every size has passed stylize's checks
        }
        started = true;
        record.add(p);
        if (!c.quiet)
            display.update(p.iteration, p.loss, p.content_loss, p.style_loss, p.tv_loss, p.elapsed_seconds,
                           p.scales > 1 ? p.size : 0);
        return stop(p);
    };
    // The run takes the options' images (masks, init image), c keeps the settings the record and
    // the report read: the images are held once, not twice.
    const nst::stylize_result result = nst::stylize(in.content, in.styles, nst::take_images(c.options), on_progress);
    if (stopped_before) return report_stopped_before_run();
    if (!c.quiet && display.is_terminal()) display.finish();
    record.write_outputs(result.output, result.weights);
    return report(c, result, record, tiling);
}

int run(int argc, char** argv) {
    command_line c;
    c.data_dir = NST_DEFAULT_DATA_DIR;
    if (const auto exit_code = parse_command_line(argc, argv, c)) return *exit_code;
    // Before the inputs are read (large images, a folder of styles, the weights in stylize).
    catch_stop_signals("nst", "stopping before the first iteration, nothing written");
    try {
        to_stylize_options(c);
        return stylise(c);
    } catch (const nst::image_too_large& e) {
        throw nst::image_too_large(with_input_files(e.what(), c));
    } catch (const nst::invalid_argument& e) {
        throw nst::invalid_argument(with_input_files(e.what(), c));
    }
}

}  // namespace

int main(int argc, char** argv) {
    restart_with_passive_openmp_waiting(argv);
    try {
        return run(argc, argv);
    } catch (const output_error& e) {
        std::fprintf(stderr, "nst: error: %s\n", e.what());
        return 1;
    } catch (const usage_error& e) {
        std::fprintf(stderr, "nst: error: %s\n", e.what());
        return 2;
    } catch (const nst::image_too_large& e) {
        std::fprintf(stderr, "nst: error: %s; on the command line: --max-input-pixels N\n", e.what());
        return 2;
    } catch (const nst::invalid_argument& e) {
        std::fprintf(stderr, "nst: error: %s\n", e.what());
        return 2;
    } catch (const nst::io_error& e) {
        std::fprintf(stderr, "nst: error: %s\n", e.what());
        return 2;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "nst: internal error: out of memory (try a smaller --size)\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nst: internal error: %s\n", e.what());
        return 1;
    }
}
