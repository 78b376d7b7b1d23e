// Coarse-to-fine plans: the sizes a stylisation optimises at (ascending longer sides, the last
// being the output size) and how the iteration budget is split among them.
//
// The budget `iterations` keeps its single-scale meaning: the plan costs about as much as that
// many steps at the output size (relative_step_cost). The scales below the output share a small
// part of that cost (coarse_share) equally, so each gets more steps the cheaper it is (never more
// than the whole budget), and the output size gets the rest.
// Large-scale structure forms in the cheap steps; the output size, where the loss is measured,
// keeps most of the budget: measured at 128 -> 256 px with 150 steps (tubingen + starry_night),
// from the content a third of the cost spent below ended above the single-scale loss, a tenth
// below it (a twentieth since, see layout_coarse_share).
// What the scales below buy at the output size (benchmarks/coarse_to_fine.sh, tubingen +
// starry_night, default weights, L-BFGS): the upsampled start lacks the finest octave of the
// texture (its style loss is 20-200x the previous scale's last one), which the output size rebuilds
// in ~12 steps; what decides the end is the content term (85-87% of the final loss). With the same
// weights the coarse scales give up more content than the output size would (a small image fits the
// style worse), and the output size spends its steps winning it back: 512 px, 150 steps ended 1.1%
// above the single-scale loss, 1024 px, 100 steps 0.9% above (a third or a tenth of the cost below,
// pyramid or two scales, half the upsampled change or added fine noise: no better). With the
// content weight x4 below the output size (coarse_content_factor; x8 since, see there) the lead
// over single-scale at equal output-size steps grows instead of fading (512 px: 8 steps after 15, 12 after 135; 1024 px:
// 12 after 80), about what the scales below cost (16 output-size evaluations at 512 px): the runs
// end at 0.992x (256 px), 1.001x (512 px) and 0.997x (1024 px, reached at 103% of the single-scale
// time) the single-scale loss. x2 and x8 gave 1.008x and 1.004x at 512 px; x4 with a twentieth of
// the cost below 1.004x; 500 steps at 512 px (x1) 1.002x. Those were single runs, which any change
// of their path moves by such fractions; from five slightly different starts each (benchmarks/
// coarse_to_fine.sh SEEDED=1, see coarse_content_factor) x4 ended above the single-scale loss from
// every one (mean 1.0039x), x8 with the fresh-start credit (split_iterations) 0.9982-1.0016x
// (mean 1.0006x). Not a way to save time.
// Carrying L-BFGS's ten (s, y) pairs over a scale change (both upsampled bilinearly, y rescaled so
// that the newest pair's s'y / y'y is the first step's at the new size; a throwaway build of commit
// b0ec5f1, one thread) changed nothing: 256 px ended 0.1%, 512 px 0.01% above the runs without
// it, the output-size losses within 2% of theirs from the tenth step on. What the output size
// rebuilds first, the finest octave the upsampled start lacks, is not in the coarse pairs, and
// ten pairs of its own replace them by then.
// Rebuilding that octave cheaply first (a throwaway build of 702e4b5, one run each): at each larger
// scale, 10 L-BFGS steps on the style terms of relu1_1..relu2_1 (or ..relu3_1) and TV alone, whose
// evaluations stop early in the network (0.1-0.2 of a full one), then the full objective. From the
// content at 512 px the output size started far ahead (after 15 steps 0.89x the loss without it,
// with relu3_1) but the lead faded to 0.25% and the run ended 1.0052x (relu2_1) and 1.0023x (relu3_1)
// the single-scale loss (1.0049x without); from noise it reached the single-scale loss 3-5 output-
// size steps sooner, about what the shallow steps had cost (1.4-1.9 s, a full step ~0.33 s).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "../core/isa_namespace.hpp"
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

/*  Cost of one step at longer side `size` as a share of one at `last`: the pixel count plus a fixed
    part worth 128 x 128 pixels: small images keep the cores less busy. Measured: two threads on a
    2-core Zen 5 in `nst` runs (benchmarks/coarse_to_fine.sh logs, 4:3 images, the time per
    evaluation within each size), 0.044-0.050 s at 128 px, 0.106-0.119 s at 256 px and 0.35-0.39 s
    at 512 px (commit 626345c, 512 px runs), 0.043, 0.095, 0.343 and 1.30 s at 128-1024 px (one
    1024 px run): 128 px 0.12-0.14 of 512 px and 0.033 of 1024 px, 256 px 0.29-0.31 and 0.073,
    512 px 0.26 of 1024 px; this prices them 0.118, 0.031, 0.294, 0.077 and 0.262. Earlier, two
    threads on a 2-core Zen 3 (AVX2) and before small images got faster on the Zen 5 (Winograd from
    12 tiles, the implicit GEMM's output split), a fixed part of ~2 x 128 x 128 fitted; pricing
    the scales below the output above their cost made coarse-to-fine runs shorter than single-scale
    ones (0.89-1.02x the time) with fewer steps below than the plan meant to buy. */
inline double relative_step_cost(std::size_t size, std::size_t last) {
    constexpr double fixed = 128.0 * 128.0;
    return (double(size) * double(size) + fixed) / (double(last) * double(last) + fixed);
}

/*  The share of the cost below the output size from a start that holds the photo's layout: the
    plan's default (coarse_share, split_iterations). From the content, five starts each (tubingen +
    starry_night, 512 px, 150 steps, 128,256,512, --init-noise 0.01 --seed 1..5, a throwaway build
    of c5cd18f with the constants read from the environment), against the single-scale loss from
    the same start: a tenth priced as before (relative_step_cost's fixed part 2 x 128 x 128)
    0.9982-1.0016x (mean 1.0004), priced as measured 0.9964-1.0018x (0.9995), a fourteenth
    0.9951-1.0001x (0.9986), a twentieth 0.9963-0.9997x (0.9981; seeds 6..10 too: 0.9948-1.0014x,
    mean over the ten 0.9979, 8 of 10 below), a thirtieth 0.9956-1.0009x (0.9975): flat from a
    thirtieth to a fourteenth, and each step moved to the output size is worth ~0.05% there. */
inline constexpr double layout_coarse_share = 0.05;

/*  The share of the budget's cost that the scales below the output size get together: a twentieth
    when the start already holds the photo's layout (init content or image), a quarter from white
    noise (init random), where the layout has yet to form and forms far more cheaply at low
    resolution; a start blended with noise (init_noise) in proportion. From noise, measured with
    benchmarks/coarse_to_fine.sh (tubingen + starry_night, L-BFGS, 150 steps, 2-core Zen 5): a
    quarter ended at 0.903x the single-scale loss at 512 px and reached it at 60% of its cost,
    against 0.936x and 73% with a tenth; 256 px 0.959x (80%) against 0.985x (96%); 1024 px (100
    steps) 0.79x. With a throwaway switch of the share, same inputs: 1024 px 0.80x with a tenth,
    two fifths or more no better anywhere. From the content a third ended above the single-scale
    loss, a tenth below (see the file comment), a twentieth lower still (layout_coarse_share). */
inline double coarse_share(const stylize_options& o) {
    constexpr double from_noise = 0.25;
    const double noise = o.init == init_kind::random ? 1.0 : o.init_noise;
    return layout_coarse_share + (from_noise - layout_coarse_share) * noise;
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
    512 px), so the optimizer gives up more content there than at the output size, and the
    output size then spends its steps winning the content back (see the file comment). From noise
    too (a throwaway build of e4f7ace, tubingen + starry_night, 512 px, 150 steps, 128,256,512):
    x1, x2, x4, x8, x16 ended at 0.944, 0.918, 0.902, 0.894, 0.900x the single-scale loss and
    reached it after 77, 62, 53, 52, 55 steps at the output size. From the content, five starts
    each (--init-noise 0.01, --seed 1..5; a throwaway build of 86db804, 512 px, 150 steps,
    coarse_to_fine.sh SEEDED=1): x4 ended at 1.0018-1.0054x (mean 1.0039), x8 at 0.9998-1.0031x
    (mean 1.0021, lower than x4 from every one of the five starts), x16 at 0.9982-1.0048x (mean
    1.0017) the single-scale loss from the same start: x8. */
inline double coarse_content_factor(std::size_t size, std::size_t last) {
    constexpr double coarse = 8.0;
    return size < last ? coarse : 1.0;
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
