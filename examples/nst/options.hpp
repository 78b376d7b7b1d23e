// The `nst` program's command line: the flags (CLI11), their conversion into
// nst::stylize_options, and the checks that need no image or weights file, so bad usage is
// reported before any work (output paths: output_paths.hpp; --style folders: image_folders.hpp).
// The stylisation flags (add_stylisation_options and convert_stylisation_options) are
// nst-batch's too (examples/nst_batch/batch_options.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include <nst/core/version.hpp>
#include <nst/style_transfer.hpp>

#include "../argument_numbers.hpp"
#include "byte_size.hpp"
#include "image_folders.hpp"
#include "output_paths.hpp"
#include "usage_error.hpp"

namespace nst::cli {

// Everything the command line says. `options` receives the flags that map one to one; the
// text fields are converted by to_stylize_options.
struct command_line {
    nst::stylize_options options;
    std::string content, output, log, loss_plot, snapshot_grid, init = "content", weights;
    std::string data_dir;  // set by the caller to the compiled-in default before parsing
    std::vector<std::string> styles;
    std::vector<std::string> style_masks;  // one per style in order; "-" or "" = none
    std::string content_mask, colors;      // colors: empty = not given (style)
    std::string style_blend, content_layers = "relu4_2", style_layers = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1",
                             style_layer_weights, optimizer = "lbfgs", pooling = "avg", memory_limit,
                             precision = "fp32", model, weights_preprocessing;
    std::size_t save_every = 0;
    int jpeg_quality = 95;
    bool quiet = false;
    // The peers' flags (add_peer_options).
    std::string content_layer_weights, params_json;
    std::size_t print_every = 0;  // 0: the progress display's own rhythm
    int bit_depth = 8;
    std::string scales;       // --scales, a comma list of longer sides
    std::string pyramid_levels = "0";  // --pyramid-levels: auto or a count
    bool size_given = false;  // --size was on the command line (it must then match --scales)
    std::string program = "nst";  // the program recorded in the outputs' parameters
};

namespace detail {

// A CLI11 check for an unsigned count or size: digits only, from min to max (argument_numbers.hpp).
inline CLI::Validator whole_number(std::uint64_t min = 0, std::uint64_t max = UINT64_MAX) {
    return CLI::Validator([min, max](std::string& text) { return whole_number_problem(text, min, max); }, "",
                          "whole number");
}

// A CLI11 check that refuses an empty value (`--scales ""`, an unset shell variable), which the
// option's text field could not tell from the flag left out: `problem` follows "'' ".
inline CLI::Validator not_empty(const std::string& problem) {
    return CLI::Validator([problem](std::string& text) { return text.empty() ? "'' " + problem : std::string(); }, "",
                          "not empty");
}

// "a, b,c" -> {"a", "b", "c"}; an empty item (",," or a trailing comma) stays, for the caller to refuse.
inline std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        out.push_back(b == std::string::npos ? "" : item.substr(b, e - b + 1));
    }
    if (!text.empty() && text.back() == ',') out.push_back("");  // (getline gives none after it)
    return out;
}

inline std::vector<double> parse_numbers(const std::string& text, const std::string& option) {
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

// The run's input files, each with the option that names it (empty paths skipped). The weights:
// --weights, or once load_inputs has looked for them, the file it found.
inline std::vector<named_path> input_files(const command_line& c) {
    std::vector<named_path> inputs{{"--content", c.content}, {"--content-mask", c.content_mask}};
    if (!c.weights.empty()) inputs.push_back({"--weights", c.weights});
    else if (!c.options.weights.empty()) inputs.push_back({"VGG19 weights", c.options.weights});
    for (const auto& s : c.styles) inputs.push_back({"--style", s});
    for (const auto& m : c.style_masks) inputs.push_back({"--style-mask", m == "-" ? "" : m});
    if (c.init != "content" && c.init != "random") inputs.push_back({"--init", c.init});
    inputs.erase(std::remove_if(inputs.begin(), inputs.end(), [](const named_path& n) { return n.second.empty(); }),
                 inputs.end());
    return inputs;
}

// The files the run writes besides its snapshots, each with its option (empty paths skipped);
// --output first.
inline std::vector<named_path> output_files(const command_line& c) {
    std::vector<named_path> outputs;
    for (const named_path& out : {named_path{"--output", c.output}, {"--log", c.log}, {"--loss-plot", c.loss_plot},
                                  {"--snapshot-grid", c.snapshot_grid}, {"--params-json", c.params_json}})
        if (!out.second.empty()) outputs.push_back(out);
    return outputs;
}

// No output may be one of the run's input files (it would be overwritten: --log photo.jpg replaced
// the photo with the CSV) or another output. Only --output may be the --init image: refining a
// result in place ("--init out.png -o out.png") replaces it with a better one. Checked before
// any work, and again once the weights nst looks for by itself are found.
inline void check_outputs_apart(const command_line& c) {
    const std::vector<named_path> inputs = input_files(c);
    const std::vector<named_path> outputs = output_files(c);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const auto& [option, path] = outputs[i];
        for (const auto& [input_option, input] : inputs)
            if (!(option == "--output" && input_option == "--init") && same_file(path, input))
                throw usage_error(option + " '" + path + "' is the " + input_option +
                                  " file: it would be overwritten (give the output another path)");
        for (std::size_t j = 0; j < i; ++j)
            if (same_file(path, outputs[j].second))
                throw usage_error(option + " '" + path + "' is also the " + outputs[j].first +
                                  " file: give each output its own path");
    }
}

// nst's own flags: the one job it runs (nst-batch has its job lists instead).
inline void add_job_options(CLI::App& app, command_line& c) {
    app.add_option("-c,--content", c.content, "Content image (JPEG, PNG, BMP, TGA, GIF, PSD, PNM)")->required();
    app.add_option("-s,--style", c.styles,
                   "Style image, or a folder (every image in it, sorted by name); repeat for a blend of several")
        ->required();
    app.add_option("-o,--output", c.output, "Output image (.png or .jpg), written atomically")->required();
    app.add_option("--style-mask", c.style_masks,
                   "Region of each --style, in order (one per --style): greyscale image, white = this style "
                   "(alpha: transparent = outside); - = everywhere");
    app.add_option("--content-mask", c.content_mask,
                   "Where the content loss applies (white; alpha: transparent = outside); elsewhere only style")
        ->check(detail::not_empty("is not a file (give a mask image, or leave the flag out)"));
    app.add_option("--style-blend", c.style_blend, "Comma list of weights, one per --style (default: equal)");
}

// From here to add_peer_options: the stylisation flags nst and nst-batch share, gathered by
// add_stylisation_options.
inline void add_image_options(CLI::App& app, command_line& c) {
    app.add_option("--size", c.options.size, "Longer side of the output in pixels")
        ->check(detail::whole_number())
        ->each([&c](const std::string&) { c.size_given = true; })
        ->capture_default_str();
    app.add_option("--style-scale", c.options.style_scale, "Style images' longer side = style-scale * size")
        ->capture_default_str();
}

inline void add_scale_options(CLI::App& app, command_line& c) {
    app.add_option("--scales", c.scales,
                   "Coarse-to-fine: comma list of ascending longer sides, the last = the output size "
                   "(e.g. 128,256,512); --iterations is the whole run's budget")
        ->check(detail::not_empty("is not a size in pixels (expected e.g. 128,256,512)"));
    app.add_flag("--multiscale", c.options.multiscale,
                 "Coarse-to-fine over ~sqrt(2) steps from ~128 px up to --size");
    // Two flags, not CLI11's "--size-invariant,!--no-size-invariant": its help line reads
    // "--no-size-invariant{false}", which looks like the default. Each sets the value as it is
    // parsed, so the last one given wins, as with one flag.
    app.add_flag("--size-invariant", c.options.size_invariant,
                 "Scale the content and TV weights by (512/size)^2 so the weights give the same look at "
                 "any size (default: on)")
        ->trigger_on_parse();
    app.add_flag_function(
           "--no-size-invariant", [&c](std::int64_t count) { c.options.size_invariant = count <= 0; },
           "Turn --size-invariant off: plain sums over pixels, as the paper")
        ->trigger_on_parse();
}

// "128,256,512" -> {128, 256, 512}; each item a whole number.
inline std::vector<std::size_t> parse_sizes(const std::string& text, const std::string& option) {
    std::vector<std::size_t> out;
    for (const auto& item : split_list(text)) {
        if (item.empty() || item.size() > 9 || item.find_first_not_of("0123456789") != std::string::npos)
            throw usage_error(option + ": '" + item + "' is not a size in pixels (expected e.g. 128,256,512)");
        out.push_back(std::size_t(std::stoul(item)));
    }
    return out;
}

// --scales into c.options, checked against --size: the last scale is the output size. A list out
// of order is left to validate_scales, whose "strictly ascending" names the real mistake.
inline void to_scale_options(command_line& c) {
    if (c.scales.empty()) return;
    stylize_options& o = c.options;
    o.scales = parse_sizes(c.scales, "--scales");
    const bool ascending =
        std::adjacent_find(o.scales.begin(), o.scales.end(), std::greater_equal<>()) == o.scales.end();
    if (c.size_given && ascending && o.size != o.scales.back())
        throw usage_error("--scales ends at " + std::to_string(o.scales.back()) + " but --size is " +
                          std::to_string(o.size) + ": the last scale is the output size (drop --size or make them equal)");
    o.size = o.scales.back();
}

inline void add_optimisation_options(CLI::App& app, command_line& c) {
    stylize_options& o = c.options;
    app.add_option("-i,--iterations", o.iterations, "Optimizer iterations")
        ->check(detail::whole_number())
        ->capture_default_str();
    app.add_option("--optimizer", c.optimizer, "lbfgs | adam")
        ->check(CLI::IsMember({"lbfgs", "adam"}))
        ->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Adam step size in pixel units (0..255)")->capture_default_str();
    app.add_option("--pyramid-levels", c.pyramid_levels,
                   "L-BFGS: optimise the image as itself plus N coarser levels (halving): the same loss in fewer "
                   "steps; auto = down to ~16 px; 0 = the pixels alone")
        ->capture_default_str();
    app.add_option("--content-weight", o.content_weight, "alpha: weight of the content loss")->capture_default_str();
    app.add_option("--style-weight", o.style_weight, "beta: weight of the style loss")->capture_default_str();
    app.add_option("--tv-weight", o.tv_weight, "Weight of the total-variation smoothness prior")->capture_default_str();
    app.add_option("--content-layers", c.content_layers, "Comma list of VGG layers (or Keras': block4_conv2 = relu4_2)")
        ->capture_default_str();
    app.add_option("--style-layers", c.style_layers, "Comma list of VGG layers")->capture_default_str();
    app.add_option("--style-layer-weights", c.style_layer_weights, "Comma list, one per style layer (default: 1/L each)");
    app.add_option("--pooling", c.pooling, "avg | max")->check(CLI::IsMember({"avg", "max"}))->capture_default_str();
    app.add_option("--init", c.init, "content | random | PATH of an image")->capture_default_str();
    app.add_option("--seed", o.seed, "Seed of --init random")->check(detail::whole_number())->capture_default_str();
    app.add_option("--colors", c.colors,
                   "style | luminance (keep the content's colours) | histogram (style images recoloured to the "
                   "content's colour statistics) [style]")
        ->check(CLI::IsMember({"style", "luminance", "histogram"}));
    app.add_flag("--original-colors", o.original_colors, "Same as --colors luminance");
}

inline void add_system_options(CLI::App& app, command_line& c) {
    app.add_option("--threads", c.options.threads, "Threads (default: OMP_NUM_THREADS or all cores)");
    app.add_option("--precision", c.precision,
                   "fp32 | bf16: the gradient pass's convolution products in bfloat16, the forward pass (the loss) "
                   "in fp32 (CPUs with AVX512_BF16; fp32 elsewhere)")
        ->check(CLI::IsMember({"fp32", "bf16"}))
        ->capture_default_str();
    app.add_option("--weights", c.weights,
                   "VGG19 or VGG16 weights: Keras .h5, PyTorch .pth, Caffe .caffemodel or .safetensors (default: "
                   "$NST_WEIGHTS, then Keras', PyTorch's and Hugging Face's caches, ./models/, then the data dir)");
    app.add_option("--model", c.model, "vgg19 | vgg16 (default: the weights file's model, else vgg19)")
        ->check(CLI::IsMember({"vgg19", "vgg16"}));
    app.add_option("--weights-preprocessing", c.weights_preprocessing,
                   "caffe | torchvision: the input convention of the weights (default: from the file)")
        ->check(CLI::IsMember({"caffe", "torchvision"}));
    app.add_option("--data-dir", c.data_dir, "Data directory searched last for weights/*.h5")->capture_default_str();
    app.add_option("--max-input-pixels", c.options.input_limits.max_pixels,
                   "Refuse input images (and resize targets) with more pixels than this, before decoding")
        ->check(detail::whole_number(1))
        ->capture_default_str();
    app.add_option("--weights-sha256", c.options.weights_sha256,
                   "Use the weights file only if its SHA-256 is this (64 hex digits)");
    app.add_option("--memory-limit", c.memory_limit,
                   "Refuse sizes whose estimated working memory exceeds this, unless tiles fit it (e.g. 4G; "
                   "default 3/4 of RAM)");
    app.add_option("--tile", c.options.tile,
                   "Stylise in overlapping tiles of about N px (>= 128) when the size does not fit in one "
                   "(default 0: tiles only when --memory-limit needs them)")
        ->check(detail::whole_number(0, std::uint64_t(1) << 20))
        ->capture_default_str();
}

inline void add_output_options(CLI::App& app, command_line& c) {
    app.add_flag("-q,--quiet", c.quiet, "No progress output (errors and warnings still go to stderr)");
    app.add_option("--jpeg-quality", c.jpeg_quality, "Quality of .jpg outputs (1-100)")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    app.add_option("--bit-depth", c.bit_depth, "Bits per sample of PNG outputs: 8 | 16")
        ->check(CLI::IsMember({8, 16}))
        ->capture_default_str();
}

// Flags that users of jcjohnson/neural-style and of Keras' example type.
inline void add_peer_options(CLI::App& app, command_line& c) {
    stylize_options& o = c.options;
    app.add_option("--content-layer-weights", c.content_layer_weights,
                   "Comma list, one per content layer (default: 1/K each)");
    app.add_option("--init-noise", o.init_noise, "Blend of noise into the start: (1-F)*start + F*noise (from --seed)")
        ->capture_default_str();
    app.add_flag("--normalize-gradients", o.normalize_gradients,
                 "Divide each content/style term's gradient by its L1 norm (neural-style's flag; losses unchanged; "
                 "use with e.g. --content-weight 5 --style-weight 100 --tv-weight 1e-3)");
    app.add_option("--lbfgs-history", o.lbfgs_history, "L-BFGS: correction pairs kept")
        ->check(detail::whole_number(1))
        ->capture_default_str();
    app.add_option("--adam-beta1", o.adam_beta1, "Adam: first-moment decay, in [0, 1)")->capture_default_str();
    app.add_option("--adam-beta2", o.adam_beta2, "Adam: second-moment decay, in [0, 1)")->capture_default_str();
    app.add_option("--adam-epsilon", o.adam_epsilon, "Adam: added to the root of the second moment, > 0")
        ->capture_default_str();
}

// The stylisation flags shared by nst and nst-batch, defined once here.
inline void add_stylisation_options(CLI::App& app, command_line& c) {
    add_image_options(app, c);
    add_scale_options(app, c);
    add_optimisation_options(app, c);
    add_peer_options(app, c);
    add_system_options(app, c);
    add_output_options(app, c);
}

// nst's own flags: the record of its one run (nst-batch refuses them: batch_options.hpp).
inline void add_run_record_options(CLI::App& app, command_line& c) {
    app.add_option("--log", c.log, "Write a CSV of the losses, one row per iteration");
    app.add_option("--save-every", c.save_every, "Save a numbered snapshot every N iterations (out_0050.png ...)")
        ->check(detail::whole_number());
    app.add_option("--loss-plot", c.loss_plot, "Draw the loss curves into this image");
    app.add_option("--snapshot-grid", c.snapshot_grid, "Contact sheet of the snapshots (image)");
    app.add_option("--print-every", c.print_every, "A progress line every N iterations (default: a live bar)")
        ->check(detail::whole_number());
    app.add_option("--params-json", c.params_json,
                   "Also write the run's parameters (recorded in every output image) to this JSON file");
}

// Whether `name` is a numbered snapshot of `output` (out.png: out_0050.png) by its form: the
// digits give its iteration.
inline std::optional<std::string> snapshot_digits(const std::string& output, const std::string& name) {
    const std::filesystem::path p(output);
    const std::string prefix = p.stem().string() + "_", suffix = p.extension().string();
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return digits;
}

// Whether `path` is one of the files nst writes: an output, or a snapshot of --output by its name.
inline bool is_own_output(const command_line& c, const std::string& path) {
    for (const auto& out : output_files(c))
        if (same_file(path, out.second)) return true;
    return comparable_path(folder_of(path).string()) == comparable_path(folder_of(c.output).string()) &&
           snapshot_digits(c.output, std::filesystem::path(path).filename().string());
}

// The flag behind a knob the library's validate_options names ("size must be at least 16 pixels"
// is --size's), "" when it names none of them.
inline std::string flag_of_knob(const std::string& message) {
    static const std::pair<const char*, const char*> knobs[] = {
        {"size ", "--size"},
        {"scales ", "--scales"},
        {"the last scale", "--scales"},
        {"style scale", "--style-scale"},
        {"content weight", "--content-weight"},
        {"style weight", "--style-weight"},
        {"tv weight", "--tv-weight"},
        {"learning rate", "--learning-rate"},
        {"L-BFGS history", "--lbfgs-history"},
        {"adam beta1", "--adam-beta1"},
        {"adam beta2", "--adam-beta2"},
        {"adam epsilon", "--adam-epsilon"},
        {"init noise", "--init-noise"},
        {"style layer weights", "--style-layer-weights"},
        {"content layer weights", "--content-layer-weights"},
        {"style blend", "--style-blend"},
        {"the sum of the style blend", "--style-blend"},
        {"tile size", "--tile"},
        {"threads", "--threads"},
        {"pyramid levels", "--pyramid-levels"},
    };
    for (const auto& [knob, flag] : knobs)
        if (message.rfind(knob, 0) == 0) return flag;
    return "";
}

// validate_options with the flag named first ("--size: size must be at least 16 pixels, got 8").
inline void validate_flags(const stylize_options& o, std::size_t style_count) {
    try {
        validate_options(o, style_count);
    } catch (const nst::invalid_argument& e) {
        const std::string flag = flag_of_knob(e.what());
        if (flag.empty()) throw;
        throw usage_error(flag + ": " + e.what());
    }
}

// Expands --style folders into their image files (before validate_options counts the styles).
inline void expand_style_folders(command_line& c) {
    const expanded_inputs styles =
        expand_image_folders(c.styles, "--style", [&c](const std::string& p) { return is_own_output(c, p); });
    if (!styles.left_out.empty())
        std::fprintf(stderr, "nst: notice: --style folder: %s left out (this run's outputs, not styles)\n",
                     some_names(styles.left_out).c_str());
    c.styles = styles.files;
}

// Edits (insert, delete, replace a character) that turn a into b.
inline std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// CLI11's message for a refused command line, in the words of the flag table: a flag given
// twice reads "--size is given 2 times; give it once", not "--size: At Most 1 required but
// received 2".
inline std::string parse_error_text(const CLI::ParseError& e) {
    const std::string text = e.what(), repeated = ": At Most 1 required but received ";
    const std::size_t at = text.find(repeated);
    if (at == std::string::npos || at == 0) return text;
    return text.substr(0, at) + " is given " + text.substr(at + repeated.size()) + " times; give it once";
}

// For a command line CLI11 refused: "; did you mean --iterations?" when a flag is not one of the
// app's but close to one (a typo), "; give the files by flag: <usage>" when it starts with a bare
// file name; otherwise "".
inline std::string flag_hint(const CLI::App& app, int argc, char** argv, const std::string& usage) {
    std::vector<std::string> known;
    for (const CLI::Option* o : app.get_options())
        for (const std::string& name : o->get_lnames()) known.push_back(name);
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
        const std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
        if (std::find(known.begin(), known.end(), name) != known.end()) continue;
        std::string best;
        std::size_t best_distance = std::max<std::size_t>(2, name.size() / 4) + 1;  // close: a typo or two
        for (const std::string& k : known)
            if (const std::size_t d = edit_distance(name, k); d < best_distance) {
                best = k;
                best_distance = d;
            }
        return best.empty() ? "" : "; did you mean --" + best + "?";
    }
    if (argc > 1 && argv[1][0] != '-') return "; give the files by flag: " + usage;
    return "";
}

}  // namespace detail

/*  Parses argv into c.
    ensures: returns an exit code when the program should end now (--help, --version: their text
             is printed); nullopt when c holds a command line to run.
    throws:  usage_error for an unknown flag, a missing required flag or a malformed value. */
inline std::optional<int> parse_command_line(int argc, char** argv, command_line& c) {
    CLI::App app{"nst " NST_VERSION_STRING
                 ": neural style transfer (Gatys, Ecker & Bethge 2015) on the CPU.\n"
                 "Exit codes: 0 done, 2 bad input or usage, 1 internal error, an output that could not\n"
                 "be written (disk full, folder removed) or a non-finite loss (best finite image saved),\n"
                 "130 interrupted by Ctrl-C, 143 stopped by SIGTERM, 129 by SIGHUP (each saves the best image so far)."};
    app.set_version_flag("--version", std::string(NST_VERSION_STRING));
    app.get_formatter()->column_width(34);
    detail::add_job_options(app, c);
    detail::add_stylisation_options(app, c);
    detail::add_run_record_options(app, c);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        throw usage_error(detail::parse_error_text(e) +
                          detail::flag_hint(app, argc, argv, "nst -c CONTENT -s STYLE -o OUTPUT.png") +
                          " (see nst --help)");
    }
    return std::nullopt;
}

/*  Converts the shared stylisation flags' text into c.options (nst and nst-batch). A warning
    (--precision bf16 in a build without it) is printed under c.program's name when `speak`
    (false on nst-batch's MPI ranks but rank 0, so that a run says it once).
    throws: usage_error naming the option. */
inline void convert_stylisation_options(command_line& c, bool speak = true) {
    stylize_options& o = c.options;
    o.optimizer = c.optimizer == "adam" ? optimizer_kind::adam : optimizer_kind::lbfgs;
    o.pooling_mode = c.pooling == "max" ? pooling::max : pooling::average;
    o.precision = c.precision == "bf16" ? conv_precision::bf16 : conv_precision::fp32;
    if (!c.model.empty()) o.model = parse_model_kind(c.model);
    if (!c.weights_preprocessing.empty())
        o.weights_preprocessing =
            c.weights_preprocessing == "torchvision" ? input_convention::torchvision : input_convention::caffe;
    if (speak && conv_precision_in_use(o.precision) != o.precision)
        std::fprintf(stderr, "%s: warning: --precision bf16 needs AVX512_BF16 (this build lacks it); running fp32\n",
                     c.program.c_str());
    o.content_layers = detail::split_list(c.content_layers);
    o.style_layers = detail::split_list(c.style_layers);
    if (!c.style_layer_weights.empty())
        o.style_layer_weights = detail::parse_numbers(c.style_layer_weights, "--style-layer-weights");
    if (!c.content_layer_weights.empty())
        o.content_layer_weights = detail::parse_numbers(c.content_layer_weights, "--content-layer-weights");
    if (!c.style_blend.empty()) o.style_blend = detail::parse_numbers(c.style_blend, "--style-blend");
    if (!c.memory_limit.empty()) try {
            o.memory_limit = parse_byte_size(c.memory_limit);
        } catch (const nst::invalid_argument& e) {
            throw usage_error(std::string("--memory-limit: ") + e.what());
        }
    if (!c.memory_limit.empty() && o.memory_limit == 0)
        throw usage_error("--memory-limit '" + c.memory_limit +
                          "' comes to 0 bytes (without a unit the number counts bytes; e.g. 4G)");
    o.init = c.init == "content" ? init_kind::content : c.init == "random" ? init_kind::random : init_kind::image;
    if (std::error_code ec; o.init == init_kind::image && !std::filesystem::exists(c.init, ec))
        throw usage_error("--init '" + c.init + "': no such file (--init takes content, random or an image file)");
    if (o.original_colors && !c.colors.empty() && c.colors != "luminance")
        throw usage_error("--original-colors (= --colors luminance) conflicts with --colors " + c.colors);
    o.colors = c.colors == "histogram" ? color_mode::histogram
               : c.colors == "luminance" || o.original_colors ? color_mode::luminance
                                                               : color_mode::style;
    detail::to_scale_options(c);
    const std::string& n = c.pyramid_levels;
    if (n == "auto") {
        o.pyramid_levels.reset();
    } else {
        if (n.empty() || n.size() > 2 || n.find_first_not_of("0123456789") != std::string::npos)
            throw usage_error("--pyramid-levels: '" + n + "' is not auto or a count of levels (0-99)");
        o.pyramid_levels = std::size_t(std::stoul(n));
    }
}

/*  Converts the text options into c.options and checks everything that needs no file (the
    options themselves, the output paths), so bad usage fails before any work.
    throws: usage_error or nst::invalid_argument naming the option. */
inline void to_stylize_options(command_line& c) {
    convert_stylisation_options(c);
    stylize_options& o = c.options;
    const std::size_t style_flags = c.styles.size();
    detail::expand_style_folders(c);
    if (c.styles.empty()) throw usage_error("--style is required");
    // Counted against the style images: a --style folder gives several (by file name).
    if (!c.style_masks.empty() && c.style_masks.size() != c.styles.size())
        throw usage_error("got " + std::to_string(c.style_masks.size()) + " --style-mask for " +
                          std::to_string(c.styles.size()) +
                          (c.styles.size() == style_flags
                               ? " --style (give one per --style, in order; - for none)"
                               : " style images (" + std::to_string(style_flags) +
                                     " --style, folders expanded: give one per image, in order, a folder's by "
                                     "file name; - for none)"));
    if (o.init != init_kind::image) detail::validate_flags(o, c.styles.size());  // else: once the image is read

    detail::check_writable_image(c.output, "--output");
    detail::require_format_holds_bit_depth(c.output, c.bit_depth, "--output");
    if (!c.loss_plot.empty()) detail::check_writable_image(c.loss_plot, "--loss-plot");
    if (!c.snapshot_grid.empty()) detail::check_writable_image(c.snapshot_grid, "--snapshot-grid");
    if (!c.log.empty()) detail::check_whole_file_output(c.log, "--log");
    if (!c.params_json.empty()) detail::check_whole_file_output(c.params_json, "--params-json");
    detail::check_outputs_apart(c);
}

}  // namespace nst::cli
