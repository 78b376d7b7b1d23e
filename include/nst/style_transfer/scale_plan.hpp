// Coarse-to-fine plans: the sizes a stylisation optimises at (ascending longer sides, the last
// being the output size) and how the iteration budget is split among them.
//
// The budget `iterations` keeps its single-scale meaning: the plan costs about as much as that
// many steps at the output size (relative_step_cost). The scales below the output share a small
// part of that cost (coarse_share) equally, so each gets more steps the cheaper it is (never more
// than the whole budget), and the output size gets the rest.
// Why the output size keeps most of it: large-scale structure forms in the cheap steps, but the
// upsampled start lacks the texture's finest octave, which only the output size can rebuild, and
// from the photo what decides the end is the content term (85% of the final loss at 512 px), which
// a small image fits worse. So from the photo a plan is ahead of a single-scale run by about what
// its scales below cost, no more; from noise, whose layout has yet to form, by far more.
// Each constant below was chosen by measurement: benchmarks/coarse_to_fine.md has the runs, and
// the plans and ideas that did no better.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../models/layer_aliases.hpp"
#include "options.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

struct scale_step {
    std::size_t size;        // longer side in pixels
    std::size_t iterations;  // optimizer steps at this size
};

/*  The automatic pyramid: size, size / sqrt(2), size / 2, ... (rounded) down to the last one
    that is still >= smallest, in ascending order. Example: 512 -> 128, 181, 256, 362, 512;
    a size below smallest * sqrt(2) gives {size} alone. */
inline std::vector<std::size_t> multiscale_sizes(std::size_t size, std::size_t smallest = 128) {
    std::vector<std::size_t> sizes{size};
    for (double s = double(size) / std::sqrt(2.0); std::lround(s) >= long(smallest); s /= std::sqrt(2.0))
        sizes.push_back(std::size_t(std::lround(s)));
    std::reverse(sizes.begin(), sizes.end());
    return sizes;
}

/*  Cost of one step at longer side `size` as a share of one at `last` (or of one on `pixels` as a
    share of one on `last_pixels`): the pixel count plus a fixed part worth 128 x 128 pixels, as
    small images keep the cores less busy. Fitted to the time per evaluation in
    benchmarks/coarse_to_fine.sh logs on a 2-core Zen 5 (128 px: 0.12-0.14 of a 512 px step,
    priced 0.118; benchmarks/coarse_to_fine.md). */
inline double relative_pixel_cost(double pixels, double last_pixels) {
    constexpr double fixed = 128.0 * 128.0;
    return (pixels + fixed) / (last_pixels + fixed);
}
inline double relative_step_cost(std::size_t size, std::size_t last) {
    return relative_pixel_cost(double(size) * double(size), double(last) * double(last));
}

/*  The share of the cost below the output size from a start that holds the photo's layout: a
    twentieth (coarse_share). Five starts each at 512 px: flat from a thirtieth to a fourteenth,
    a tenth higher; a third (256 px) ended above the single-scale loss (benchmarks/
    coarse_to_fine.md). */
inline constexpr double layout_coarse_share = 0.05;

// How much of the start is white noise: 1 from init random, else the blend init_noise.
inline double start_noise_share(const stylize_options& o) {
    return o.init == init_kind::random ? 1.0 : o.init_noise;
}

/*  The share of the budget's cost that the scales below the output size get together:
    layout_coarse_share when the start already holds the photo's layout (init content or image),
    a fifth from white noise (init random), where the layout has yet to form and forms far more
    cheaply at low resolution; a start blended with noise (init_noise) in proportion. From noise,
    with the finer content layers below (content_terms_at_scale), a fifth passed the single-scale
    loss at 38-42% of its cost with the three sample paintings at 512 px (a quarter at 42-45%) and
    ended within -0.7..+0.3% of a quarter's loss; less than a fifth ended higher (a tenth by 1-3%)
    (benchmarks/coarse_to_fine.md). */
inline double coarse_share(const stylize_options& o) {
    constexpr double from_noise = 0.2;
    return layout_coarse_share + (from_noise - layout_coarse_share) * start_noise_share(o);
}

/*  Evaluations a fresh L-BFGS start spends on its first step beyond the one a step whose length is
    carried over from the previous scale takes: a unit first step backtracks, 4 evaluations against
    1 (measured: tubingen at 256 and 1024 px, from the content and from noise, and the output size
    of every coarse-to-fine run in benchmarks/coarse_to_fine.sh). A single-scale run pays them at
    the output size, a coarse-to-fine run at its smallest scale only: the plan gives what that
    saves to the output size (split_iterations' start_credit), so the run still costs about what
    the single-scale one does. */
inline constexpr double lbfgs_fresh_start_evaluations = 3.0;

/*  Splits `budget` steps over ascending sizes, the scales below the last getting `coarse` of the
    cost (see the file comment), and the last one, when a scale below gets steps, also
    start_credit x (1 - the first such scale's relative cost) (see lbfgs_fresh_start_evaluations).
    requires: sizes non-empty and ascending, every size >= 1; 0 <= coarse < 1; start_credit >= 0.
    ensures:  one step per size with a positive count, plus always the last size (which may get
              0 steps only when budget is 0); the sum over steps of iterations *
              relative_step_cost(size, last) is budget (plus the credit) within rounding; no step
              gets more than budget iterations. */
inline std::vector<scale_step> split_iterations(const std::vector<std::size_t>& sizes, std::size_t budget,
                                                double coarse = layout_coarse_share, double start_credit = 0.0) {
    const double each = sizes.size() > 1 ? coarse * double(budget) / double(sizes.size() - 1) : 0.0;
    std::vector<scale_step> plan;
    double spent = 0;  // in steps at the last size
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
        const double cost = relative_step_cost(sizes[i], sizes.back());
        const auto steps = std::min(budget, std::size_t(std::floor(each / cost)));
        if (steps == 0) continue;
        plan.push_back({sizes[i], steps});
        spent += double(steps) * cost;
    }
    const double credit = plan.empty() ? 0.0 : start_credit * (1.0 - relative_step_cost(plan.front().size, sizes.back()));
    const double rest = std::max(0.0, double(budget) - spent + credit);
    plan.push_back({sizes.back(), std::min(budget, std::size_t(std::lround(rest)))});
    return plan;
}

/*  The sizes a run asks for, before the budget is split (which may leave some out): options.scales,
    or the multiscale pyramid up to options.size, or options.size alone. Every one of them is checked
    (big enough for the network, within the memory limit) whether or not it gets steps, so whether
    options are accepted does not depend on the budget. */
inline std::vector<std::size_t> requested_scales(const stylize_options& o) {
    return !o.scales.empty() ? o.scales : o.multiscale ? multiscale_sizes(o.size) : std::vector<std::size_t>{o.size};
}

/*  The plan of a run: requested_scales with options.iterations split over them (coarse_share of
    the cost below the last; with L-BFGS the output size also gets the fresh start's evaluations
    back, lbfgs_fresh_start_evaluations).
    requires: validate_options(o, ...) accepted o. */
inline std::vector<scale_step> plan_scales(const stylize_options& o) {
    const double credit = o.optimizer == optimizer_kind::lbfgs ? lbfgs_fresh_start_evaluations : 0.0;
    return split_iterations(requested_scales(o), o.iterations, coarse_share(o), credit);
}

// Optimizer steps over the whole plan (what a progress display counts to).
inline std::size_t planned_iterations(const stylize_options& o) {
    std::size_t total = 0;
    for (const scale_step& step : plan_scales(o)) total += step.iterations;
    return total;
}

/*  How much the content weight is multiplied by at a scale below the output size `last` (1 at
    `last`): the coarse scales' optimum, upsampled, must stay one the output size can use. With the
    same weights a small image fits the style worse (at 128 px its style loss stays ~3x that at
    512 px), so the coarse scales would give up content that the output size then spends its
    steps winning back. x8: from noise the lowest of x1-x16; from the content (five starts) below
    x4 from every start and as low as x16 on average, with less spread (benchmarks/
    coarse_to_fine.md). */
inline double coarse_content_factor(std::size_t size, std::size_t last) {
    constexpr double coarse = 8.0;
    return size < last ? coarse : 1.0;
}

/*  The layer a content term on `layer` uses at a scale below the output size `last`: one VGG
    block shallower per octave below (relu4_2 at 512 px -> relu3_2 at 256 px, relu2_2 at 128 px;
    octaves rounded, block 1 the shallowest, blocks 1-2 having two convolutions). Each block halves
    the grid, so the scale fits the photo on a grid as fine, over the image, as the output size's.
    Names nst does not know as reluB_I / convB_I / poolB are returned unchanged. */
inline std::string content_layer_at_scale(const std::string& layer, std::size_t size, std::size_t last) {
    if (size >= last || size == 0) return layer;
    const long octaves = std::lround(std::log2(double(last) / double(size)));
    const std::string name = canonical_layer_name(layer);
    for (const std::string_view kind : {"relu", "conv", "pool"}) {
        if (name.compare(0, kind.size(), kind) != 0) continue;
        const auto [block, after] = detail::read_layer_number(name, kind.size());
        if (block == 0) return layer;
        const std::size_t shallower = std::size_t(std::max(1L, long(block) - octaves));
        if (kind == "pool") return after == name.size() ? "pool" + std::to_string(shallower) : layer;
        if (after >= name.size() || name[after] != '_') return layer;
        const auto [conv, end] = detail::read_layer_number(name, after + 1);
        if (conv == 0 || end != name.size()) return layer;
        const std::size_t convs = shallower <= 2 ? std::min<std::size_t>(conv, 2) : conv;
        return std::string(kind) + std::to_string(shallower) + "_" + std::to_string(convs);
    }
    return layer;
}

/*  The content terms of a scale `size` below the output size: layers and their weights (as in
    stylize_options). From a start that is mostly noise (start_noise_share >= 1/2) each layer keeps
    half its weight and gives the other half to its content_layer_at_scale, else the output size's
    own terms. From noise the output size otherwise spends some 50 steps fitting the photo on its
    finer grid; with the finer grid below, it reached the single-scale loss up to 14 of them
    sooner (512 px). The finer layer alone did as well with starry_night but ended higher with
    the_scream; from the content neither did better (benchmarks/coarse_to_fine.md). */
struct content_terms {
    std::vector<std::string> layers;
    std::vector<double> weights;  // empty: 1 / layers.size() each
};

inline content_terms content_terms_at_scale(const stylize_options& o, std::size_t size) {
    if (start_noise_share(o) < 0.5 || size >= o.size) return {o.content_layers, o.content_layer_weights};
    content_terms terms;
    for (std::size_t k = 0; k < o.content_layers.size(); ++k) {
        const std::string& layer = o.content_layers[k];
        const double weight = o.content_layer_weights.empty() ? 1.0 / double(o.content_layers.size())
                                                              : o.content_layer_weights[k];
        const std::string finer = content_layer_at_scale(layer, size, o.size);
        if (finer == layer) {
            terms.layers.push_back(layer), terms.weights.push_back(weight);
            continue;
        }
        terms.layers.insert(terms.layers.end(), {layer, finer});
        terms.weights.insert(terms.weights.end(), {weight / 2, weight / 2});
    }
    return terms;
}

/*  How much the content and TV weights are multiplied by at a working longer side `size` when
    stylize_options::size_invariant is set: (512 / size)^2. Those terms are sums over pixels
    (content: over activations, whose count follows the pixels), the style term is not, so this
    keeps their balance what it is at 512 px, where the factor is 1. */
inline double size_invariant_factor(std::size_t size) {
    constexpr double reference = 512.0;
    return (reference / double(size)) * (reference / double(size));
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
