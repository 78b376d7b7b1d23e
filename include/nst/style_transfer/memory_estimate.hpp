// How much memory one stylize() run needs, estimated before anything large is allocated, so an
// oversized request is refused with a clear message instead of failing (or swapping) midway.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/threads.hpp"
#include "../models/model_kind.hpp"
#include "options.hpp"
#include "pyramid_parametrization.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// The model's constants, fitted to measured peaks (README, "Performance").
struct memory_model {
    static constexpr double headroom = 1.05;
    static constexpr std::uint64_t per_thread_bytes = std::uint64_t(16) << 20;
    static constexpr std::uint64_t process_bytes = std::uint64_t(60) << 20;
};

namespace detail {

// The network sizes and memory are planned for: the chosen model, or VGG19 while the weights file
// has not told (VGG19 has every layer VGG16 has, the same minimum sizes and more memory, so the
// plan holds for either).
inline model_kind planning_model(const stylize_options& o) { return o.model.value_or(model_kind::vgg19); }

// Index in Net of the deepest layer any content or style term reads.
template <class Net> std::size_t deepest_layer(const stylize_options& o) {
    std::size_t deepest = 0;
    for (const auto& n : o.content_layers) deepest = std::max(deepest, Net::layer_index(n));
    for (const auto& n : o.style_layers) deepest = std::max(deepest, Net::layer_index(n));
    return deepest;
}

// The smallest side an input may have for the deepest layer read to be at least 1 x 1.
inline std::size_t min_input_side(const stylize_options& o) {
    return with_vgg<float, pooling::average>(planning_model(o), [&](auto net) {
        using Net = typename decltype(net)::type;
        return Net::min_input_side(deepest_layer<Net>(o));
    });
}

/*  Floats one network pass at h x w holds at its peak, from the network type's own shape rules:
    outputs a loss reads or the next layer's backward needs whole, the compact 1-bit state of the
    others whose backward needs their output (ReLU masks), and `transient` layer-sized buffers
    (with backward: the output being computed, the gradient flowing back, the layer's input
    gradient, a loss term's gradient; forward only: input and output). */
template <class Net>
double pass_floats(std::size_t h, std::size_t w, std::size_t deepest, const std::vector<bool>& read,
                   bool with_backward) {
    const auto shapes = Net::output_shapes({3, h, w});
    double kept = 0, largest = double(3 * h * w);
    for (std::size_t i = 0; i <= deepest; ++i) {
        const double size = double(shapes[i][0]) * double(shapes[i][1]) * double(shapes[i][2]);
        largest = std::max(largest, size);
        const bool whole = read[i] || (with_backward && i + 1 < Net::size &&
                                       Net::layer_backward_needs_input(i + 1));
        if (whole)
            kept += size;
        else if (with_backward && Net::layer_backward_needs_output(i))
            kept += size / 32;
    }
    return kept + (with_backward ? 4.0 : 2.0) * largest;
}

/*  Floats the region masks add to the optimisation (none without masks). Style masks: each
    style's region at the working size; per style and style layer the region pooled to the layer
    (the loss keeps its square root) and the style's own Gram target; and the masked loss's two
    transient copies of its largest layer's activations (the features scaled by the mask, a copy
    of their gradient). A content mask: the mask at the working size and pooled to each content
    layer. */
template <class Net> double mask_floats(std::size_t h, std::size_t w, const stylize_options& o) {
    const auto shapes = Net::output_shapes({3, h, w});
    const double pixels = double(h) * double(w);
    double floats = 0;
    if (has_style_masks(o)) {
        const double styles = double(o.style_masks.size());
        double largest = 0;
        for (const auto& n : o.style_layers) {
            const auto& s = shapes[Net::layer_index(n)];
            const double positions = double(s[1]) * double(s[2]);
            floats += styles * (positions + double(s[0]) * double(s[0]));
            largest = std::max(largest, double(s[0]) * positions);
        }
        floats += styles * pixels + 2.0 * largest;
    }
    if (o.content_mask.size() != 0) {
        floats += pixels;
        for (const auto& n : o.content_layers) {
            const auto& s = shapes[Net::layer_index(n)];
            floats += double(s[1]) * double(s[2]);
        }
    }
    return floats;
}

// Copies of the options' images (style masks, content mask, init image) at their given size
// while stylize runs: the caller's and stylize's own copy of the options (which its scales
// borrow: stylize.hpp, scale_options); one when the caller moves its options into stylize.
constexpr double option_image_copies = 2.0;

// Floats of the images the options hold, at their given size (12 bytes per pixel each).
inline double option_image_floats(const stylize_options& o) {
    double floats = double(o.content_mask.size()) + double(o.init_image.size());
    for (const auto& m : o.style_masks) floats += double(m.size());
    return floats;
}

template <class Net>
std::uint64_t estimate_memory_for(std::size_t h, std::size_t w,
                                  const std::vector<std::array<std::size_t, 2>>& style_sizes,
                                  const stylize_options& o) {
    const std::size_t deepest = deepest_layer<Net>(o);
    std::vector<bool> read(Net::size, false);
    for (const auto& n : o.content_layers) read[Net::layer_index(n)] = true;
    for (const auto& n : o.style_layers) read[Net::layer_index(n)] = true;

    double params = 0;
    for (const std::size_t p : Net::parameter_counts()) params += double(p);
    // With a cache the network gets a copy of the weights the cache keeps (load_network).
    const double weight_copies = o.cache ? 2.0 : 1.0;
    const double image = double(3 * h * w);
    // L-BFGS's vectors hold the image's resolution levels (< 4/3 of its size) unless
    // pyramid_levels is 0; the levels' objective keeps an image and its gradient besides.
    const bool lbfgs = o.optimizer == optimizer_kind::lbfgs;
    const bool levels = lbfgs && o.pyramid_levels.value_or(automatic_pyramid_levels(h, w)) > 0;
    const double image_copies = !lbfgs ? 4.0 + 3.0
                                : levels ? (2.0 * double(o.lbfgs_history) + 4.0) * 4.0 / 3.0 + 2.0 + 3.0
                                         : 2.0 * double(o.lbfgs_history) + 4.0 + 3.0;
    const int threads = o.threads > 0 ? o.threads : num_threads();

    double style_pass = 0;
    for (const auto& s : style_sizes)
        style_pass = std::max(style_pass, pass_floats<Net>(s[0], s[1], deepest, read, false));
    const double main_run =
        pass_floats<Net>(h, w, deepest, read, true) + image_copies * image + mask_floats<Net>(h, w, o);
    const double floats =
        weight_copies * params + option_image_copies * option_image_floats(o) + std::max(style_pass, main_run);
    return std::uint64_t(memory_model::headroom * floats * sizeof(float)) +
           memory_model::per_thread_bytes * std::uint64_t(threads) + memory_model::process_bytes;
}

}  // namespace detail

/*  Working-memory model of one stylize() run, in bytes, for a content working size h x w and the
    given style working sizes, derived from the network's type (planning_model: VGG19 or VGG16;
    its layer shapes, what each layer's backward keeps, its parameter counts). It counts, in float32:
      - the network's weights (canonical only: kernels pack their layout per call), twice with
        options.cache (the cache keeps its own copy);
      - the images the options hold (style masks, content mask, init image) at their given size,
        twice: the caller's and stylize's own copy of the options;
      - one evaluation's peak: the outputs the losses read, the compact backward state (1-bit ReLU
        masks; whole ReLU outputs before max pooling) and four transient layer-sized buffers;
      - the optimizer's copies of the image (L-BFGS: 2 * history + 4, of the image's resolution
        levels, 4/3 of it, plus the levels' image and gradient; Adam: 4) plus the best image, the
        current gradient and the start;
      - with style or content masks, the masks at each layer's size, each masked style's own
        Gram targets and the masked loss's transient copies (mask_floats);
      - the style passes (forward only, at their own size), which run before the optimisation;
    then a headroom factor for the buffer pool's idle blocks and allocator slack, per-thread
    kernel scratch, and a fixed amount for the process (libraries, OpenBLAS, HDF5). Not the
    content and style images the call is given (their sizes are not arguments here): stylize adds
    input_image_bytes to this when it checks options.memory_limit. README ("Performance")
    compares the sum with the measured peak. */
inline std::uint64_t estimate_stylize_memory(std::size_t h, std::size_t w,
                                             const std::vector<std::array<std::size_t, 2>>& style_sizes,
                                             const stylize_options& o) {
    return with_vgg<float>(detail::planning_model(o), o.pooling_mode, [&](auto net) {
        return detail::estimate_memory_for<typename decltype(net)::type>(h, w, style_sizes, o);
    });
}

/*  Bytes of the content and style images a stylize call is given, at their given size (12 bytes
    per pixel each, as nst::image holds them): the caller keeps them for the whole call, so
    stylize checks estimate_stylize_memory (or estimate_tiled_memory) plus this against
    options.memory_limit. A 4000 x 3000 photo is 144 MB, more than a 512 px run's activations. */
inline std::uint64_t input_image_bytes(const image& content, const std::vector<image>& styles) {
    std::uint64_t elements = content.size();
    for (const auto& s : styles) elements += s.size();
    return elements * sizeof(float);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
