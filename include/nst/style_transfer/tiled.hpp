// Stylising an image whose working memory exceeds the limit, in overlapping tiles (issue 12).
//
// stylize() comes here when plan_tiling (tile_plan.hpp) returns a tile size. The style targets
// stay global: each style image is run through VGG19 in tiles of the same size at its full
// working size, and the Gram sums of the tiles' cores add up to the whole image's Gram matrix.
// The image is then optimised tile by tile, in sweeps: each window (core plus halo) gets
// iterations_per_visit steps of the usual objective with its own content target (the content
// inside the window: the halo gives the core pixels their whole receptive field) and the global
// style targets, and its result is blended back in place with a weight that is 1 on the core
// and falls smoothly to 0 at the window's edge, so no tile border shows.
//
// Balance: the content and TV terms are sums over the tile's pixels, the Gram-normalised style
// term is not; the style weight is multiplied by (tile area / image area) so that each pixel
// feels the same pull between content and style as in a whole-image run.
//
// Memory: one tile's optimisation plus a few whole-image buffers (estimate_tiled_memory).
// Progress: callbacks see one report per optimizer iteration of every tile visit, numbered
// through the whole run (up to tiling_plan::iterations()); the losses are those of the tile
// being optimised, x and current_image() the whole image as of the last finished visit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
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

/*  The global style targets, as blended_style_targets (stylize.hpp) computes them, from tiles
    of plan.window px (halo: style_halo_for): per layer, the sum over each style's tiles of the cores' Gram sums, divided
    by the layer's position count (the "gatys" Gram normalisation), blend-weighted. */
template <class Net>
std::vector<tensor2<typename Net::value_type>> tiled_style_targets(Net& net, const std::vector<nst::image>& styles,
                                                                   const std::vector<image_size>& sizes,
                                                                   const tiling_plan& plan, const stylize_options& o) {
    using T = typename Net::value_type;
    const std::vector<std::size_t> layers = keep_layers(net, o.style_layers);
    const std::size_t deepest = *std::max_element(layers.begin(), layers.end());
    const std::vector<double> blend = normalised_blend(o, styles.size());
    std::vector<tensor2<T>> targets(layers.size());
    for (std::size_t s = 0; s < styles.size(); ++s) {
        if (blend[s] == 0) continue;
        const nst::image style = resize_image(styles[s], sizes[s][0], sizes[s][1], o.input_limits);
        std::vector<tensor2<T>> sums(layers.size());
        std::vector<double> positions(layers.size(), 0.0);
        const std::size_t halo = style_halo_for(plan.window);
        for (const image_tile& t : tiles_of(split_axis(sizes[s][0], plan.window, halo),
                                            split_axis(sizes[s][1], plan.window, halo))) {
            net.forward(to_vgg_input<T>(crop_image(style, t.row_window, t.col_window), convention_of(o)), deepest);
            for (std::size_t l = 0; l < layers.size(); ++l)
                add_core_gram(net.output(layers[l]), layer_stride<Net>(layers[l]), t, sums[l], positions[l]);
        }
        for (std::size_t l = 0; l < layers.size(); ++l) {
            sums[l] *= T(blend[s] / positions[l]);
            if (targets[l].size() == 0)
                targets[l] = std::move(sums[l]);
            else
                targets[l] += sums[l];
        }
    }
    return targets;
}

template <class T> struct visit_outcome {
    optim_result<T> run;
    loss_value<T> value;  // the loss parts of the point written back
    std::string failure;  // non_finite_message when run.reason == stop_reason::non_finite
};

/*  One visit of one tile: `iterations` optimizer steps on the window of x against the window's
    content target, the global style targets (weighted by the tile's share of the image) and TV;
    the best point of the visit is blended back into x. `report` receives the tile's progress. */
template <class Net, class Report>
visit_outcome<typename Net::value_type> visit_tile(Net& net, tensor3<typename Net::value_type>& x,
                                                   const nst::image& content,
                                                   const std::vector<tensor2<typename Net::value_type>>& targets,
                                                   const image_tile& t, std::size_t iterations,
                                                   const stylize_options& o, Report& report) {
    using T = typename Net::value_type;
    objective<Net> loss(net);
    add_content_terms(loss, net, crop_image(content, t.row_window, t.col_window), o);
    const double share = double(t.row_window.size() * t.col_window.size()) / double(x.shape(1) * x.shape(2));
    for (std::size_t l = 0; l < targets.size(); ++l) {
        const double wl = o.style_layer_weights.empty() ? 1.0 / double(targets.size()) : o.style_layer_weights[l];
        loss.add(o.style_layers[l], T(o.style_weight * wl * share), style_loss<T>(targets[l]), "style");
    }
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
    if (out.run.reason == stop_reason::non_finite) out.failure = non_finite_message(out.run, loss.last_value());
    return out;
}

// The whole run's result from the finished image and the last loss of every tile.
template <class T>
stylize_result tiled_result(const tensor3<T>& x, const std::vector<loss_value<T>>& tile_values, optim_result<T> totals,
                            const output_image& to_rgb, double seconds) {
    best_point<T> whole{x, {}};
    for (const auto& v : tile_values) {
        whole.value.total += v.total;
        whole.value.parts.insert(whole.value.parts.end(), v.parts.begin(), v.parts.end());
    }
    return make_result(whole, totals, to_rgb, seconds);
}

// The tiled run on the network type Net, with the weights read (as stylize_net).
template <class Net, class... Callbacks>
stylize_result stylize_tiled_net(std::chrono::steady_clock::time_point start, model_weights&& w,
                                 const nst::image& content_input, const std::vector<nst::image>& styles,
                                 const stylize_options& options, const tiling_plan& plan, Callbacks&... callbacks) {
    const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    using T = typename Net::value_type;
    Net net;
    load_model_weights(net, w);
    stylize_options o = options;  // from here on with the convention resolved (convention_of)
    o.weights_preprocessing = options.weights_preprocessing.value_or(w.convention);
    const weights_info weights = w.info;
    w.convs = {};  // the network holds its own copy now
    net.set_precision(o.precision);
    const auto size = content_working_size(content_input, o);
    const nst::image content = resize_image(content_input, size[0], size[1], o.input_limits);
    const std::vector<tensor2<T>> targets = tiled_style_targets(net, styles, style_working_sizes(styles, o), plan, o);
    buffer_pool::instance().release_idle();

    tensor3<T> x = initial_image<T>(content, o);
    const output_image to_rgb{keeps_content_chroma(o) ? &content : nullptr, convention_of(o)};
    const std::vector<image_tile> tiles = tiles_of(plan.rows, plan.cols);
    std::vector<loss_value<T>> tile_values(tiles.size());
    optim_result<T> totals;
    std::string failure;
    // A tile's progress, renumbered through the whole run (a later visit's start is not
    // reported: it repeats the previous visit's last number).
    const auto report = [&](const stylize_progress& p) {
        if (p.iteration == 0 && totals.iterations > 0) return true;
        const stylize_progress whole{totals.iterations + p.iteration, plan.iterations(), p.loss, p.content_loss,
                                     p.style_loss, p.tv_loss, p.best_loss, seconds(), totals.evaluations + p.evaluations,
                                     x, [&] { return to_rgb(x); }, o.size, 0, 1};
        return invoke_callbacks(whole, callbacks...);
    };
    for (std::size_t sweep = 0; sweep < plan.sweeps && totals.reason == stop_reason::max_iterations; ++sweep)
        for (std::size_t i = 0; i < tiles.size() && totals.reason == stop_reason::max_iterations; ++i) {
            const visit_outcome<T> visit = visit_tile(net, x, content, targets, tiles[i], plan.iterations_per_visit, o, report);
            buffer_pool::instance().release_idle();  // windows differ in size: keep no idle blocks
            if (std::isfinite(visit.value.total)) tile_values[i] = visit.value;
            totals.iterations += visit.run.iterations;
            totals.evaluations += visit.run.evaluations;
            if (visit.run.reason == stop_reason::non_finite || visit.run.reason == stop_reason::stopped_by_callback)
                totals.reason = visit.run.reason;
            failure = visit.failure;
        }
    stylize_result result = tiled_result(x, tile_values, totals, to_rgb, seconds());
    result.failure = failure;
    result.weights = weights;
    return result;
}

template <pooling P, class... Callbacks>
stylize_result stylize_tiled_with(const nst::image& content_input, const std::vector<nst::image>& styles,
                                  const stylize_options& o, const tiling_plan& plan, Callbacks&... callbacks) {
    const auto start = std::chrono::steady_clock::now();
    const scoped_threads threads(o.threads);
    weights_options pin;
    pin.expected_sha256 = o.weights_sha256;
    const std::string path = o.weights.empty() ? find_vgg19_weights("", "") : o.weights;
    model_weights weights = read_model_weights(path, pin);
    return with_vgg<float, P>(resolve_model(o, weights.model, path), [&](auto net) {
        return stylize_tiled_net<typename decltype(net)::type>(start, std::move(weights), content_input, styles, o,
                                                               plan, callbacks...);
    });
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
