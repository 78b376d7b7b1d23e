// Where a tiled stylisation cuts the image (style_transfer/tiled.hpp does the work): the tile
// size (asked for, or the largest whose working memory fits the limit), the halo of context
// around each tile, the tiles along each axis and how the iterations are spread over sweeps.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/memory_limit.hpp"
#include "../io/image.hpp"
#include "memory_estimate.hpp"
#include "options.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// Rows or columns [begin, end).
struct tile_span {
    std::size_t begin = 0, end = 0;
    std::size_t size() const { return end - begin; }
};

// One axis cut into tiles: the cores partition it; window k is core k plus the halo on both
// sides, clipped at the image's edges. Core boundaries are multiples of 16 (VGG19's stride at
// conv5), so a window's activations line up with the whole image's.
struct axis_tiles {
    std::vector<tile_span> cores, windows;
};

struct tiling_plan {
    std::size_t window = 0;  // tile side in pixels, halo included; 0 = not tiled
    std::size_t halo = 0;    // context on each side of a core
    axis_tiles rows, cols;
    std::size_t sweeps = 0;                // passes over all tiles
    std::size_t iterations_per_visit = 0;  // optimizer iterations a tile gets in each sweep
    std::size_t tiles() const { return rows.cores.size() * cols.cores.size(); }
    // Optimizer iterations of the whole run: what its progress reports count up to.
    std::size_t iterations() const { return sweeps * tiles() * iterations_per_visit; }
};

namespace detail {

constexpr std::size_t tile_alignment = 16;
constexpr std::size_t smallest_tile = 128;

inline std::size_t align_down(std::size_t v) { return v / tile_alignment * tile_alignment; }

// The halo around a core: relu4_2 (the default content layer) sees 68 px, so 48 px (at 512 px
// tiles) gives every core pixel its whole neighbourhood; at least 16, at most 64, and small
// enough to leave cores of 48 px or more.
inline std::size_t halo_for(std::size_t window) {
    const std::size_t wanted = std::max<std::size_t>(16, std::min<std::size_t>(64, align_down(window * 3 / 32)));
    return std::min(wanted, align_down((window - 48) / 2));
}

/*  Cuts [0, length) into the fewest cores whose windows (core + halo on each side) fit in
    `window`. requires: window >= 2 * halo + 48. */
inline axis_tiles split_axis(std::size_t length, std::size_t window, std::size_t halo) {
    axis_tiles t;
    if (length <= window) {
        t.cores = t.windows = {tile_span{0, length}};
        return t;
    }
    const std::size_t core = window - 2 * halo;
    for (std::size_t n = (length + core - 1) / core; n <= length / tile_alignment; ++n) {
        t.cores.clear();
        t.windows.clear();
        bool fits = true;
        for (std::size_t k = 1, begin = 0; k <= n; ++k) {
            const std::size_t end = k == n ? length : align_down(k * length / n);
            const tile_span w{begin < halo ? 0 : begin - halo, std::min(length, end + halo)};
            fits = fits && end > begin && w.size() <= window;
            t.cores.push_back({begin, end});
            t.windows.push_back(w);
            begin = end;
        }
        if (fits) return t;
    }
    throw invalid_argument("tiling: cannot cut " + std::to_string(length) + " px into tiles of " +
                           std::to_string(window) + " px");
}

// The working sizes stylize uses (stylize.hpp, plan_working_sizes), without its memory check.
inline std::array<std::size_t, 2> content_working_size(const image& content, const stylize_options& o) {
    return scaled_size(content.shape(0), content.shape(1), o.size);
}
inline std::vector<std::array<std::size_t, 2>> style_working_sizes(const std::vector<image>& styles,
                                                                   const stylize_options& o) {
    const std::size_t side = std::max<std::size_t>(1, std::size_t(std::lround(o.style_scale * double(o.size))));
    std::vector<std::array<std::size_t, 2>> sizes;
    for (const auto& s : styles) sizes.push_back(scaled_size(s.shape(0), s.shape(1), side));
    return sizes;
}

}  // namespace detail

/*  Working memory of a tiled run with tiles of `window` px: one tile's optimisation (the
    untiled estimate at the tile's size, style passes over style tiles of that size too) plus
    the whole-image buffers it keeps: the content, the image being built, the blend and the
    result (12 bytes per pixel each) and the largest style image at its working size. */
inline std::uint64_t estimate_tiled_memory(std::size_t h, std::size_t w,
                                           const std::vector<std::array<std::size_t, 2>>& style_sizes,
                                           std::size_t window, const stylize_options& o) {
    std::vector<std::array<std::size_t, 2>> style_tiles;
    std::uint64_t largest_style = 0;
    for (const auto& s : style_sizes) {
        style_tiles.push_back({std::min(window, s[0]), std::min(window, s[1])});
        largest_style = std::max<std::uint64_t>(largest_style, std::uint64_t(s[0]) * s[1]);
    }
    const std::uint64_t whole = 12 * (4 * std::uint64_t(h) * w + largest_style);
    return estimate_stylize_memory(std::min(window, h), std::min(window, w), style_tiles, o) + whole;
}

/*  How stylize() will tile this call: with options.tile > 0, tiles of that size (rounded down
    to a multiple of 16) whenever the working size does not fit in one; with options.tile == 0,
    only when the untiled estimate exceeds the memory limit, then the largest tiles that fit.
    Iterations: sweeps = iterations / 50 clamped to 2..10 (at most `iterations`), each tile
    getting iterations / sweeps per sweep.
    ensures: window == 0 means an ordinary, untiled run (which refuses when over the limit).
    throws:  invalid_argument when tiles of options.tile px exceed the memory limit. */
inline tiling_plan plan_tiling(const image& content, const std::vector<image>& styles, const stylize_options& o) {
    const auto size = detail::content_working_size(content, o);
    const auto style_sizes = detail::style_working_sizes(styles, o);
    const std::uint64_t limit = o.memory_limit ? o.memory_limit : default_memory_limit();
    tiling_plan plan;
    if (o.tile > 0) {
        plan.window = detail::align_down(o.tile);
        if (size[0] <= plan.window && size[1] <= plan.window) return {};
        const std::uint64_t need = estimate_tiled_memory(size[0], size[1], style_sizes, plan.window, o);
        if (need > limit)
            throw invalid_argument("tiles of " + std::to_string(plan.window) + " px for " + std::to_string(size[1]) +
                                   " x " + std::to_string(size[0]) + " need about " + format_bytes(need) +
                                   " of memory, above the limit of " + format_bytes(limit) +
                                   "; use smaller tiles or raise the memory limit");
    } else {
        if (estimate_stylize_memory(size[0], size[1], style_sizes, o) <= limit) return {};
        for (std::size_t w = detail::align_down(std::max(size[0], size[1])); w >= detail::smallest_tile && !plan.window;
             w -= detail::tile_alignment)
            if (estimate_tiled_memory(size[0], size[1], style_sizes, w, o) <= limit) plan.window = w;
        if (!plan.window) return {};
    }
    plan.halo = detail::halo_for(plan.window);
    plan.rows = detail::split_axis(size[0], plan.window, plan.halo);
    plan.cols = detail::split_axis(size[1], plan.window, plan.halo);
    plan.sweeps = std::min<std::size_t>(o.iterations, std::clamp<std::size_t>(o.iterations / 50, 2, 10));
    plan.iterations_per_visit = plan.sweeps ? o.iterations / plan.sweeps : 0;
    return plan;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
