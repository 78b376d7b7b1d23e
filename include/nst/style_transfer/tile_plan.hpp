// Where a tiled stylisation cuts the image (style_transfer/tiled.hpp does the work): which scales
// of a coarse-to-fine run are tiled, the tile size (asked for, or the largest whose working memory
// fits the limit), the halo of context around each tile, the tiles along each axis and how a
// scale's iterations are spread over sweeps.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/memory_limit.hpp"
#include "../io/image.hpp"
#include "content_scales.hpp"
#include "memory_estimate.hpp"
#include "options.hpp"
#include "scale_plan.hpp"

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

// The working sizes stylize uses at a scale of `size` px (stylize.hpp, plan_working_sizes), without
// its memory check; by default at the output size, options.size.
inline std::array<std::size_t, 2> content_working_size(const image& content, const stylize_options& o,
                                                       std::size_t size = 0) {
    return scaled_size(content.shape(0), content.shape(1), size ? size : o.size);
}
inline std::vector<std::array<std::size_t, 2>> style_working_sizes(const std::vector<image>& styles,
                                                                   const stylize_options& o, std::size_t size = 0) {
    const double longer = double(size ? size : o.size);
    const std::size_t side = std::max<std::size_t>(1, std::size_t(std::lround(o.style_scale * longer)));
    std::vector<std::array<std::size_t, 2>> sizes;
    for (const auto& s : styles) sizes.push_back(scaled_size(s.shape(0), s.shape(1), side));
    return sizes;
}

}  // namespace detail

/*  Working memory of a tiled run with tiles of `window` px: one tile's optimisation (the
    untiled estimate at the tile's size, style passes over style tiles of that size too) plus
    the whole-image buffers it keeps: the content, the image being built, the blend and the
    result (12 bytes per pixel each), the largest style image at its working size, and the
    region masks (4 bytes per pixel each: one per style with style masks, one content mask).
    As estimate_stylize_memory, without the content and style images given (plan_tiling_at
    adds input_image_bytes). */
inline std::uint64_t estimate_tiled_memory(std::size_t h, std::size_t w,
                                           const std::vector<std::array<std::size_t, 2>>& style_sizes,
                                           std::size_t window, const stylize_options& o) {
    std::vector<std::array<std::size_t, 2>> style_tiles;
    std::uint64_t largest_style = 0;
    for (const auto& s : style_sizes) {
        style_tiles.push_back({std::min(window, s[0]), std::min(window, s[1])});
        largest_style = std::max<std::uint64_t>(largest_style, std::uint64_t(s[0]) * s[1]);
    }
    const std::uint64_t masks = (has_style_masks(o) ? style_sizes.size() : 0) + (o.content_mask.size() != 0 ? 1 : 0);
    const std::uint64_t whole = 12 * (4 * std::uint64_t(h) * w + largest_style) + 4 * masks * std::uint64_t(h) * w;
    return estimate_stylize_memory(std::min(window, h), std::min(window, w), style_tiles, o) + whole;
}

namespace detail {

/*  plan_tiling for one scale of a run: its longer side and its optimizer steps (scale_plan.hpp).
    throws: invalid_argument when tiles of options.tile px exceed the memory limit. */
inline tiling_plan plan_tiling_at(const image& content, const std::vector<image>& styles,
                                  const stylize_options& o, const scale_step& step) {
    const auto size = content_working_size(content, o, step.size);
    const auto style_sizes = style_working_sizes(styles, o, step.size);
    const std::uint64_t limit = o.memory_limit ? o.memory_limit : default_memory_limit();
    const std::uint64_t inputs = input_image_bytes(content, styles);  // the caller's, held throughout
    tiling_plan plan;
    // A size that fits in one tile of options.tile px is planned as without it: whole when it
    // fits the memory limit, else in the largest tiles that do (so one --tile for all of a
    // batch's jobs does not refuse a small one that the limit alone would tile).
    const bool fits_one_tile = size[0] <= align_down(o.tile) && size[1] <= align_down(o.tile);
    if (o.tile > 0 && !fits_one_tile) {
        plan.window = align_down(o.tile);
        const std::uint64_t need = estimate_tiled_memory(size[0], size[1], style_sizes, plan.window, o) + inputs;
        if (need > limit)
            throw invalid_argument("tiles of " + std::to_string(plan.window) + " px for " + std::to_string(size[1]) +
                                   " x " + std::to_string(size[0]) + " need about " + format_bytes(need) +
                                   " of memory, above the limit of " + format_bytes(limit) +
                                   (plan.window > smallest_tile ? "; use smaller tiles or raise the memory limit"
                                                                : "; " + std::to_string(smallest_tile) +
                                                                      " px is the smallest tile: raise the memory limit"));
    } else {
        if (estimate_stylize_memory(size[0], size[1], style_sizes, o) + inputs <= limit) return {};
        for (std::size_t w = align_down(std::max(size[0], size[1])); w >= smallest_tile && !plan.window;
             w -= tile_alignment)
            if (estimate_tiled_memory(size[0], size[1], style_sizes, w, o) + inputs <= limit) plan.window = w;
        if (!plan.window) return {};
    }
    plan.halo = halo_for(plan.window);
    plan.rows = split_axis(size[0], plan.window, plan.halo);
    plan.cols = split_axis(size[1], plan.window, plan.halo);
    // (No steps: one sweep of visits that only evaluate the start, so the scale reports its loss
    // as an untiled one does; without a sweep it reported 0.)
    plan.sweeps = step.iterations == 0 ? 1
                                       : std::min<std::size_t>(step.iterations,
                                                               std::clamp<std::size_t>(step.iterations / 50, 2, 10));
    plan.iterations_per_visit = plan.sweeps ? step.iterations / plan.sweeps : 0;
    return plan;
}

}  // namespace detail

/*  How stylize() tiles each scale of this call (one plan per step of plan_scales(options), in
    order). A scale is tiled, with options.tile > 0, when its working size does not fit in one
    tile of that size (rounded down to a multiple of 16); with options.tile == 0 (or a size that
    fits in one such tile), only when its untiled estimate exceeds the memory limit, then with
    the largest tiles that fit. So a
    coarse-to-fine run optimises its small scales on the whole image and tiles only the large
    ones. A tiled scale's steps are spread over sweeps = steps / 50 clamped to 2..10 (at most
    `steps`; one for a scale without steps, whose visits evaluate the start), each tile getting
    steps / sweeps per sweep.
    ensures: window == 0 means an ordinary, untiled scale (which refuses when over the limit).
    throws:  invalid_argument when tiles of options.tile px exceed the memory limit (naming the
             scale when there are several). */
inline std::vector<tiling_plan> plan_scale_tiling(const image& content, const std::vector<image>& styles,
                                                  const stylize_options& options) {
    return with_multiscale_resolved(options, content, styles, [&](const stylize_options& o) {
        const std::vector<scale_step> steps = plan_scales(o);
        std::vector<tiling_plan> plans;
        for (const scale_step& step : steps) {
            try {
                plans.push_back(detail::plan_tiling_at(content, styles, o, step));
            } catch (const invalid_argument& e) {
                if (steps.size() == 1) throw;
                throw invalid_argument("at scale " + std::to_string(step.size) + ": " + e.what());
            }
        }
        return plans;
    });
}

// The tiling of the run's last scale (the output size): plan_scale_tiling(...).back().
inline tiling_plan plan_tiling(const image& content, const std::vector<image>& styles, const stylize_options& o) {
    return plan_scale_tiling(content, styles, o).back();
}

// True when some scale of the plans is tiled.
inline bool any_tiled(const std::vector<tiling_plan>& plans) {
    return std::any_of(plans.begin(), plans.end(), [](const tiling_plan& p) { return p.window != 0; });
}

/*  Optimizer steps over a run's scales, as its progress reports count them: per scale, the
    plan's steps, or for a tiled scale every step of every tile visit (tiling_plan::iterations).
    requires: tiling.size() == steps.size() (plan_scale_tiling of the same options). */
inline std::size_t planned_iterations(const std::vector<scale_step>& steps, const std::vector<tiling_plan>& tiling) {
    std::size_t total = 0;
    for (std::size_t k = 0; k < steps.size(); ++k)
        total += tiling[k].window ? tiling[k].iterations() : steps[k].iterations;
    return total;
}

// The same for the run stylize(content, styles, o) makes.
inline std::size_t planned_iterations(const image& content, const std::vector<image>& styles,
                                      const stylize_options& options) {
    return with_multiscale_resolved(options, content, styles, [&](const stylize_options& o) {
        return planned_iterations(plan_scales(o), plan_scale_tiling(content, styles, o));
    });
}

// `steps` optimizer steps of `cost` each, in steps at the output size.
struct priced_steps {
    std::size_t steps;
    double cost;
};

/*  The run stylize(content, styles, o) makes as its progress reports count it, priced for a
    time-left estimate: per scale its steps (as planned_iterations counts them) and the cost of
    one (relative_pixel_cost of the scale's image, or of its average tile window when tiled,
    against the output size's image). A coarse-to-fine run's first steps are its cheapest (a
    128 px step costs an eighth of a 512 px one), so the average speed so far would predict a
    fraction of the time left. */
inline std::vector<priced_steps> planned_step_costs(const image& content, const std::vector<image>& styles,
                                                    const stylize_options& options) {
    const auto [steps, tiling] = with_multiscale_resolved(options, content, styles, [&](const stylize_options& o) {
        return std::pair{plan_scales(o), plan_scale_tiling(content, styles, o)};
    });
    const auto pixels_at = [&](std::size_t size) {
        const auto hw = scaled_size(content.shape(0), content.shape(1), size);
        return double(hw[0]) * double(hw[1]);
    };
    const double last = pixels_at(steps.back().size);
    const auto total_span = [](const std::vector<tile_span>& spans) {
        double sum = 0;
        for (const tile_span& s : spans) sum += double(s.size());
        return sum;
    };
    std::vector<priced_steps> priced;
    for (std::size_t k = 0; k < steps.size(); ++k) {
        const tiling_plan& t = tiling[k];
        if (t.window == 0) {
            priced.push_back({steps[k].iterations, relative_pixel_cost(pixels_at(steps[k].size), last)});
            continue;
        }
        const double tile_pixels = total_span(t.rows.windows) * total_span(t.cols.windows) / double(t.tiles());
        priced.push_back({t.iterations(), relative_pixel_cost(tile_pixels, last)});
    }
    return priced;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
