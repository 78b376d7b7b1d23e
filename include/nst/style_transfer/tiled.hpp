// Stylising an image whose working memory exceeds the limit, in overlapping tiles (issue 12).
//
// stylize_net (stylize.hpp) runs the scales of a run in turn: one that fits in one piece on the
// whole image (run_scale), one that plan_scale_tiling (tile_plan.hpp) tiles here
// (run_tiled_scale), starting from the previous scale's result upsampled like any scale.
//
// A tiled scale: the style targets stay global: each style image is run through VGG19 in tiles
// of the same size at its full working size, and the Gram sums of the tiles' cores add up to the
// whole image's Gram matrix. The image is then optimised tile by tile, in sweeps: each window
// (core plus halo) gets iterations_per_visit steps of the usual objective with its own content
// target (the content inside the window: the halo gives the core pixels their whole receptive
// field) and the global style targets, and its result is blended back in place with a weight
// that is 1 on the core and falls smoothly to 0 at the window's edge, so no tile border shows.
// Style and content masks are cut to the window: each tile's masked terms see its part of them.
//
// Balance: the content and TV terms are sums over the tile's pixels, the Gram-normalised style
// term is not; the style weight is multiplied by the tile's share of the image (with a style
// mask: its share of that style's region) so that each pixel feels the same pull between content
// and style as in a whole-image run.
//
// Memory: one tile's optimisation plus a few whole-image buffers (estimate_tiled_memory).
// Progress: callbacks see one report per optimizer iteration of every tile visit, numbered on
// through the whole run (planned_iterations(content, styles, options) in all); the losses are
// those of the tile being optimised, x and current_image() the whole image as of the last
// finished visit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "stylize.hpp"
#include "tile_plan.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// One tile: its core and window along each axis.
struct image_tile {
    tile_span row_core, row_window, col_core, col_window;
};

inline nst::image crop_image(const nst::image& img, const tile_span& rows, const tile_span& cols) {
    nst::image part(xt::view(img, xt::range(rows.begin, rows.end), xt::range(cols.begin, cols.end), xt::all()));
    return part;
}

// Weight of a window's result at position p of one axis: 1 on the core, a raised cosine down to
// 0 at the window's edge.
inline float blend_weight(std::size_t p, const tile_span& core, const tile_span& window) {
    std::size_t d = 0, reach = 0;
    if (p < core.begin) {
        d = core.begin - p;
        reach = core.begin - window.begin;
    } else if (p >= core.end) {
        d = p - core.end + 1;
        reach = window.end - core.end;
    } else {
        return 1.0f;
    }
    return float(0.5 * (1.0 + std::cos(3.14159265358979323846 * double(d) / double(reach + 1))));
}

// x(window) = (1 - w) x(window) + w part, w = the product of the two axes' weights.
template <class T> void blend_back(tensor3<T>& x, const tensor3<T>& part, const image_tile& t) {
    std::vector<float> wy(t.row_window.size()), wx(t.col_window.size());
    for (std::size_t i = 0; i < wy.size(); ++i) wy[i] = blend_weight(t.row_window.begin + i, t.row_core, t.row_window);
    for (std::size_t j = 0; j < wx.size(); ++j) wx[j] = blend_weight(t.col_window.begin + j, t.col_core, t.col_window);
    for (std::size_t c = 0; c < x.shape(0); ++c)
        for (std::size_t i = 0; i < wy.size(); ++i)
            for (std::size_t j = 0; j < wx.size(); ++j) {
                const T w = T(wy[i] * wx[j]);
                T& target = x(c, t.row_window.begin + i, t.col_window.begin + j);
                target = (T(1) - w) * target + w * part(c, i, j);
            }
}

// Each layer's stride (input pixels per activation) from the network's shape rules.
template <class Net> std::size_t layer_stride(std::size_t layer) {
    const std::size_t side = 1024;
    return side / Net::output_shapes({3, side, side})[layer][1];
}

// Adds the raw Gram sum F F^T of the core's activations (f covers the window) to `sum`.
template <class T>
void add_core_gram(const tensor3<T>& f, std::size_t stride, const image_tile& t, tensor2<T>& sum, double& positions) {
    const auto core_range = [&](const tile_span& core, const tile_span& window, std::size_t extent) {
        const std::size_t begin = std::min(extent, (core.begin - window.begin) / stride);
        const std::size_t end = core.end == window.end ? extent : std::min(extent, (core.end - window.begin) / stride);
        return tile_span{begin, std::max(begin, end)};
    };
    const tile_span r = core_range(t.row_core, t.row_window, f.shape(1));
    const tile_span c = core_range(t.col_core, t.col_window, f.shape(2));
    if (r.size() == 0 || c.size() == 0) return;
    const tensor3<T> core(xt::view(f, xt::all(), xt::range(r.begin, r.end), xt::range(c.begin, c.end)));
    tensor2<T> g = gram(core, T(1));
    if (sum.size() == 0)
        sum = std::move(g);
    else
        sum += g;
    positions += double(r.size() * c.size());
}

// The tiles of a plan's axes, row by row.
inline std::vector<image_tile> tiles_of(const axis_tiles& rows, const axis_tiles& cols) {
    std::vector<image_tile> tiles;
    for (std::size_t r = 0; r < rows.cores.size(); ++r)
        for (std::size_t c = 0; c < cols.cores.size(); ++c)
            tiles.push_back({rows.cores[r], rows.windows[r], cols.cores[c], cols.windows[c]});
    return tiles;
}

// The style passes are forward only, so their tiles afford a wider halo: a quarter of the tile,
// up to 96 px (relu5_1 sees about 140 px around a position).
inline std::size_t style_halo_for(std::size_t window) {
    return std::max<std::size_t>(16, std::min<std::size_t>({96, align_down(window / 4), align_down((window - 48) / 2)}));
}

/*  One style image's Gram target per layer (the "gatys" normalisation, as style_target), from
    tiles of `window` px (halo: style_halo_for): the sum of the cores' Gram sums over the tiles,
    divided by the layer's position count. requires: net keeps the outputs of `layers`. */
template <class Net>
std::vector<tensor2<typename Net::value_type>> tiled_style_image_targets(Net& net, const nst::image& style,
                                                                         const std::vector<std::size_t>& layers,
                                                                         std::size_t window, const stylize_options& o) {
    using T = typename Net::value_type;
    const std::size_t deepest = *std::max_element(layers.begin(), layers.end());
    std::vector<tensor2<T>> sums(layers.size());
    std::vector<double> positions(layers.size(), 0.0);
    const std::size_t halo = style_halo_for(window);
    for (const image_tile& t :
         tiles_of(split_axis(style.shape(0), window, halo), split_axis(style.shape(1), window, halo))) {
        net.forward(to_vgg_input<T>(crop_image(style, t.row_window, t.col_window), convention_of(o)), deepest);
        for (std::size_t l = 0; l < layers.size(); ++l)
            add_core_gram(net.output(layers[l]), layer_stride<Net>(layers[l]), t, sums[l], positions[l]);
    }
    for (std::size_t l = 0; l < layers.size(); ++l) sums[l] *= T(1.0 / positions[l]);
    return sums;
}

/*  The global style targets, as blended_style_targets (stylize.hpp) computes them, from tiles of
    `window` px: per layer, the blend-weighted sum of each style's tiled_style_image_targets (the
    style as style_input gives it: recoloured to `content` under color_mode::histogram). */
template <class Net>
std::vector<tensor2<typename Net::value_type>> tiled_style_targets(Net& net, const nst::image& content,
                                                                   const std::vector<nst::image>& styles,
                                                                   const std::vector<image_size>& sizes,
                                                                   std::size_t window, const stylize_options& o) {
    const std::vector<std::size_t> layers = keep_layers(net, o.style_layers);
    return blend_style_targets<typename Net::value_type>(
        layers.size(), normalised_blend(o, styles.size()), [&](std::size_t s) {
            return tiled_style_image_targets(net, style_input(styles[s], sizes[s], content, o), layers, window, o);
        });
}

// What every tile of one tiled scale shares: the global style targets and the whole-image masks
// that each tile cuts its part from.
template <class T> struct shared_tile_terms {
    // Per set, per style layer: one set (the blend), or with style masks one per style.
    std::vector<std::vector<tensor2<T>>> targets;
    // Per set: 1, or with style masks blend * style count (as add_masked_style_terms).
    std::vector<double> weights;
    // With style masks, per set: the style's region at the working size and its area.
    std::vector<tensor2<float>> regions;
    std::vector<double> region_areas;
    tensor2<float> content_mask;  // at the working size; empty without a content mask
};

/*  The shared terms of a tiled scale whose content is `content` (at its working size): targets
    as add_style_terms / add_masked_style_terms (stylize.hpp) use them, computed in tiles. */
template <class Net>
shared_tile_terms<typename Net::value_type> shared_terms_of(Net& net, const nst::image& content,
                                                            const std::vector<nst::image>& styles,
                                                            const std::vector<image_size>& sizes,
                                                            std::size_t window, const stylize_options& o) {
    using T = typename Net::value_type;
    shared_tile_terms<T> shared;
    if (o.content_mask.size() != 0)
        shared.content_mask = mask_weights(o.content_mask, content.shape(0), content.shape(1), o.input_limits);
    if (o.style_layers.empty()) return shared;
    if (!has_style_masks(o)) {
        shared.targets.push_back(tiled_style_targets(net, content, styles, sizes, window, o));
        shared.weights.push_back(1.0);
        return shared;
    }
    const std::vector<std::size_t> layers = keep_layers(net, o.style_layers);
    const std::vector<double> blend = normalised_blend(o, styles.size());
    std::vector<tensor2<float>> regions = style_regions(content, styles.size(), o);
    for (std::size_t s = 0; s < styles.size(); ++s) {
        if (blend[s] == 0) continue;
        shared.targets.push_back(
            tiled_style_image_targets(net, style_input(styles[s], sizes[s], content, o), layers, window, o));
        shared.weights.push_back(blend[s] * double(styles.size()));
        shared.region_areas.push_back(double(xt::sum(regions[s])()));
        shared.regions.push_back(std::move(regions[s]));
    }
    return shared;
}

inline tensor2<float> crop_mask(const tensor2<float>& mask, const image_tile& t) {
    tensor2<float> part(xt::view(mask, xt::range(t.row_window.begin, t.row_window.end),
                                 xt::range(t.col_window.begin, t.col_window.end)));
    return part;
}

/*  The content terms of one window, as add_content_terms (stylize.hpp), with `mask` (the
    window's part of the content mask, empty: none) pooled to each content layer. */
template <class Net>
void add_window_content_terms(objective<Net>& loss, Net& net, const nst::image& window, const tensor2<float>& mask,
                              const stylize_options& o) {
    using T = typename Net::value_type;
    if (mask.size() == 0 || o.content_layers.empty()) return add_content_terms(loss, net, window, o);
    const std::vector<std::size_t> layers = keep_layers(net, o.content_layers);
    net.forward(to_vgg_input<T>(window, convention_of(o)), *std::max_element(layers.begin(), layers.end()));
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const double wk = o.content_layer_weights.empty() ? 1.0 / double(layers.size()) : o.content_layer_weights[k];
        const auto size = layer_size<Net>(window, layers[k]);
        tensor2<T> m = xt::cast<T>(pool_mask(mask, size[0], size[1]));
        loss.add(o.content_layers[k], T(o.content_weight * wk),
                 masked_content_loss<T>(net.output(layers[k]), std::move(m)), "content");
    }
}

/*  The style terms of one window: each set's targets, weighted by the window's share of the image
    (with style masks: of the set's region, whose window part each layer sees pooled). */
template <class Net>
void add_window_style_terms(objective<Net>& loss, const shared_tile_terms<typename Net::value_type>& shared,
                            const image_tile& t, const nst::image& window, std::size_t image_pixels,
                            const stylize_options& o) {
    using T = typename Net::value_type;
    const bool masked = !shared.regions.empty();
    for (std::size_t e = 0; e < shared.targets.size(); ++e) {
        const tensor2<float> part = masked ? crop_mask(shared.regions[e], t) : tensor2<float>();
        const double share = masked ? double(xt::sum(part)()) / shared.region_areas[e]
                                    : double(window.shape(0) * window.shape(1)) / double(image_pixels);
        if (!(share > 0)) continue;  // the style's region does not reach this window
        for (std::size_t l = 0; l < shared.targets[e].size(); ++l) {
            const T weight = T(o.style_weight * style_layer_weight(o, l) * shared.weights[e] * share);
            if (!masked) {
                loss.add(o.style_layers[l], weight, style_loss<T>(shared.targets[e][l]), "style");
                continue;
            }
            const auto size = layer_size<Net>(window, Net::layer_index(o.style_layers[l]));
            const tensor2<T> m = xt::cast<T>(pool_mask(part, size[0], size[1]));
            if (!(xt::sum(m)() > T(0))) continue;
            loss.add(o.style_layers[l], weight, masked_style_loss<T>(shared.targets[e][l], m), "style");
        }
    }
}

template <class T> struct visit_outcome {
    optim_result<T> run;
    loss_value<T> value;  // the loss parts of the point written back
    std::string failure;  // non_finite_message when run.reason == stop_reason::non_finite
};

/*  One visit of one tile: `iterations` optimizer steps on the window of x against the window's
    content target, the shared style targets and TV; the best point of the visit is blended back
    into x. `report` receives the tile's progress. */
template <class Net>
visit_outcome<typename Net::value_type> visit_tile(Net& net, tensor3<typename Net::value_type>& x,
                                                   const nst::image& content,
                                                   const shared_tile_terms<typename Net::value_type>& shared,
                                                   const image_tile& t, std::size_t iterations,
                                                   const stylize_options& o, const progress_function& report) {
    using T = typename Net::value_type;
    objective<Net> loss(net);
    loss.normalize_gradients(o.normalize_gradients);
    const nst::image window = crop_image(content, t.row_window, t.col_window);
    add_window_content_terms(loss, net, window,
                             shared.content_mask.size() != 0 ? crop_mask(shared.content_mask, t) : tensor2<float>(), o);
    add_window_style_terms(loss, shared, t, window, x.shape(1) * x.shape(2), o);
    // TV is a sum of squared pixel differences: tv_weight is per squared pixel level.
    if (o.tv_weight > 0)
        loss.add_image_term(T(o.tv_weight / (pixel_level(o) * pixel_level(o))), total_variation_loss<T>{}, "tv");

    tensor3<T> part(xt::view(x, xt::all(), xt::range(t.row_window.begin, t.row_window.end),
                             xt::range(t.col_window.begin, t.col_window.end)));
    best_point<T> best{part, {}};
    best.value.total = std::numeric_limits<T>::infinity();
    scale_context at;
    at.size = o.size;
    at.iterations = at.planned_total = iterations;
    const output_image to_rgb{nullptr, convention_of(o)};
    visit_outcome<T> out{optimise(loss, part, best, to_rgb, o, at, report), best.value, {}};
    if (std::isfinite(best.value.total)) blend_back(x, best.x, t);
    if (out.run.reason == stop_reason::non_finite) out.failure = non_finite_message(out.run);
    return out;
}

// The sum of the tiles' last losses: what a tiled scale reports as its result's loss.
template <class T> loss_value<T> summed_tile_values(const std::vector<loss_value<T>>& tile_values) {
    loss_value<T> whole;
    for (const auto& v : tile_values) {
        whole.total += v.total;
        whole.parts.insert(whole.parts.end(), v.parts.begin(), v.parts.end());
    }
    return whole;
}

/*  Sweeps over the tiles of `plan` on x (the whole image at this scale), each visit with
    plan.iterations_per_visit steps; stops early when a visit is stopped by a callback or becomes
    non-finite. Adds the steps and evaluations to r.at's counts as it goes; `report` receives
    each visit's progress with the counts of the visits before it in `done`. */
template <class Net>
optim_result<typename Net::value_type> sweep_tiles(coarse_to_fine_run<typename Net::value_type>& r, Net& net,
                                                   tensor3<typename Net::value_type>& x,
                                                   const shared_tile_terms<typename Net::value_type>& shared,
                                                   const tiling_plan& plan, const stylize_options& o,
                                                   optim_result<typename Net::value_type>& done,
                                                   const progress_function& report) {
    using T = typename Net::value_type;
    const std::vector<image_tile> tiles = tiles_of(plan.rows, plan.cols);
    std::vector<loss_value<T>> tile_values(tiles.size());
    for (std::size_t sweep = 0; sweep < plan.sweeps && done.reason == stop_reason::max_iterations; ++sweep)
        for (std::size_t i = 0; i < tiles.size() && done.reason == stop_reason::max_iterations; ++i) {
            const visit_outcome<T> visit =
                visit_tile(net, x, r.content, shared, tiles[i], plan.iterations_per_visit, o, report);
            buffer_pool::instance().release_idle();  // windows differ in size: keep no idle blocks
            if (std::isfinite(visit.value.total)) tile_values[i] = visit.value;
            done.iterations += visit.run.iterations;
            done.evaluations += visit.run.evaluations;
            if (visit.run.reason == stop_reason::non_finite || visit.run.reason == stop_reason::stopped_by_callback)
                done.reason = visit.run.reason;
            if (!visit.failure.empty()) r.failure = visit.failure;
        }
    r.best.value = summed_tile_values(tile_values);
    return done;
}

/*  Steps 2-5 of one tiled scale (the counterpart of run_scale, stylize.hpp): the start (the
    initial image on the first scale, else next_scale_start), the shared terms at this size, the
    sweeps; the scale's result (its best point) is the image after the last visit. */
template <class Net>
void run_tiled_scale(coarse_to_fine_run<typename Net::value_type>& r, Net& net, const nst::image& content_input,
                     const std::vector<nst::image>& styles, const working_sizes& sizes, const tiling_plan& plan,
                     const stylize_options& o, const progress_function& report) {
    using T = typename Net::value_type;
    buffer_pool::instance().release_idle();  // the previous scale's blocks: another size
    nst::image next_content = resize_image(content_input, sizes.content[0], sizes.content[1], o.input_limits);
    tensor3<T> x = r.at.index == 0 ? initial_image<T>(next_content, o)
                                   : next_scale_start<T>(r.best.x, r.content, next_content, o);
    r.content = std::move(next_content);
    r.best = best_point<T>{};
    const shared_tile_terms<T> shared = shared_terms_of(net, r.content, styles, sizes.styles, plan.window, o);
    buffer_pool::instance().release_idle();

    const auto begun = std::chrono::steady_clock::now();
    if (r.at.index == 0) r.started = begun;
    r.at.seconds_before = std::chrono::duration<double>(begun - r.started).count();
    const output_image to_rgb{keeps_content_chroma(o) ? &r.content : nullptr, convention_of(o)};
    optim_result<T> done;  // this scale's visits so far
    // A tile's progress, numbered on through the run (a later visit's start is not reported: it
    // repeats the previous visit's last number; so for a scale without steps only the first
    // visit's evaluation is).
    const progress_function tile_report = [&](const stylize_progress& p) {
        if (p.iteration == 0 && done.evaluations > 0) return true;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count();
        const stylize_progress whole{r.at.iterations_before + done.iterations + p.iteration,
                                     r.at.planned_total,
                                     p.loss, p.content_loss, p.style_loss, p.tv_loss, p.best_loss,
                                     r.at.seconds_before + seconds,
                                     r.at.evaluations_before + done.evaluations + p.evaluations,
                                     x, [&] { return to_rgb(x); }, r.at.size, r.at.index, r.at.count};
        return report(whole);
    };
    r.last = sweep_tiles(r, net, x, shared, plan, o, done, tile_report);
    r.best.x = std::move(x);
    r.at.iterations_before += done.iterations;
    r.at.evaluations_before += done.evaluations;
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
