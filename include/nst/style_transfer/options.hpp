// What a stylisation is asked to do and what it reports: the options (with the `nst` program's
// defaults), the progress a callback receives, the result, and the check of the options.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../io/image.hpp"
#include "../io/weights_identity.hpp"
#include "../layers/conv_precision.hpp"
#include "../layers/pool2x2.hpp"
#include "../optim/result.hpp"
#include "../models/vgg19.hpp"

namespace nst {

class stylize_cache;  // stylize_cache.hpp

enum class optimizer_kind { lbfgs, adam };
enum class init_kind {
    content,  // start from the content image: converges fastest (as the TensorFlow tutorial does;
              // jcjohnson/neural-style's default is -init random)
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
    init_kind init = init_kind::content;
    nst::image init_image;                    // used when init == init_kind::image
    std::uint64_t seed = 0;                   // for init_kind::random
    bool original_colors = false;  // luminance-only transfer: keep the content's chroma (YCbCr)
    // > 0: OpenMP and OpenBLAS use this many threads during the call, and the caller's counts
    // are restored when it returns (nst::scoped_threads); 0: the caller's current counts.
    int threads = 0;
    // Convolution products in fp32 or bf16 (layers/conv_precision.hpp: bf16 needs AVX512_BF16,
    // else the run stays fp32).
    conv_precision precision = conv_precision::fp32;
    // Largest input or resize target accepted (pixels; io/image.hpp): images are refused before
    // they are decoded or resized beyond it.
    image_limits input_limits;
    // Refuse a weights file whose SHA-256 is not this (64 hex digits); empty: any file, whose
    // identity stylize_result::weights reports.
    std::string weights_sha256;
    // Refuse to start when the estimated working memory exceeds this many bytes.
    // 0 = default_memory_limit() (3/4 of physical RAM, 8 GiB where that is unknown).
    std::uint64_t memory_limit = 0;
    // Not owned; null: none. Reuse of the loaded network and the style targets across calls
    // (stylize_cache.hpp); must outlive the call.
    stylize_cache* cache = nullptr;
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
    // With reason == stop_reason::non_finite: where the loss or gradient became NaN/inf and in
    // which loss groups (content, style, tv); `output` is then the best finite image so far,
    // which is the starting image when no step was accepted (has_output() says whether any
    // finite loss was ever seen). Empty otherwise.
    std::string failure;
    weights_info weights;  // the weights file used: path, SHA-256, published name if known
    bool has_output() const { return std::isfinite(loss); }
};

namespace detail {
inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}
}  // namespace detail

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
            if (!vgg19<float>::find_layer(name))
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

}  // namespace nst
