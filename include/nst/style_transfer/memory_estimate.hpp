// How much memory one stylize() run needs, estimated before anything large is allocated, so an
// oversized request is refused with a clear message instead of failing (or swapping) midway.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/threads.hpp"
#include "../models/vgg19.hpp"
#include "detail/vgg19_layer_lookup.hpp"
#include "options.hpp"

namespace nst {

namespace detail {
// Index of the deepest layer any content or style term reads.
inline std::size_t deepest_layer(const stylize_options& o) {
    std::size_t deepest = 0;
    for (const auto& n : o.content_layers) deepest = std::max(deepest, vgg19_index(n));
    for (const auto& n : o.style_layers) deepest = std::max(deepest, vgg19_index(n));
    return deepest;
}
}  // namespace detail

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
    It grows linearly with the pixel count, as the measured peak does; README ("Performance") compares
    the two. */
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
            const bool pool = n.compare(0, 4, "pool") == 0;
            if (pool) hh /= 2, ww /= 2;
            const double size = double(channels[pool ? block++ : block] * hh * ww);
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

}  // namespace nst
