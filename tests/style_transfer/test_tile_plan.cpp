// Tests of style_transfer/tile_plan.hpp: how a tiled stylisation cuts the image (cores partition
// each axis on multiples of 16, windows fit the tile size), when tiling engages (asked for, or
// only when the untiled estimate exceeds the memory limit; with coarse-to-fine, per scale) and how
// the iterations are spread.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

namespace {

void require_valid_cut(const nst::axis_tiles& t, std::size_t length, std::size_t window, std::size_t halo) {
    REQUIRE(t.cores.size() == t.windows.size());
    REQUIRE(t.cores.front().begin == 0);
    REQUIRE(t.cores.back().end == length);
    for (std::size_t k = 0; k < t.cores.size(); ++k) {
        INFO("tile " << k << " of " << t.cores.size() << ", length " << length << ", window " << window);
        const auto& core = t.cores[k];
        const auto& w = t.windows[k];
        REQUIRE(core.end > core.begin);
        if (k > 0) REQUIRE(core.begin == t.cores[k - 1].end);  // a partition
        REQUIRE(core.begin % 16 == 0);
        REQUIRE(w.size() <= window);
        REQUIRE(w.begin == (core.begin < halo ? 0 : core.begin - halo));  // the whole halo
        REQUIRE(w.end == std::min(length, core.end + halo));
    }
}

nst::image tile_test_image(std::size_t h, std::size_t w) { return nst::image::from_shape({h, w, 3}); }

}  // namespace

TEST_CASE("tile plan: cores partition each axis on multiples of 16 and windows fit the tile", "[tiling]") {
    for (std::size_t window : {128, 256, 512}) {
        const std::size_t halo = nst::detail::halo_for(window);
        REQUIRE(halo % 16 == 0);
        REQUIRE(halo >= 16);
        REQUIRE(window >= 2 * halo + 48);
        for (std::size_t length : {100, 128, 129, 200, 333, 1000, 1600, 4097}) {
            const nst::axis_tiles t = nst::detail::split_axis(length, window, halo);
            require_valid_cut(t, length, window, halo);
            if (length <= window) REQUIRE(t.cores.size() == 1);
        }
    }
    // 1600 px in 512 px tiles: halo 48, cores of about 400 px.
    REQUIRE(nst::detail::halo_for(512) == 48);
    REQUIRE(nst::detail::split_axis(1600, 512, 48).cores.size() == 4);
}

TEST_CASE("tile plan: tiling engages when asked, or by itself only above the memory limit", "[tiling]") {
    const nst::image content = tile_test_image(300, 400), style = tile_test_image(200, 300);
    nst::stylize_options o;
    o.size = 400;
    o.iterations = 500;
    o.memory_limit = std::uint64_t(64) << 30;  // plenty
    REQUIRE(nst::plan_tiling(content, {style}, o).window == 0);

    o.tile = 200;  // asked for: 200 -> 192 (a multiple of 16)
    nst::tiling_plan plan = nst::plan_tiling(content, {style}, o);
    REQUIRE(plan.window == 192);
    REQUIRE(plan.halo == nst::detail::halo_for(192));
    REQUIRE(plan.tiles() == plan.rows.cores.size() * plan.cols.cores.size());
    REQUIRE(plan.tiles() > 1);
    REQUIRE(plan.sweeps == 10);  // 500 / 50
    REQUIRE(plan.iterations_per_visit == 50);
    REQUIRE(plan.iterations() == 500 * plan.tiles());

    o.tile = 512;  // larger than the image: one tile is the whole image, an ordinary run
    REQUIRE(nst::plan_tiling(content, {style}, o).window == 0);

    // Automatic: a limit between the tiled and the untiled estimates engages the largest tile that
    // fits (both with the images given, which the caller holds throughout).
    o.tile = 0;
    const std::vector<std::array<std::size_t, 2>> style_size{{267, 400}};
    const std::uint64_t inputs = nst::input_image_bytes(content, {style});
    const std::uint64_t tiled = nst::estimate_tiled_memory(300, 400, style_size, 256, o) + inputs;
    REQUIRE(nst::estimate_stylize_memory(300, 400, style_size, o) + inputs > tiled);
    o.memory_limit = tiled;
    plan = nst::plan_tiling(content, {style}, o);
    REQUIRE(plan.window == 256);
    // Without the images the limit is below what 256 px tiles need: smaller tiles.
    o.memory_limit = tiled - inputs;
    REQUIRE(nst::plan_tiling(content, {style}, o).window < 256);
    o.memory_limit = tiled;
    plan = nst::plan_tiling(content, {style}, o);
    REQUIRE(plan.window == 256);
    // Below what the smallest tile needs: no plan, and the untiled run refuses as before.
    o.memory_limit = 1 << 20;
    REQUIRE(nst::plan_tiling(content, {style}, o).window == 0);
    // An explicit tile above the limit is refused, naming the tile size and the limit.
    o.tile = 256;
    REQUIRE_THROWS_WITH(nst::plan_tiling(content, {style}, o),
                        Catch::Contains("tiles of 256 px") && Catch::Contains("above the limit of") &&
                            Catch::Contains("use smaller tiles"));
    o.tile = 128;  // the smallest: only the limit can change
    REQUIRE_THROWS_WITH(nst::plan_tiling(content, {style}, o),
                        Catch::Contains("128 px is the smallest tile: raise the memory limit"));
    // An explicit tile that holds the whole image, under a limit the untiled run exceeds: tiled
    // as without the option (it was left untiled, and the run refused).
    o.tile = 512;
    o.memory_limit = tiled;
    REQUIRE(nst::plan_tiling(content, {style}, o).window == 256);
}

TEST_CASE("tile plan: few iterations make two sweeps, none make none, a tile below 128 px is refused",
          "[tiling]") {
    const nst::image content = tile_test_image(300, 400), style = tile_test_image(200, 300);
    nst::stylize_options o;
    o.size = 400;
    o.tile = 192;
    o.iterations = 8;
    nst::tiling_plan plan = nst::plan_tiling(content, {style}, o);
    REQUIRE(plan.sweeps == 2);
    REQUIRE(plan.iterations_per_visit == 4);
    o.iterations = 1;
    plan = nst::plan_tiling(content, {style}, o);
    REQUIRE(plan.sweeps == 1);
    REQUIRE(plan.iterations_per_visit == 1);
    o.iterations = 0;  // one sweep of visits without steps: each tile's loss at the start
    plan = nst::plan_tiling(content, {style}, o);
    REQUIRE(plan.iterations() == 0);
    REQUIRE(plan.sweeps == 1);
    o.tile = 100;
    REQUIRE_THROWS_WITH(nst::validate_options(o, 1), Catch::Contains("tile size") && Catch::Contains("100"));
}

TEST_CASE("tile plan: coarse-to-fine tiles only the scales that need it", "[tiling][scales]") {
    const nst::image content = tile_test_image(300, 400), style = tile_test_image(200, 300);
    nst::stylize_options o;
    o.size = 400;
    o.iterations = 100;
    o.multiscale = true;  // 141, 200, 283, 400 px
    const std::vector<nst::scale_step> steps = nst::plan_scales(o);
    REQUIRE(steps.size() == 4);
    REQUIRE(steps[2].size == 283);

    // Asked for tiles of 256 px: the scales that fit in one (141, 200) run whole.
    o.tile = 256;
    std::vector<nst::tiling_plan> tiling = nst::plan_scale_tiling(content, {style}, o);
    REQUIRE(tiling.size() == 4);
    REQUIRE(tiling[0].window == 0);
    REQUIRE(tiling[1].window == 0);
    REQUIRE(tiling[2].window == 256);  // 283 x 212
    REQUIRE(tiling[3].window == 256);
    // Each tiled scale spreads its own share of the budget; plan_tiling is the last scale's.
    REQUIRE(tiling[3].sweeps == std::clamp<std::size_t>(steps[3].iterations / 50, 2, 10));
    REQUIRE(tiling[3].iterations_per_visit == steps[3].iterations / tiling[3].sweeps);
    REQUIRE(nst::plan_tiling(content, {style}, o).iterations() == tiling[3].iterations());
    std::size_t total = steps[0].iterations + steps[1].iterations + tiling[2].iterations() + tiling[3].iterations();
    REQUIRE(nst::planned_iterations(content, {style}, o) == total);
    REQUIRE(nst::planned_iterations(content, {style}, o) > nst::planned_iterations(o));

    // Priced for a time-left estimate: each scale's steps at its image's cost, the tiled ones at
    // their tiles' average window, against the output size's image (300 x 400).
    const std::vector<nst::priced_steps> priced = nst::planned_step_costs(content, {style}, o);
    REQUIRE(priced.size() == 4);
    std::size_t priced_total = 0;
    for (const nst::priced_steps& p : priced) priced_total += p.steps;
    REQUIRE(priced_total == total);
    REQUIRE(priced[0].steps == steps[0].iterations);
    REQUIRE(priced[0].cost == Approx(nst::relative_pixel_cost(106.0 * 141.0, 300.0 * 400.0)));
    REQUIRE(priced[1].cost == Approx(nst::relative_pixel_cost(150.0 * 200.0, 300.0 * 400.0)));
    REQUIRE(priced[3].steps == tiling[3].iterations());
    double window_pixels = 0;
    for (const nst::tile_span& r : tiling[3].rows.windows)
        for (const nst::tile_span& c : tiling[3].cols.windows) window_pixels += double(r.size() * c.size());
    window_pixels /= double(tiling[3].tiles());
    REQUIRE(window_pixels < 300.0 * 400.0);
    REQUIRE(priced[3].cost == Approx(nst::relative_pixel_cost(window_pixels, 300.0 * 400.0)));
    REQUIRE(priced[0].cost < priced[1].cost);
    REQUIRE(priced[3].cost < 1.0);

    // Automatic: a limit that 283 px meets whole and 400 px only in tiles tiles the last scale alone.
    o.tile = 0;
    const auto style_sizes = [&](std::size_t side) { return nst::scaled_size(200, 300, side); };
    const std::uint64_t inputs = nst::input_image_bytes(content, {style});
    const std::uint64_t at_283 = nst::estimate_stylize_memory(212, 283, {style_sizes(283)}, o) + inputs;
    o.memory_limit = std::max(at_283, nst::estimate_tiled_memory(300, 400, {style_sizes(400)}, 256, o) + inputs);
    REQUIRE(nst::estimate_stylize_memory(300, 400, {style_sizes(400)}, o) + inputs > o.memory_limit);
    tiling = nst::plan_scale_tiling(content, {style}, o);
    REQUIRE(tiling[0].window == 0);
    REQUIRE(tiling[2].window == 0);
    REQUIRE(tiling[3].window >= 256);
    REQUIRE(nst::any_tiled(tiling));
    total = steps[0].iterations + steps[1].iterations + steps[2].iterations + tiling[3].iterations();
    REQUIRE(nst::planned_iterations(content, {style}, o) == total);

    // Explicit tiles above the limit: the error names the scale.
    o.tile = 256;
    o.memory_limit = at_283;
    REQUIRE_THROWS_WITH(nst::plan_scale_tiling(content, {style}, o),
                        Catch::Contains("at scale ") && Catch::Contains("tiles of 256 px"));
}
