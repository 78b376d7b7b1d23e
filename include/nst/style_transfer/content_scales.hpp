// The automatic pyramid (stylize_options::multiscale) for one run's images. scale_plan.hpp's
// pyramid starts at 128 px on the longer side, which leaves a panorama (10:1) a strip of 13 px the
// network cannot take: for such images it starts at the first size whose working sizes (content,
// and styles at their style scale) the network can take. Explicit options.scales are the
// caller's and stay as given.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../io/image.hpp"
#include "memory_estimate.hpp"
#include "options.hpp"
#include "scale_plan.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

/*  `o` with options.multiscale turned into the scales it gives these images: the pyramid's sizes
    at which the content and every style have both sides >= the deepest layer's minimum (the
    last, options.size, always: a size too small for the network is refused as without
    multiscale). Everything that plans a run from its images (stylize, plan_scale_tiling,
    planned_iterations) plans the same scales. Options without multiscale are returned unchanged.
    Taken by value: `resolve_multiscale(std::move(o), ...)` resolves in place, without a copy of
    the options' images (masks, init image: 12 bytes a pixel each). */
inline stylize_options resolve_multiscale(stylize_options o, const image& content, const std::vector<image>& styles) {
    if (!o.multiscale || !o.scales.empty()) return o;
    const std::size_t min_side = detail::min_input_side(o);
    const auto fits = [min_side](const image& img, std::size_t longer) {
        const auto size = scaled_size(img.shape(0), img.shape(1), std::max<std::size_t>(1, longer));
        return size[0] >= min_side && size[1] >= min_side;
    };
    o.multiscale = false;
    for (const std::size_t s : multiscale_sizes(o.size)) {
        bool all_fit = fits(content, s);
        for (const image& style : styles)
            all_fit = all_fit && fits(style, std::size_t(std::lround(o.style_scale * double(s))));
        if (all_fit || s == o.size) o.scales.push_back(s);
    }
    return o;
}

/*  f(resolve_multiscale(o, content, styles)), without a copy of `o` when there is nothing to
    resolve: options may hold photo-sized masks and an init image (12 bytes a pixel each). */
template <class F>
auto with_multiscale_resolved(const stylize_options& o, const image& content, const std::vector<image>& styles,
                              F&& f) {
    if (!o.multiscale || !o.scales.empty()) return f(o);
    return f(resolve_multiscale(o, content, styles));
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
