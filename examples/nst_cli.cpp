// nst: neural style transfer from the command line.
//
//   nst --content photo.jpg --style painting.jpg --output out.png
//
// Exit codes: 0 success; 2 bad input or usage (one line on stderr naming the problem, no output
// file written); 1 internal failure; 130 interrupted by Ctrl-C (the best image so far is saved).
// Run `nst --help` for every option.
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <nst/app/contact_sheet.hpp>
#include <nst/app/loss_plot.hpp>
#include <nst/app/progress.hpp>
#include <nst/nst.hpp>

#ifndef NST_DEFAULT_DATA_DIR
#define NST_DEFAULT_DATA_DIR ""
#endif

namespace {

namespace fs = std::filesystem;

// Bad input or usage: exit code 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_interrupt(int) {
    if (g_interrupted.exchange(true)) _exit(130);  // second Ctrl-C: give up at once
    const char msg[] = "\nnst: interrupted, stopping after this iteration (Ctrl-C again to abort)\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        out.push_back(b == std::string::npos ? "" : item.substr(b, e - b + 1));
    }
    return out;
}

std::vector<double> parse_numbers(const std::string& text, const std::string& option) {
    std::vector<double> out;
    for (const auto& item : split_list(text)) {
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(item, &used);
        } catch (...) {
            used = 0;
        }
        if (item.empty() || used != item.size() || !std::isfinite(v))
            throw usage_error(option + ": '" + item + "' is not a number (expected a comma list such as 0.7,0.3)");
        out.push_back(v);
    }
    return out;
}

std::string lower_extension(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

// An output path must end in an image extension we can write and live in an existing folder.
void check_writable_image(const std::string& path, const std::string& option) {
    const std::string ext = lower_extension(path);
    if (ext != ".png" && ext != ".jpg" && ext != ".jpeg")
        throw usage_error(option + " '" + path + "': unknown image extension '" + ext + "' (use .png, .jpg or .jpeg)");
    const fs::path folder = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        throw usage_error(option + " '" + path + "': the folder '" + folder.string() + "' does not exist");
    if (fs::is_directory(path, ec)) throw usage_error(option + " '" + path + "' is a directory");
}

// out.png, 50, 500 -> out_0050.png (next to the output)
std::string snapshot_path(const std::string& output, std::size_t iteration, std::size_t total) {
    const fs::path p(output);
    const int digits = std::max(4, int(std::to_string(total).size()));
    char number[32];
    std::snprintf(number, sizeof number, "_%0*zu", digits, iteration);
    return (p.parent_path() / (p.stem().string() + number + p.extension().string())).string();
}

// CSV written all at once at the end (temporary file + rename), so it is never half-written.
void write_text_atomically(const std::string& path, const std::string& text) {
    nst::detail::atomic_file file(path);
    file.write(text.data(), text.size());
    file.commit();
}

// OpenBLAS 0.3.21 does not know the newest CPUs and falls back to generic kernels.
void warn_about_openblas_core() {
    const std::string core = nst::blas_core_name();
    if (core == "unknown") return;
    const bool fast = core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids" ||
                      core == "Haswell" || core == "Zen";
    if (fast) return;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        std::fprintf(stderr,
                     "nst: warning: OpenBLAS runs its generic '%s' kernels on this AVX-512 CPU (2-4x slower "
                     "BLAS); set OPENBLAS_CORETYPE=SkylakeX in the environment to fix it\n",
                     core.c_str());
    else if (__builtin_cpu_supports("avx2"))
        std::fprintf(stderr,
                     "nst: warning: OpenBLAS runs its generic '%s' kernels on this AVX2 CPU; set "
                     "OPENBLAS_CORETYPE=Haswell in the environment to fix it\n",
                     core.c_str());
}

struct cli_settings {
    std::string content, output = "", log, loss_plot, snapshot_grid, init = "content", weights, data_dir;
    std::vector<std::string> styles;
    std::string style_blend, content_layers, style_layers, style_layer_weights, optimizer = "lbfgs",
                                                                                 pooling = "avg", memory_limit;
    std::string precision = "fp32";
    std::size_t save_every = 0;
    int jpeg_quality = 95;
    bool quiet = false;
};

int run(int argc, char** argv) {
    nst::stylize_options opt;
    cli_settings s;
    s.data_dir = NST_DEFAULT_DATA_DIR;
    s.content_layers = "relu4_2";
    s.style_layers = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1";

    CLI::App app{"nst " NST_VERSION_STRING
                 ": neural style transfer (Gatys, Ecker & Bethge 2015) on the CPU.\n"
                 "Exit codes: 0 done, 2 bad input or usage, 1 internal error, 130 interrupted (best image saved)."};
    app.set_version_flag("--version", std::string(NST_VERSION_STRING));
    app.get_formatter()->column_width(34);

    app.add_option("-c,--content", s.content, "Content image (JPEG, PNG, BMP, TGA, GIF, PSD, PNM)")->required();
    app.add_option("-s,--style", s.styles, "Style image; repeat for a blend of several")->required();
    app.add_option("-o,--output", s.output, "Output image (.png or .jpg), written atomically")->required();
    app.add_option("--style-blend", s.style_blend, "Comma list of weights, one per --style (default: equal)");
    app.add_option("--size", opt.size, "Longer side of the output in pixels")->capture_default_str();
    app.add_option("--style-scale", opt.style_scale, "Style images' longer side = style-scale * size")
        ->capture_default_str();
    app.add_option("-i,--iterations", opt.iterations, "Optimizer iterations")->capture_default_str();
    app.add_option("--optimizer", s.optimizer, "lbfgs | adam")
        ->check(CLI::IsMember({"lbfgs", "adam"}))
        ->capture_default_str();
    app.add_option("--learning-rate", opt.learning_rate, "Adam step size in pixel units (0..255)")
        ->capture_default_str();
    app.add_option("--content-weight", opt.content_weight, "alpha: weight of the content loss")->capture_default_str();
    app.add_option("--style-weight", opt.style_weight, "beta: weight of the style loss")->capture_default_str();
    app.add_option("--tv-weight", opt.tv_weight, "Weight of the total-variation smoothness prior")
        ->capture_default_str();
    app.add_option("--content-layers", s.content_layers, "Comma list of VGG19 layers")->capture_default_str();
    app.add_option("--style-layers", s.style_layers, "Comma list of VGG19 layers")->capture_default_str();
    app.add_option("--style-layer-weights", s.style_layer_weights,
                   "Comma list, one per style layer (default: 1/L each)");
    app.add_option("--pooling", s.pooling, "avg | max")->check(CLI::IsMember({"avg", "max"}))->capture_default_str();
    app.add_option("--init", s.init, "content | random | PATH of an image")->capture_default_str();
    app.add_option("--seed", opt.seed, "Seed of --init random")->capture_default_str();
    app.add_flag("--original-colors", opt.original_colors, "Keep the content's colours (luminance-only transfer)");
    app.add_option("--threads", opt.threads, "Threads (default: OMP_NUM_THREADS or all cores)");
    app.add_option("--precision", s.precision,
                   "fp32 | bf16: convolution products in bfloat16 (CPUs with AVX512_BF16; fp32 elsewhere)")
        ->check(CLI::IsMember({"fp32", "bf16"}))
        ->capture_default_str();
    app.add_option("--weights", s.weights,
                   "VGG19 Keras HDF5 weights (default: $NST_WEIGHTS, then "
                   "~/.keras/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, then the data dir)");
    app.add_option("--data-dir", s.data_dir, "Data directory searched last for weights/*.h5")->capture_default_str();
    app.add_option("--memory-limit", s.memory_limit,
                   "Refuse sizes whose estimated working memory exceeds this (e.g. 4G; default 3/4 of RAM)");
    app.add_flag("-q,--quiet", s.quiet, "No progress output (errors and warnings still go to stderr)");
    app.add_option("--log", s.log, "Write a CSV of the losses, one row per iteration");
    app.add_option("--save-every", s.save_every, "Save a numbered snapshot every N iterations (out_0050.png ...)");
    app.add_option("--loss-plot", s.loss_plot, "Draw the loss curves into this image");
    app.add_option("--snapshot-grid", s.snapshot_grid, "Contact sheet of the snapshots (image)");
    app.add_option("--jpeg-quality", s.jpeg_quality, "Quality of .jpg outputs (1-100)")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        throw usage_error(std::string(e.what()) + " (see nst --help)");
    }

    // Options -> stylize_options; everything cheap is checked before any file is read.
    opt.optimizer = s.optimizer == "adam" ? nst::optimizer_kind::adam : nst::optimizer_kind::lbfgs;
    opt.pooling_mode = s.pooling == "max" ? nst::pooling::max : nst::pooling::average;
    opt.precision = s.precision == "bf16" ? nst::conv_precision::bf16 : nst::conv_precision::fp32;
    if (nst::conv_precision_in_use(opt.precision) != opt.precision)
        std::fprintf(stderr, "nst: warning: --precision bf16 needs AVX512_BF16 (this build lacks it); running fp32\n");
    opt.content_layers = split_list(s.content_layers);
    opt.style_layers = split_list(s.style_layers);
    if (!s.style_layer_weights.empty())
        opt.style_layer_weights = parse_numbers(s.style_layer_weights, "--style-layer-weights");
    if (!s.style_blend.empty()) opt.style_blend = parse_numbers(s.style_blend, "--style-blend");
    if (!s.memory_limit.empty()) opt.memory_limit = nst::parse_byte_size(s.memory_limit);
    if (!s.memory_limit.empty() && opt.memory_limit == 0) throw usage_error("--memory-limit must be > 0");
    if (s.init == "content")
        opt.init = nst::init_kind::content;
    else if (s.init == "random")
        opt.init = nst::init_kind::random;
    else
        opt.init = nst::init_kind::image;
    if (opt.threads < 0) throw usage_error("--threads must be >= 1");
    if (s.styles.empty()) throw usage_error("--style is required");
    if (opt.init != nst::init_kind::image) nst::validate_options(opt, s.styles.size());

    check_writable_image(s.output, "--output");
    if (!s.loss_plot.empty()) check_writable_image(s.loss_plot, "--loss-plot");
    if (!s.snapshot_grid.empty()) check_writable_image(s.snapshot_grid, "--snapshot-grid");
    if (!s.log.empty()) {
        const fs::path folder = fs::path(s.log).has_parent_path() ? fs::path(s.log).parent_path() : fs::path(".");
        std::error_code ec;
        if (!fs::is_directory(folder, ec))
            throw usage_error("--log '" + s.log + "': the folder '" + folder.string() + "' does not exist");
    }

    opt.weights = nst::find_vgg19_weights(s.weights, s.data_dir);
    const nst::image content = nst::load_image(s.content);
    std::vector<nst::image> styles;
    for (const auto& path : s.styles) styles.push_back(nst::load_image(path));
    if (opt.init == nst::init_kind::image) {
        opt.init_image = nst::load_image(s.init);
        nst::validate_options(opt, styles.size());
    }

    warn_about_openblas_core();
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);

    // Per-iteration bookkeeping: progress, loss history, snapshots.
    nst::progress_display display(opt.iterations);
    std::vector<double> totals, contents, style_losses, tvs;
    std::string csv = "iteration,loss,content,style,tv,elapsed_seconds,evaluations\n";
    const std::size_t grid_every =
        s.save_every ? s.save_every : std::max<std::size_t>(1, (opt.iterations + 7) / 8);
    std::vector<nst::labelled_image> thumbnails;
    std::size_t last_iteration = 0;

    auto on_progress = [&](const nst::stylize_progress& p) {
        last_iteration = p.iteration;
        totals.push_back(p.loss);
        contents.push_back(p.content_loss);
        style_losses.push_back(p.style_loss);
        tvs.push_back(p.tv_loss);
        char row[256];
        std::snprintf(row, sizeof row, "%zu,%.9g,%.9g,%.9g,%.9g,%.3f,%zu\n", p.iteration, p.loss, p.content_loss,
                      p.style_loss, p.tv_loss, p.elapsed_seconds, p.evaluations);
        csv += row;
        const bool snapshot = s.save_every && p.iteration > 0 && p.iteration % s.save_every == 0;
        const bool thumbnail = !s.snapshot_grid.empty() && p.iteration % grid_every == 0;
        if (snapshot || thumbnail) {
            const nst::image current = p.current_image();
            if (snapshot) nst::save_image(current, snapshot_path(s.output, p.iteration, opt.iterations), s.jpeg_quality);
            if (thumbnail)
                thumbnails.push_back({nst::resize_longer_side(current, 200), "iteration " + std::to_string(p.iteration)});
        }
        if (!s.quiet) display.update(p.iteration, p.loss, p.content_loss, p.style_loss, p.tv_loss, p.elapsed_seconds);
        return !g_interrupted.load();
    };

    const nst::stylize_result result = nst::stylize(content, styles, opt, on_progress);
    if (!s.quiet && display.is_terminal()) display.finish();

    nst::save_image(result.output, s.output, s.jpeg_quality);
    if (!s.log.empty()) write_text_atomically(s.log, csv);
    if (!s.loss_plot.empty())
        nst::save_image(nst::draw_loss_plot({{"total", nst::draw::black, totals},
                                             {"content", nst::draw::blue, contents},
                                             {"style", nst::draw::red, style_losses},
                                             {"tv", nst::draw::green, tvs}}),
                        s.loss_plot, s.jpeg_quality);
    if (!s.snapshot_grid.empty()) {
        if (thumbnails.empty() || thumbnails.back().label != "iteration " + std::to_string(last_iteration))
            thumbnails.push_back({nst::resize_longer_side(result.output, 200), "final"});
        nst::save_image(nst::contact_sheet(thumbnails), s.snapshot_grid, s.jpeg_quality);
    }

    if (g_interrupted.load()) {
        std::fprintf(stderr, "nst: interrupted at iteration %zu; saved the best image so far (loss %s) to %s\n",
                     last_iteration, nst::format_loss(result.loss).c_str(), s.output.c_str());
        return 130;
    }
    if (!s.quiet)
        std::fprintf(stderr, "nst: %zu iterations in %s (%s), loss %s; wrote %s\n", result.iterations,
                     nst::format_duration(result.seconds).c_str(), nst::to_string(result.reason).c_str(),
                     nst::format_loss(result.loss).c_str(), s.output.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const usage_error& e) {
        std::fprintf(stderr, "nst: error: %s\n", e.what());
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
