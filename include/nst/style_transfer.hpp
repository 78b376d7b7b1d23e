// The high-level API: "make this photo look like that painting" (Gatys, Ecker & Bethge 2015).
//
//     nst::stylize_options options;                    // documented defaults, see below
//     options.weights = "vgg19_imagenet_notop.h5";     // or leave empty: $NST_WEIGHTS, Keras cache
//     nst::image content = nst::load_image("tubingen.jpg");
//     nst::image style = nst::load_image("starry_night.jpg");
//     auto result = nst::stylize(content, {style}, options, [](const nst::stylize_progress& p) {
//         std::printf("%zu %g\n", p.iteration, p.loss);   // return false to stop early
//     });
//     nst::save_image(result.output, "out.png");
//
// What one call does: resize the content so its longer side is options.size and each style to
// options.style_scale times that; estimate the working memory and refuse (invalid_argument,
// stating the estimate) above options.memory_limit; load VGG19; record the content activations
// and the (blended) style Gram targets; then minimise
//     content_weight * (1/K) sum_k C_k  +  style_weight * sum_l w_l E_l  +  tv_weight * TV
// over the image with L-BFGS or Adam, starting from the content, noise or a given image, and
// return the image with the lowest loss seen. C_k is the paper's 1/2 sum (F - P)^2, E_l the
// paper's 1/(4 N^2 M^2) sum (G - A)^2 (style_loss.hpp, "gatys" normalisation), w_l = 1/L by
// default, TV the sum of squared neighbour differences in pixel units (0..255).
//
// Relation to the paper: with one content layer and w_l = 1/L the total is exactly the paper's
// alpha * L_content + beta * L_style (+ TV), so alpha/beta = content_weight / style_weight.
// The defaults (alpha = 1, beta = 5e3: alpha/beta = 2e-4) lie between the paper's Fig. 2 ratios
// 1e-3 (B-D) and 1e-4 (E, F), with the same Caffe-convention VGG19 input (0..255, BGR, mean
// subtracted). They were tuned by eye on tubingen.jpg + starry_night.jpg (at 256 px with the
// 512-px-equivalent weights, then confirmed by the 512 px default run): beta = 1e2 barely
// changes the photo, 1e3 adds fine texture only, 1e4 gives strong swirls that start to dissolve
// the houses; 5e3 keeps the buildings and shows the painting's brush strokes and swirls.
// Size matters: the content loss is a sum over activations and grows with the pixel count, the
// Gram-normalised style loss does not; at another size the same look needs the content weight
// times (size / 512)^2 (or the style weight divided by it).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "app/memory.hpp"
#include "app/weights_lookup.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"
#include "core/threads.hpp"
#include "io/image.hpp"
#include "io/keras_weights.hpp"
#include "io/preprocess.hpp"
#include "layers/conv_precision.hpp"
#include "loss/content_loss.hpp"
#include "loss/objective.hpp"
#include "loss/style_loss.hpp"
#include "loss/total_variation_loss.hpp"
#include "models/vgg19.hpp"
#include "optim/optim.hpp"

namespace nst {

enum class optimizer_kind { lbfgs, adam };
enum class init_kind {
    content,  // start from the content image (jcjohnson/neural-style's default; converges fastest)
    random,   // white noise around the ImageNet mean grey (the paper's choice), from `seed`
    image,    // start from stylize_options::init_image, resized to the working size
};

inline const char* to_string(optimizer_kind o) { return o == optimizer_kind::lbfgs ? "lbfgs" : "adam"; }
inline const char* to_string(init_kind i) {
    return i == init_kind::content ? "content" : i == init_kind::random ? "random" : "image";
}

// Every knob of a stylisation, with the defaults the `nst` program uses.
struct stylize_options {
    // VGG19 weights in Keras' HDF5 layout. Empty: find_vgg19_weights("") looks in $NST_WEIGHTS
    // and Keras' cache (~/.keras/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5).
    std::string weights;

    std::size_t size = 512;      // longer side of the output in pixels (the content is resized)
    double style_scale = 1.0;    // each style image's longer side = style_scale * size
    std::size_t iterations = 500;
    optimizer_kind optimizer = optimizer_kind::lbfgs;
    double learning_rate = 10.0;     // Adam only, in pixel units (0..255) per step
    std::size_t lbfgs_history = 10;  // L-BFGS only: correction pairs kept

    // alpha, beta (alpha/beta = 2e-4, see the file comment) and the TV prior, whose sum is in
    // squared pixel levels: weight 1 makes it about 1% of the total at the end of the default
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
    init_kind init = init_kind::content;
    nst::image init_image;                    // used when init == init_kind::image
    std::uint64_t seed = 0;                   // for init_kind::random
    bool original_colors = false;  // luminance-only transfer: keep the content's chroma (YCbCr)
    int threads = 0;               // > 0: nst::set_num_threads(threads) (process-wide)
    // Convolution products in fp32 or bf16 (conv_precision.hpp: bf16 needs AVX512_BF16, else
    // the run stays fp32).
    conv_precision precision = conv_precision::fp32;
    // Refuse to start when the estimated working memory exceeds this many bytes.
    // 0 = default_memory_limit() (3/4 of physical RAM, 8 GiB where that is unknown).
    std::uint64_t memory_limit = 0;
};

// What callbacks receive after every optimizer iteration (iteration 0 = the starting image).
struct stylize_progress {
    std::size_t iteration;     // accepted optimizer steps so far
    std::size_t iterations;    // the budget (options.iterations)
    double loss;               // total weighted loss = content_loss + style_loss + tv_loss
    double content_loss;       // content_weight * (1/K) sum_k C_k
    double style_loss;         // style_weight * sum_l w_l E_l
    double tv_loss;            // tv_weight * TV
    double best_loss;          // lowest total loss so far (this one included)
    double elapsed_seconds;    // since the optimizer started
    std::size_t evaluations;   // objective evaluations so far (L-BFGS line searches add some)
    const tensor3<float>& x;   // current image in VGG space (3 x H x W, BGR, mean-subtracted)
    // The current image as RGB 0..255 (with the content's colours when original_colors).
    std::function<nst::image()> current_image;
};

struct stylize_result {
    nst::image output;          // the lowest-loss image, RGB, H x W x 3 (not clamped: save clamps)
    double loss = 0;            // its total loss and parts
    double content_loss = 0;
    double style_loss = 0;
    double tv_loss = 0;
    std::size_t iterations = 0;   // optimizer steps taken
    std::size_t evaluations = 0;  // objective evaluations
    stop_reason reason = stop_reason::max_iterations;
    double seconds = 0;           // wall time of the whole call (weights, targets, optimisation)
};

// ---------------------------------------------------------------------------------------------
// Luminance-only transfer (Gatys et al. 2016, "Preserving color in neural artistic style
// transfer", the simple variant): the luminance Y of `stylized` with the chroma Cb, Cr of
// `content`, in full-range BT.601 YCbCr (as JPEG uses).
// requires: both H x W x 3 of the same size (else shape_error).
inline nst::image keep_original_colors(const nst::image& stylized, const nst::image& content) {
    if (stylized.shape() != content.shape() || stylized.dimension() != 3 || stylized.shape(2) != 3)
        throw shape_error("keep_original_colors: the stylized image " + shape_string(stylized.shape()) +
                          " and the content " + shape_string(content.shape()) +
                          " must both be H x W x 3 of the same size");
    nst::image out = xt::empty<float>(stylized.shape());
    const std::size_t pixels = stylized.shape(0) * stylized.shape(1);
    const float* s = stylized.data();
    const float* c = content.data();
    float* o = out.data();
    for (std::size_t p = 0; p < pixels; ++p, s += 3, c += 3, o += 3) {
        const double y = 0.299 * s[0] + 0.587 * s[1] + 0.114 * s[2];
        const double cb = -0.168736 * c[0] - 0.331264 * c[1] + 0.5 * c[2];  // centred on 0
        const double cr = 0.5 * c[0] - 0.418688 * c[1] - 0.081312 * c[2];
        o[0] = float(y + 1.402 * cr);
        o[1] = float(y - 0.344136 * cb - 0.714136 * cr);
        o[2] = float(y + 1.772 * cb);
    }
    return out;
}

namespace detail {

inline bool is_vgg19_layer(const std::string& name) {
    for (const auto& n : vgg19_layer_names())
        if (n == name) return true;
    return false;
}
inline std::size_t vgg19_index(const std::string& name) {
    const auto names = vgg19_layer_names();
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return i;
    throw invalid_argument("unknown VGG19 layer '" + name + "'");
}

// Pooling layers between the input and layer `index` (an image side must be >= 2^pools).
inline std::size_t pools_before(std::size_t index) {
    const auto names = vgg19_layer_names();
    std::size_t pools = 0;
    for (std::size_t i = 0; i < index; ++i)
        if (names[i].compare(0, 4, "pool") == 0) ++pools;
    return pools;
}

inline std::size_t deepest_layer(const stylize_options& o) {
    std::size_t deepest = 0;
    for (const auto& n : o.content_layers) deepest = std::max(deepest, vgg19_index(n));
    for (const auto& n : o.style_layers) deepest = std::max(deepest, vgg19_index(n));
    return deepest;
}

inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
/*  Checks everything about the options that does not need the images or the weights.
    requires: nothing
    ensures:  returns normally when stylize() would accept these options for style_count styles;
              otherwise throws invalid_argument with a one-line message naming the knob. */
inline void validate_options(const stylize_options& o, std::size_t style_count) {
    auto fail = [](const std::string& what) { throw invalid_argument(what); };
    if (style_count == 0) fail("at least one style image is needed");
    if (o.size < 16) fail("size must be at least 16 pixels, got " + std::to_string(o.size));
    if (!(o.style_scale > 0) || !std::isfinite(o.style_scale))
        fail("style scale must be > 0, got " + std::to_string(o.style_scale));
    if (!(o.content_weight >= 0) || !std::isfinite(o.content_weight))
        fail("content weight must be >= 0, got " + std::to_string(o.content_weight));
    if (!(o.style_weight >= 0) || !std::isfinite(o.style_weight))
        fail("style weight must be >= 0, got " + std::to_string(o.style_weight));
    if (!(o.tv_weight >= 0) || !std::isfinite(o.tv_weight))
        fail("tv weight must be >= 0, got " + std::to_string(o.tv_weight));
    if (o.optimizer == optimizer_kind::adam && (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)))
        fail("learning rate must be > 0, got " + std::to_string(o.learning_rate));
    if (o.lbfgs_history < 1) fail("L-BFGS history must be >= 1");
    if (o.content_layers.empty() && o.style_layers.empty())
        fail("no content and no style layers: nothing to optimise");
    const auto check_layers = [&](const std::vector<std::string>& layers, const char* which) {
        for (const auto& name : layers)
            if (!detail::is_vgg19_layer(name))
                fail(std::string("unknown VGG19 layer '") + name + "' in the " + which +
                     " layers (valid: conv1_1, relu1_1, ..., conv5_4, relu5_4, pool1..pool5)");
    };
    check_layers(o.content_layers, "content");
    check_layers(o.style_layers, "style");
    if (!o.style_layer_weights.empty() && o.style_layer_weights.size() != o.style_layers.size())
        fail("got " + std::to_string(o.style_layer_weights.size()) + " style layer weights for " +
             std::to_string(o.style_layers.size()) + " style layers (" +
             detail::join(o.style_layers) + ")");
    for (double w : o.style_layer_weights)
        if (!(w >= 0) || !std::isfinite(w)) fail("style layer weights must be >= 0");
    if (!o.style_blend.empty()) {
        if (o.style_blend.size() != style_count)
            fail("style blend has " + std::to_string(o.style_blend.size()) + " weights for " +
                 std::to_string(style_count) + " style image" + (style_count == 1 ? "" : "s"));
        double sum = 0;
        for (double w : o.style_blend) {
            if (!(w >= 0) || !std::isfinite(w)) fail("style blend weights must be >= 0");
            sum += w;
        }
        if (!(sum > 0)) fail("style blend weights must not all be zero");
    }
    if (o.init == init_kind::image &&
        (o.init_image.dimension() != 3 || o.init_image.shape(2) != 3 || o.init_image.size() == 0))
        fail("init is 'image' but no (non-empty RGB) init image was given");
}

// ---------------------------------------------------------------------------------------------
/*  Working-memory model of one stylize() run, in bytes, for a content working size h x w and the
    given style working sizes. It counts (float32):
      - VGG19's conv weights (all 16 layers are loaded; kept unpacked + packed forward/backward);
      - the activations the backward pass keeps (every ReLU output up to the deepest loss layer,
        plus conv outputs that a loss reads) and 4 transient layer-sized buffers (a conv output,
        the gradient flowing back, the layer's input gradient, a loss's gradient);
      - the optimizer's copies of the image (L-BFGS: 2 * history + 3, Adam: 3) plus the best
        image, the gradient and the targets; per-thread convolution buffers;
      - the style passes (forward only, at their own size), which run before the optimisation;
      - a fixed 150 MB for the process (libraries, OpenBLAS buffers, HDF5);
      - 10% headroom on all of the above (allocator slack, convolution scratch buffers).
    Measured peak RSS (tubingen 4:3 content, starry_night style, L-BFGS, 2 threads) against this
    estimate: 128 px 326 MB vs 464, 256 px 427 MB vs 561, 512 px 824 MB vs 949, 1024 px 2.07 GB vs
    2.4 GB. Both grow linearly with the pixel count (measured: about 2.3 KB per content pixel). */
inline std::uint64_t estimate_stylize_memory(std::size_t h, std::size_t w,
                                             const std::vector<std::array<std::size_t, 2>>& style_sizes,
                                             const stylize_options& o) {
    const auto names = vgg19_layer_names();
    const std::size_t deepest = detail::deepest_layer(o);
    const std::size_t channels[5] = {64, 128, 256, 512, 512};
    std::vector<bool> read(names.size(), false);
    for (const auto& n : o.content_layers) read[detail::vgg19_index(n)] = true;
    for (const auto& n : o.style_layers) read[detail::vgg19_index(n)] = true;

    // Floats kept and the largest activation for one forward (+ backward) at hh x ww.
    const auto activations = [&](std::size_t hh, std::size_t ww, bool with_backward) {
        double kept = 0, largest = double(3 * hh * ww);
        std::size_t block = 0;
        for (std::size_t i = 0; i <= deepest; ++i) {
            const std::string& n = names[i];
            double size;
            if (n.compare(0, 4, "pool") == 0) {
                hh /= 2, ww /= 2;
                size = double(channels[block] * hh * ww);
                ++block;
                if (o.pooling_mode == pooling::max && with_backward) kept += 0;  // input is a kept ReLU
            } else {
                size = double(channels[block] * hh * ww);
            }
            largest = std::max(largest, size);
            if (n.compare(0, 4, "relu") == 0 || read[i]) kept += size;
        }
        return kept + (with_backward ? 4.0 : 2.0) * largest;
    };

    double params = 0;
    const std::size_t convs[16][2] = {{3, 64},    {64, 64},   {64, 128},  {128, 128},
                                      {128, 256}, {256, 256}, {256, 256}, {256, 256},
                                      {256, 512}, {512, 512}, {512, 512}, {512, 512},
                                      {512, 512}, {512, 512}, {512, 512}, {512, 512}};
    for (const auto& c : convs) params += 9.0 * double(c[0] * c[1]) * 3.0 + double(c[1]);

    const double n = double(3 * h * w);
    const double image_copies =
        (o.optimizer == optimizer_kind::lbfgs ? 2.0 * double(o.lbfgs_history) + 3.0 : 3.0) + 4.0;
    const int threads = o.threads > 0 ? o.threads : num_threads();
    const double conv_buffers = double(threads) * 3.5e6;  // im2col slab + columns + band

    double style_pass = 0;
    for (const auto& s : style_sizes) style_pass = std::max(style_pass, activations(s[0], s[1], false));
    const double main_run = activations(h, w, true) + image_copies * n;
    const double floats = params + conv_buffers + std::max(style_pass, main_run);
    return std::uint64_t(1.10 * floats * sizeof(float)) + (std::uint64_t(150) << 20);
}

// ---------------------------------------------------------------------------------------------
namespace detail {

struct loss_parts {
    double total = 0, content = 0, style = 0, tv = 0;
};

template <pooling P, class... Callbacks>
stylize_result stylize_with(const nst::image& content_input, const std::vector<nst::image>& styles,
                            const stylize_options& o, Callbacks&&... callbacks) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    using T = float;
    using net_type = vgg19<T, P>;

    // Working sizes and the memory check, before anything large is allocated.
    const auto csize = scaled_size(content_input.shape(0), content_input.shape(1), o.size);
    const std::size_t style_side =
        std::max<std::size_t>(1, std::size_t(std::lround(o.style_scale * double(o.size))));
    std::vector<std::array<std::size_t, 2>> ssizes;
    for (const auto& s : styles) ssizes.push_back(scaled_size(s.shape(0), s.shape(1), style_side));

    std::size_t min_side = std::size_t(1) << pools_before(deepest_layer(o));
    const auto check_side = [&](const std::array<std::size_t, 2>& sz, const std::string& what) {
        if (sz[0] < min_side || sz[1] < min_side)
            throw invalid_argument(what + " working size " + std::to_string(sz[1]) + " x " +
                                   std::to_string(sz[0]) + " is too small: the deepest layer needs "
                                   "both sides >= " + std::to_string(min_side) + " pixels");
    };
    check_side(csize, "content");
    for (std::size_t i = 0; i < ssizes.size(); ++i)
        check_side(ssizes[i], "style image " + std::to_string(i + 1));

    const std::uint64_t limit = o.memory_limit ? o.memory_limit : default_memory_limit();
    const std::uint64_t need = estimate_stylize_memory(csize[0], csize[1], ssizes, o);
    if (need > limit)
        throw invalid_argument("working size " + std::to_string(csize[1]) + " x " +
                               std::to_string(csize[0]) + " needs about " + format_bytes(need) +
                               " of memory, above the limit of " + format_bytes(limit) +
                               "; lower the size or raise the memory limit");

    if (o.threads > 0) set_num_threads(o.threads);

    net_type net;
    load_vgg19_weights(net, o.weights.empty() ? find_vgg19_weights("", "") : o.weights);
    net.set_precision(o.precision);

    const nst::image content = resize_image(content_input, csize[0], csize[1]);
    objective<net_type> loss(net);

    // Content targets: P at each content layer.
    if (!o.content_layers.empty()) {
        std::vector<std::size_t> idx;
        std::size_t deepest = 0;
        for (const auto& n : o.content_layers) {
            idx.push_back(net.index_of(n));
            deepest = std::max(deepest, idx.back());
        }
        net.keep_only(idx);
        net.forward(to_vgg_input<T>(content), deepest);
        const T weight = T(o.content_weight / double(o.content_layers.size()));
        for (std::size_t k = 0; k < idx.size(); ++k)
            loss.add(o.content_layers[k], weight, content_loss<T>(net.output(idx[k])), "content");
    }

    // Style targets: per layer, the blend-weighted sum of each style image's Gram matrix.
    if (!o.style_layers.empty()) {
        std::vector<double> blend = o.style_blend;
        if (blend.empty()) blend.assign(styles.size(), 1.0);
        double blend_sum = 0;
        for (double b : blend) blend_sum += b;
        std::vector<std::size_t> idx;
        std::size_t deepest = 0;
        for (const auto& n : o.style_layers) {
            idx.push_back(net.index_of(n));
            deepest = std::max(deepest, idx.back());
        }
        std::vector<tensor2<T>> targets(idx.size());
        net.keep_only(idx);
        for (std::size_t s = 0; s < styles.size(); ++s) {
            if (blend[s] == 0) continue;
            const nst::image style = resize_image(styles[s], ssizes[s][0], ssizes[s][1]);
            net.forward(to_vgg_input<T>(style), deepest);
            for (std::size_t l = 0; l < idx.size(); ++l) {
                tensor2<T> a = style_target(net.output(idx[l]));
                a *= T(blend[s] / blend_sum);
                if (targets[l].size() == 0)
                    targets[l] = std::move(a);
                else
                    targets[l] += a;
            }
        }
        for (std::size_t l = 0; l < idx.size(); ++l) {
            const double wl = o.style_layer_weights.empty() ? 1.0 / double(idx.size())
                                                            : o.style_layer_weights[l];
            loss.add(o.style_layers[l], T(o.style_weight * wl), style_loss<T>(std::move(targets[l])),
                     "style");
        }
    }
    if (o.tv_weight > 0) loss.add_image_term(T(o.tv_weight), total_variation_loss<T>{}, "tv");

    // Starting point.
    tensor3<T> x;
    switch (o.init) {
        case init_kind::content: x = to_vgg_input<T>(content); break;
        case init_kind::image:
            x = to_vgg_input<T>(resize_image(o.init_image, csize[0], csize[1]));
            break;
        case init_kind::random: {
            x = xt::empty<T>({std::size_t(3), csize[0], csize[1]});
            std::mt19937_64 rng(o.seed);
            std::normal_distribution<T> noise(T(0), T(32));  // around the mean grey, +-32 levels
            for (auto& v : x) v = noise(rng);
            break;
        }
    }

    // The parts of the last few evaluations, so a callback can report the parts of the
    // accepted point (the optimizer reports only its total).
    std::vector<loss_parts> recent(32);
    std::size_t recent_count = 0;
    auto f = [&](const tensor3<T>& point, tensor3<T>& grad) {
        const T value = loss(point, grad);
        recent[recent_count++ % recent.size()] = {double(value), double(loss.group_value("content")),
                                                  double(loss.group_value("style")),
                                                  double(loss.group_value("tv"))};
        return value;
    };
    const auto parts_of = [&](double total) {
        for (std::size_t k = 0; k < std::min(recent_count, recent.size()); ++k) {
            const loss_parts& p = recent[(recent_count - 1 - k) % recent.size()];
            if (p.total == total) return p;
        }
        return recent[(recent_count - 1) % recent.size()];
    };

    const nst::image* colour_source = o.original_colors ? &content : nullptr;
    const auto to_output = [colour_source](const tensor3<T>& point) {
        nst::image rgb = from_vgg_input(point);
        return colour_source ? keep_original_colors(rgb, *colour_source) : rgb;
    };

    tensor3<T> best = x;
    loss_parts best_parts;
    best_parts.total = std::numeric_limits<double>::infinity();
    auto monitor = [&](const auto& state) {
        const loss_parts parts = parts_of(double(state.loss));
        if (parts.total < best_parts.total) {
            best_parts = parts;
            best = state.x;
        }
        const tensor3<T>& current = state.x;
        stylize_progress progress{state.iteration,     o.iterations,     parts.total,
                                  parts.content,       parts.style,      parts.tv,
                                  best_parts.total,    state.elapsed_seconds,
                                  state.evaluations,   current,
                                  [&current, &to_output] { return to_output(current); }};
        return invoke_callbacks(progress, callbacks...);
    };

    optim_result<T> r;
    if (o.optimizer == optimizer_kind::lbfgs) {
        typename lbfgs<T>::options lo;
        lo.max_iterations = o.iterations;
        lo.history_size = o.lbfgs_history;
        r = lbfgs<T>(lo).minimize(f, x, monitor);
    } else {
        typename adam<T>::options ao;
        ao.max_iterations = o.iterations;
        ao.learning_rate = o.learning_rate;
        r = adam<T>(ao).minimize(f, x, monitor);
    }

    stylize_result result;
    result.output = to_output(best);
    result.loss = best_parts.total;
    result.content_loss = best_parts.content;
    result.style_loss = best_parts.style;
    result.tv_loss = best_parts.tv;
    result.iterations = r.iterations;
    result.evaluations = r.evaluations;
    result.reason = r.reason;
    result.seconds = std::chrono::duration<double>(clock::now() - start).count();
    return result;
}

}  // namespace detail

/*  Stylises `content` with the blended `styles`.
    requires: content and every style are H x W x 3 RGB images (0..255) with H, W >= 1;
              each callback is invocable as cb(const stylize_progress&) and returns void or
              something convertible to bool (false = stop after this iteration).
    ensures:  returns the lowest-loss image seen (at the working size) and its loss parts;
              callbacks run at iteration 0 and after every optimizer step, in order.
    throws:   invalid_argument for bad options (validate_options), a working size below what the
              deepest layer needs, or an estimated working memory above the limit (the message
              states the estimate); io_error when the weights cannot be found or read;
              shape_error for malformed images. Nothing large is allocated before these checks. */
template <class... Callbacks>
stylize_result stylize(const nst::image& content, const std::vector<nst::image>& styles,
                       const stylize_options& options, Callbacks&&... callbacks) {
    validate_options(options, styles.size());
    detail::require_rgb_image(content, "stylize: content image");
    for (std::size_t i = 0; i < styles.size(); ++i)
        detail::require_rgb_image(styles[i], "stylize: style image " + std::to_string(i + 1));
    if (options.pooling_mode == pooling::average)
        return detail::stylize_with<pooling::average>(content, styles, options,
                                                      std::forward<Callbacks>(callbacks)...);
    return detail::stylize_with<pooling::max>(content, styles, options,
                                              std::forward<Callbacks>(callbacks)...);
}

}  // namespace nst
