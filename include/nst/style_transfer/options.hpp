// What a stylisation is asked to do and what it reports: the options (with the `nst` program's
// defaults), the progress a callback receives, the result, and the check of the options.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"
#include "../core/tensor.hpp"
#include "../io/image.hpp"
#include "../io/model_weights.hpp"
#include "../io/weights_identity.hpp"
#include "../layers/conv_precision.hpp"
#include "../layers/pool2x2.hpp"
#include "../optim/result.hpp"
#include "../models/model_kind.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

class stylize_cache;  // stylize_cache.hpp

enum class optimizer_kind { lbfgs, adam };
// (The enumerator `image` has nst::image's name, which -Wshadow reports in a program that
// includes nst with it; init_kind::image is only ever written qualified.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
enum class init_kind {
    content,  // start from the content image: converges fastest (as the TensorFlow tutorial does;
              // jcjohnson/neural-style's default is -init random)
    random,   // white noise around the ImageNet mean grey (the paper's choice), from `seed`
    image,    // start from stylize_options::init_image, resized to the working size
};
#pragma GCC diagnostic pop

// What happens to colours (stylize_options::colors).
enum class color_mode {
    style,      // the style's colours, as the optimisation finds them (the paper)
    luminance,  // luminance-only transfer: the result's luminance with the content's chroma (YCbCr)
    histogram,  // each style image recoloured to the content's RGB mean and covariance before the run
};

inline const char* to_string(color_mode c) {
    return c == color_mode::style ? "style" : c == color_mode::luminance ? "luminance" : "histogram";
}

inline const char* to_string(optimizer_kind o) { return o == optimizer_kind::lbfgs ? "lbfgs" : "adam"; }
inline const char* to_string(init_kind i) {
    return i == init_kind::content ? "content" : i == init_kind::random ? "random" : "image";
}

// Every knob of a stylisation, with the defaults the `nst` program uses.
struct stylize_options {
    // VGG weights: Keras .h5, PyTorch .pth, safetensors or Caffe .caffemodel
    // (io/read_weights.hpp). Empty: find_vgg19_weights("", "") looks in $NST_WEIGHTS, Keras'
    // cache, PyTorch's cache, Hugging Face's cache and ./models/ (io/weights_lookup.hpp).
    std::string weights;
    // The network: VGG19 or VGG16. Empty: the weights file's (13 convolutions: VGG16), VGG19 when
    // the file does not tell. A model the file contradicts is refused.
    std::optional<model_kind> model;
    // How images are prepared for the network (io/preprocess.hpp). Empty: the weights file's own
    // convention (model_weights::convention: caffe for .h5 and neural-style-pt's .pth, torchvision
    // for other .pth). Quantities in pixel levels (tv_weight, learning_rate, random init noise)
    // keep their meaning under both; content and style weights apply to the features unchanged.
    std::optional<input_convention> weights_preprocessing;

    std::size_t size = 512;      // longer side of the output in pixels (the content is resized)
    double style_scale = 1.0;    // each style image's longer side = style_scale * size
    std::size_t iterations = 500;  // the whole run's budget, split over the scales (scale_plan.hpp)
    // Coarse-to-fine: optimise at these longer sides in turn (strictly ascending, the last equal
    // to `size`), each starting from the previous result upsampled; empty = `size` only.
    std::vector<std::size_t> scales;
    // Coarse-to-fine over an automatic pyramid from ~128 px up to `size` in sqrt(2) steps
    // (multiscale_sizes); not together with `scales`.
    bool multiscale = false;
    // Content and TV terms scaled by (512 / working size)^2, as if they were means over pixels:
    // the same weights then give the same balance at any size (the style term, Gram-normalised,
    // already does), and at 512 px nothing changes. false: the paper's plain sums.
    bool size_invariant = true;
    optimizer_kind optimizer = optimizer_kind::lbfgs;
    double learning_rate = 10.0;     // Adam only, in pixel units (0..255) per step
    std::size_t lbfgs_history = 10;  // L-BFGS only: correction pairs kept
    // L-BFGS only: the optimizer's variables are the image and this many coarser levels of it
    // (each half the previous one's size, pyramid_parametrization.hpp): the same loss in fewer
    // steps (README, Performance). Empty: automatic_pyramid_levels (down to ~16 px: 4 at 256 px,
    // 5 at 512 px). 0 (the default) = the pixels alone: past 256 px the levels gain under 1% of
    // the loss in the default budgets, for 2-4% more time per evaluation and 4/3 of the image in
    // L-BFGS's vectors (README, "Resolution levels").
    std::optional<std::size_t> pyramid_levels = 0;

    // alpha, beta (alpha/beta = 2e-4, see the file comment) and the TV prior, whose sum is in
    // squared pixel levels: weight 1 keeps it a small part of the total at the end of the default
    // run, enough to remove the checkerboard noise without blurring the brush strokes.
    double content_weight = 1.0;
    double style_weight = 5e3;
    double tv_weight = 1.0;

    std::vector<std::string> content_layers{"relu4_2"};
    std::vector<std::string> style_layers{"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
    // One weight w_l per style layer; empty = 1/L each (the paper's choice).
    std::vector<double> style_layer_weights;
    // One weight per style image; empty = equal. Normalised to sum 1; the style target of each
    // layer is the weighted sum of the styles' Gram matrices.
    std::vector<double> style_blend;

    pooling pooling_mode = pooling::average;  // the paper's choice; VGG was trained with max
    // With scales (coarse-to-fine), a random start gives the scales below the output size a
    // larger share of the budget's cost: its layout has yet to form (scale_plan.hpp: coarse_share).
    init_kind init = init_kind::content;
    nst::image init_image;                    // used when init == init_kind::image
    std::uint64_t seed = 0;                   // for init_kind::random
    color_mode colors = color_mode::style;
    // The older spelling of colors = color_mode::luminance (true with colors == histogram is refused).
    bool original_colors = false;
    // Style masks, one per style image in order (or none at all): H x W x 3 images like the
    // content (as load_mask_image gives any file, a greyscale one too, with alpha as coverage:
    // transparent = 0; the mean of the three channels counts), white = this style applies, soft
    // values between; an empty image = that style applies everywhere. Masks are stretched to the
    // content's size (aspect ratios within 1.5x of it) and normalised where they overlap; each
    // style's Gram is then taken over its region of the generated image
    // (loss/masked_style_loss.hpp), against the Gram of the whole style image; style_blend then
    // weights the styles' terms (scaled to mean 1, so each region is styled like a one-style run).
    std::vector<nst::image> style_masks;
    // Where the content loss applies (white; soft values weight it); empty = everywhere.
    nst::image content_mask;
    // > 0: OpenMP and OpenBLAS use this many threads during the call, and the caller's counts
    // are restored when it returns (nst::scoped_threads); 0: the caller's current counts.
    int threads = 0;
    // Convolution products (layers/conv_precision.hpp): fp32; bf16 = the backward (gradient)
    // pass in bf16 with float sums, the forward pass and so the loss in fp32 (a short run ends
    // within 40 dB PSNR and 1% loss of fp32); bf16_all = both passes (experimental: drifts). bf16
    // needs AVX512_BF16, else the run stays fp32.
    conv_precision precision = conv_precision::fp32;
    // Largest input or resize target accepted (pixels; io/image.hpp): images are refused before
    // they are decoded or resized beyond it.
    image_limits input_limits;
    // Refuse a weights file whose SHA-256 is not this (64 hex digits); empty: any file, whose
    // identity stylize_result::weights reports.
    std::string weights_sha256;
    // Refuse to start when the estimated working memory exceeds this many bytes (unless tiling
    // fits it: see `tile`). 0 = default_memory_limit() (3/4 of physical RAM, 8 GiB where that
    // is unknown).
    std::uint64_t memory_limit = 0;

    // The peers' knobs (jcjohnson/neural-style's flags).
    // One weight per content layer (content_weight * w_k); empty = 1/K each.
    std::vector<double> content_layer_weights;
    // Blend of noise into the start: x0 = (1 - init_noise) * start + init_noise * noise, where the
    // start is the content (or init image) and the noise is what init_kind::random draws from
    // `seed`; 0 = no noise, 1 = the random start. Ignored for init_kind::random.
    double init_noise = 0.0;
    // Each content/style term's gradient divided by its L1 norm before weighting (neural-style's
    // -normalize_gradients; objective::normalize_gradients). The reported losses stay
    // unnormalised; the weights then set each term's share of the step, so they need other
    // values than the defaults (neural-style uses content 5, style 100 with it).
    bool normalize_gradients = false;
    // Adam only: the moment decays and the denominator's epsilon (optim/adam.hpp).
    double adam_beta1 = 0.9;
    double adam_beta2 = 0.999;
    double adam_epsilon = 1e-8;
    // > 0: stylise in overlapping tiles of about this many pixels (halo included) when the
    // working size does not fit in one (style_transfer/tiled.hpp); 0: tiles only when the
    // untiled estimate exceeds memory_limit, then the largest that fit. At least 128.
    std::size_t tile = 0;
    // Not owned; null: none. Reuse of the loaded network and the style targets across calls
    // (stylize_cache.hpp); must outlive the call.
    stylize_cache* cache = nullptr;
};

// What callbacks receive after every optimizer iteration (iteration 0 = the starting image).
struct stylize_progress {
    std::size_t iteration;     // accepted optimizer steps so far
    std::size_t iterations;    // steps planned over all scales (options.iterations for one)
    double loss;               // total weighted loss = content_loss + style_loss + tv_loss
    double content_loss;       // content_weight * (1/K) sum_k C_k
    double style_loss;         // style_weight * sum_l w_l E_l
    double tv_loss;            // tv_weight * TV
    double best_loss;          // lowest total loss so far at this size (this one included)
    double elapsed_seconds;    // since the optimizer started
    std::size_t evaluations;   // objective evaluations so far (L-BFGS line searches add some)
    const tensor3<float>& x;   // current image in the network's input convention (3 x H x W)
    // The current image as RGB 0..255 (with the content's chroma under color_mode::luminance).
    std::function<nst::image()> current_image;
    // Coarse-to-fine: the longer side being optimised, which scale it is (0-based) of how many.
    // Counts (iteration, iterations, evaluations, elapsed_seconds) run on across scales; the
    // first report of a later scale repeats the previous scale's last iteration number with the
    // loss of the upsampled start at the new size. Losses and best_loss are those of this size.
    std::size_t size;
    std::size_t scale;
    std::size_t scales;
};

struct stylize_result {
    // The lowest-loss image at the output size, RGB, H x W x 3 (not clamped: save clamps). A
    // coarse-to-fine run stopped before its last scale returns that scale's best, upsampled.
    nst::image output;
    double loss = 0;            // its total loss and parts (at the size of the last scale run)
    double content_loss = 0;
    double style_loss = 0;
    double tv_loss = 0;
    std::size_t iterations = 0;   // optimizer steps taken (all scales)
    std::size_t evaluations = 0;  // objective evaluations (all scales)
    stop_reason reason = stop_reason::max_iterations;
    double seconds = 0;           // wall time of the whole call (weights, targets, optimisation)
    // With reason == stop_reason::non_finite: where the loss or gradient became NaN/inf and in
    // which loss groups (content, style, tv); `output` is then the best finite image so far,
    // which is the starting image when no step was accepted (has_output() says whether any
    // finite loss was ever seen). Empty otherwise.
    std::string failure;
    weights_info weights;  // the weights file used: path, SHA-256, published name if known
    bool has_output() const { return std::isfinite(loss); }
};

// Whether the result keeps the content's chroma (colors luminance or its older flag).
inline bool keeps_content_chroma(const stylize_options& o) {
    return o.original_colors || o.colors == color_mode::luminance;
}

// Whether any style has a region mask.
inline bool has_style_masks(const stylize_options& o) {
    for (const auto& m : o.style_masks)
        if (m.size() != 0) return true;
    return false;
}

namespace detail {
inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

// A value of an enum that is none of its named ones (a cast from a wrong number) would run as
// whichever branch its checks fall to: refused, naming the knob and the number.
template <class Enum> void require_named(Enum v, std::initializer_list<Enum> named, const std::string& what) {
    if (std::find(named.begin(), named.end(), v) == named.end())
        throw invalid_argument(what + " " + std::to_string(static_cast<long long>(v)) + " is none of its named values");
}

// invalid_argument "<what> must be a finite number >= 0 (> 0 when positive), got <v>" unless v is.
inline void require_finite(double v, bool positive, const std::string& what) {
    if ((positive ? v > 0 : v >= 0) && std::isfinite(v)) return;
    throw invalid_argument(what + " must be a finite number " + (positive ? "> 0" : ">= 0") + ", got " +
                           number_text(v));
}
}  // namespace detail

// Bounds past which a knob only multiplies memory: per-thread buffers, the L-BFGS pairs (two
// images each), the resolution levels (each at least 1 x 1, halving from the working size).
inline constexpr int max_threads = 1024;
inline constexpr std::size_t max_lbfgs_history = 1000;
inline constexpr std::size_t max_pyramid_levels = 99;

// Every content and style layer must be one of `model`'s; invalid_argument naming the layer otherwise.
inline void validate_layer_names(const stylize_options& o, model_kind model) {
    with_vgg<float, pooling::average>(model, [&](auto net) {
        using Net = typename decltype(net)::type;
        const auto check = [&](const std::vector<std::string>& layers, const char* which) {
            for (const auto& name : layers)
                if (!Net::find_layer(name))
                    throw invalid_argument("unknown " + std::string(Net::display_name) + " layer '" + name +
                                           "' in the " + which + " layers (valid: " + Net::layer_names_summary() + ")");
        };
        check(o.content_layers, "content");
        check(o.style_layers, "style");
    });
}

// The checks of the peers' knobs (see the end of stylize_options).
inline void validate_peer_options(const stylize_options& o) {
    auto fail = [](const std::string& what) { throw invalid_argument(what); };
    const auto in_unit = [](double v, bool closed) { return v >= 0 && (closed ? v <= 1 : v < 1); };
    if (!in_unit(o.adam_beta1, false)) fail("adam beta1 must be in [0, 1), got " + number_text(o.adam_beta1));
    if (!in_unit(o.adam_beta2, false)) fail("adam beta2 must be in [0, 1), got " + number_text(o.adam_beta2));
    detail::require_finite(o.adam_epsilon, true, "adam epsilon");
    if (!in_unit(o.init_noise, true)) fail("init noise must be in [0, 1], got " + number_text(o.init_noise));
    if (!o.content_layer_weights.empty() && o.content_layer_weights.size() != o.content_layers.size())
        fail("got " + std::to_string(o.content_layer_weights.size()) + " content layer weights for " +
             std::to_string(o.content_layers.size()) + " content layers (" + detail::join(o.content_layers) + ")");
    for (double w : o.content_layer_weights) detail::require_finite(w, false, "content layer weights");
}

// The coarse-to-fine knobs: scales ascending, each >= 16 px, the last = size; not with multiscale.
inline void validate_scales(const stylize_options& o) {
    auto fail = [](const std::string& what) { throw invalid_argument(what); };
    if (o.scales.empty()) return;
    std::string list;
    for (std::size_t s : o.scales) list += (list.empty() ? "" : ",") + std::to_string(s);
    if (o.multiscale) fail("scales (" + list + ") and multiscale were both given: give one or the other");
    for (std::size_t i = 0; i < o.scales.size(); ++i) {
        if (o.scales[i] < 16) fail("scales must be at least 16 pixels, got " + std::to_string(o.scales[i]));
        if (i > 0 && o.scales[i] <= o.scales[i - 1]) fail("scales must be strictly ascending, got " + list);
    }
    if (o.scales.back() != o.size)
        fail("the last scale is the output size: scales end at " + std::to_string(o.scales.back()) +
             " but size is " + std::to_string(o.size));
}

namespace detail {
// The images stylize_options holds: style masks, content mask, init image.
inline void swap_option_images(stylize_options& a, stylize_options& b) noexcept {
    std::swap(a.style_masks, b.style_masks);
    std::swap(a.content_mask, b.content_mask);
    std::swap(a.init_image, b.init_image);
}
}  // namespace detail

/*  The options with the images `o` held (style masks, content mask, init image), moved out of
    `o`, which keeps its settings without them: for a caller that keeps the settings (to record
    them, say) and hands the images to stylize without a copy (they are 12 bytes a pixel each):
    `nst::stylize(content, styles, nst::take_images(options), ...)`.
    ensures: on an exception (no memory for the settings' copy) `o` is as it was. */
inline stylize_options take_images(stylize_options& o) {
    stylize_options images;
    detail::swap_option_images(images, o);
    try {
        stylize_options taken = o;
        detail::swap_option_images(taken, images);
        return taken;
    } catch (...) {
        detail::swap_option_images(images, o);
        throw;
    }
}

/*  Checks everything about the options that does not need the images or the weights.
    requires: nothing
    ensures:  returns normally when stylize() would accept these options for style_count styles;
              otherwise throws invalid_argument with a one-line message naming the knob. */
inline void validate_options(const stylize_options& o, std::size_t style_count) {
    auto fail = [](const std::string& what) { throw invalid_argument(what); };
    if (style_count == 0) fail("at least one style image is needed");
    if (o.size < 16) fail("size must be at least 16 pixels, got " + std::to_string(o.size));
    validate_scales(o);
    detail::require_finite(o.style_scale, true, "style scale");
    detail::require_finite(o.content_weight, false, "content weight");
    detail::require_finite(o.style_weight, false, "style weight");
    detail::require_finite(o.tv_weight, false, "tv weight");
    detail::require_finite(o.learning_rate, true, "learning rate");  // checked whichever optimizer, as Adam's betas
    if (o.lbfgs_history < 1 || o.lbfgs_history > max_lbfgs_history)
        fail("L-BFGS history must be from 1 to " + std::to_string(max_lbfgs_history) + ", got " +
             std::to_string(o.lbfgs_history));
    if (o.threads < 0 || o.threads > max_threads)
        fail("threads must be from 0 (keep the current counts) to " + std::to_string(max_threads) + ", got " +
             std::to_string(o.threads));
    if (o.pyramid_levels && *o.pyramid_levels > max_pyramid_levels)
        fail("pyramid levels must be at most " + std::to_string(max_pyramid_levels) + " (or automatic), got " +
             std::to_string(*o.pyramid_levels));
    detail::require_named(o.optimizer, {optimizer_kind::lbfgs, optimizer_kind::adam}, "optimizer");
    detail::require_named(o.pooling_mode, {pooling::average, pooling::max}, "pooling");
    detail::require_named(o.init, {init_kind::content, init_kind::random, init_kind::image}, "init");
    detail::require_named(o.colors, {color_mode::style, color_mode::luminance, color_mode::histogram}, "colors");
    detail::require_named(o.precision, {conv_precision::fp32, conv_precision::bf16, conv_precision::bf16_all},
                          "precision");
    if (o.model) detail::require_named(*o.model, {model_kind::vgg19, model_kind::vgg16}, "model");
    if (o.weights_preprocessing)
        detail::require_named(*o.weights_preprocessing, {input_convention::caffe, input_convention::torchvision},
                              "weights preprocessing");
    validate_peer_options(o);
    if (o.content_layers.empty() && o.style_layers.empty())
        fail("no content and no style layers: nothing to optimise");
    validate_layer_names(o, o.model.value_or(model_kind::vgg19));
    if (!o.style_layer_weights.empty() && o.style_layer_weights.size() != o.style_layers.size())
        fail("got " + std::to_string(o.style_layer_weights.size()) + " style layer weights for " +
             std::to_string(o.style_layers.size()) + " style layers (" +
             detail::join(o.style_layers) + ")");
    for (double w : o.style_layer_weights) detail::require_finite(w, false, "style layer weights");
    if (!o.style_blend.empty()) {
        if (o.style_blend.size() != style_count)
            fail("style blend has " + std::to_string(o.style_blend.size()) + " weights for " +
                 std::to_string(style_count) + " style image" + (style_count == 1 ? "" : "s"));
        double sum = 0;
        for (double w : o.style_blend) {
            detail::require_finite(w, false, "style blend weights");
            sum += w;
        }
        if (!(sum > 0)) fail("style blend weights must not all be zero");
        detail::require_finite(sum, true, "the sum of the style blend weights");
    }
    if (o.original_colors && o.colors == color_mode::histogram)
        fail("original colors (luminance-only transfer) conflicts with colors 'histogram'");
    if (!o.style_masks.empty() && o.style_masks.size() != style_count)
        fail("got " + std::to_string(o.style_masks.size()) + " style masks for " + std::to_string(style_count) +
             " style image" + (style_count == 1 ? "" : "s") + " (one per style, an empty one for none)");
    if (o.tile != 0 && o.tile < 128) fail("tile size must be 0 (automatic) or at least 128 pixels, got " + std::to_string(o.tile));
    if (o.init == init_kind::image &&
        (o.init_image.dimension() != 3 || o.init_image.shape(2) != 3 || o.init_image.size() == 0))
        fail("init is 'image' but no (non-empty RGB) init image was given");
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
