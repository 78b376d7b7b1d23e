// Coarse-to-fine plans (style_transfer/scale_plan.hpp) and the checks of the scale options.
#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

namespace {

using sizes_t = std::vector<std::size_t>;

// Cost of a plan in steps at its last size.
double plan_cost(const std::vector<nst::scale_step>& plan) {
    double cost = 0;
    for (const auto& step : plan) cost += double(step.iterations) * nst::relative_step_cost(step.size, plan.back().size);
    return cost;
}

std::string scale_error(const nst::stylize_options& o) {
    try {
        nst::validate_options(o, 1);
    } catch (const nst::invalid_argument& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("resolve_multiscale: the pyramid starts where every image is large enough for the network",
          "[scale_plan]") {
    nst::stylize_options o;
    o.size = 512;
    o.multiscale = true;
    const std::size_t min_side = nst::detail::min_input_side(o);
    const nst::image photo({300, 400, 3}), panorama({100, 1000, 3}), scroll({1200, 100, 3});
    // An ordinary photo and style: the whole pyramid.
    nst::stylize_options r = nst::resolve_multiscale(o, photo, {photo});
    CHECK_FALSE(r.multiscale);
    CHECK(r.scales == nst::multiscale_sizes(512));
    // A 10:1 panorama: 128 px would be 128 x 13; the pyramid starts at the first size it fits.
    const auto fits = [&](const nst::image& img, std::size_t longer) {
        const auto s = nst::scaled_size(img.shape(0), img.shape(1), longer);
        return s[0] >= min_side && s[1] >= min_side;
    };
    for (const auto& [content, style] : {std::pair{panorama, photo}, std::pair{photo, scroll}}) {
        r = nst::resolve_multiscale(o, content, {style});
        REQUIRE(r.scales.size() >= 1);
        REQUIRE(r.scales.size() < nst::multiscale_sizes(512).size());
        CHECK(r.scales.back() == 512);
        for (std::size_t s : r.scales) CHECK((fits(content, s) && fits(style, s)));
        const std::size_t dropped = nst::multiscale_sizes(512)[nst::multiscale_sizes(512).size() - r.scales.size() - 1];
        CHECK_FALSE((fits(content, dropped) && fits(style, dropped)));
        CHECK(nst::planned_iterations(content, {style}, o) == nst::planned_iterations(r));  // one plan everywhere
    }
    // The style scale counts: a style at half the size is too small up to larger sizes.
    const std::size_t first_at_full = nst::resolve_multiscale(o, photo, {scroll}).scales.front();
    o.style_scale = 0.5;
    CHECK(nst::resolve_multiscale(o, photo, {scroll}).scales.front() > first_at_full);
    // Explicit scales and single-scale options are the caller's.
    o.multiscale = false;
    CHECK(nst::resolve_multiscale(o, panorama, {photo}).scales.empty());
    o.scales = {128, 512};
    CHECK(nst::resolve_multiscale(o, panorama, {photo}).scales == sizes_t{128, 512});
}

TEST_CASE("multiscale_sizes: a sqrt(2) pyramid from >= 128 px up to the size", "[scale_plan]") {
    REQUIRE(nst::multiscale_sizes(512) == sizes_t{128, 181, 256, 362, 512});
    REQUIRE(nst::multiscale_sizes(256) == sizes_t{128, 181, 256});
    REQUIRE(nst::multiscale_sizes(1000).front() >= 128);
    REQUIRE(nst::multiscale_sizes(1000).front() < 182);
    REQUIRE(nst::multiscale_sizes(1000).back() == 1000);
    REQUIRE(nst::multiscale_sizes(150) == sizes_t{150});  // 150 / sqrt(2) < 128
    REQUIRE(nst::multiscale_sizes(64) == sizes_t{64});
    REQUIRE(nst::multiscale_sizes(100, 32) == sizes_t{35, 50, 71, 100});
    const sizes_t big = nst::multiscale_sizes(4096);
    for (std::size_t i = 1; i < big.size(); ++i) {
        REQUIRE(big[i] > big[i - 1]);
        REQUIRE(double(big[i]) / double(big[i - 1]) == Approx(std::sqrt(2.0)).epsilon(0.01));
    }
}

TEST_CASE("split_iterations: same cost as the budget at the last size, more steps where cheap", "[scale_plan]") {
    // 128 then 256 with 150: a step at 128 px costs (128^2 + 128^2) / (256^2 + 128^2) = 0.4 of
    // one at 256 px; a tenth of the cost below (15 steps at 256 px) buys 37 steps there (14.8),
    // the rest is 135.2 -> 135; the default twentieth 18 (7.2), the rest 142.8 -> 143.
    REQUIRE(nst::relative_step_cost(128, 256) == Approx(0.4));
    REQUIRE(nst::relative_step_cost(256, 256) == 1.0);
    const auto two = nst::split_iterations({128, 256}, 150, 0.1);
    REQUIRE(two.size() == 2);
    REQUIRE(two[0].size == 128);
    REQUIRE(two[0].iterations == 37);
    REQUIRE(two[1].size == 256);
    REQUIRE(two[1].iterations == 135);
    const auto by_default = nst::split_iterations({128, 256}, 150);
    REQUIRE(by_default[0].iterations == 18);
    REQUIRE(by_default[1].iterations == 143);
    REQUIRE(plan_cost(two) == Approx(150).margin(1));

    const auto five = nst::split_iterations(nst::multiscale_sizes(512), 500);
    REQUIRE(five.size() == 5);
    REQUIRE(plan_cost(five) == Approx(500).margin(1));
    for (std::size_t i = 0; i < five.size(); ++i) {
        REQUIRE(five[i].iterations <= 500);
        // Below the last size: the cheaper the scale, the more steps.
        if (i > 0 && i + 1 < five.size()) REQUIRE(five[i].iterations <= five[i - 1].iterations);
    }
    REQUIRE(five.back().iterations >= 470);
    REQUIRE(five.front().iterations > five.back().iterations / 10);  // 128 px: 53 steps, 512 px: 476

    // One size: the whole budget. A zero budget: the last size only, evaluated once.
    const auto one = nst::split_iterations({512}, 300);
    REQUIRE(one.size() == 1);
    REQUIRE(one[0].iterations == 300);
    const auto none = nst::split_iterations({128, 256}, 0);
    REQUIRE(none.size() == 1);
    REQUIRE(none[0].size == 256);
    REQUIRE(none[0].iterations == 0);
    // The whole budget caps a scale's steps (20 px costs 0.004 of a step at 2048 px: 4.4 / 0.004 = 1100).
    const auto capped = nst::split_iterations({20, 2048}, 44, 0.1);
    REQUIRE(capped[0].iterations == 44);
    // A tiny budget drops the scales it cannot give a step to, never the last.
    const auto tiny = nst::split_iterations({500, 510, 512}, 1);
    REQUIRE(tiny.back().size == 512);
    REQUIRE(tiny.back().iterations == 1);
}

TEST_CASE("split_iterations: the start credit goes to the last size, only after a scale below", "[scale_plan]") {
    // 128 then 256 with 150: 37 steps at 128 px as without the credit; the last size gets
    // 135.2 + 3 x (1 - 0.4) = 137.
    const auto two = nst::split_iterations({128, 256}, 150, 0.1, 3.0);
    REQUIRE(two.size() == 2);
    REQUIRE(two[0].iterations == 37);
    REQUIRE(two[1].iterations == 137);
    // No scale below got a step: no fresh start was saved, the budget alone.
    REQUIRE(nst::split_iterations({500, 510, 512}, 1, 0.1, 3.0).back().iterations == 1);
    REQUIRE(nst::split_iterations({512}, 300, 0.1, 3.0)[0].iterations == 300);
    // Never more than the budget.
    REQUIRE(nst::split_iterations({20, 2048}, 4, 0.1, 3.0).back().iterations <= 4);
}

TEST_CASE("plan_scales: the start credit with L-BFGS only", "[scale_plan]") {
    nst::stylize_options o;
    o.scales = {128, 256};
    o.iterations = 150;
    const auto lbfgs = nst::plan_scales(o);
    o.optimizer = nst::optimizer_kind::adam;  // one evaluation per step from the first on
    const auto adam = nst::plan_scales(o);
    REQUIRE(lbfgs[0].iterations == adam[0].iterations);
    REQUIRE(lbfgs[1].iterations == adam[1].iterations + 2);  // 142.8 + 1.8 -> 145 against 143
}

TEST_CASE("plan_scales follows scales, multiscale or size, planned_iterations sums it", "[scale_plan]") {
    nst::stylize_options o;
    o.iterations = 100;
    REQUIRE(nst::plan_scales(o).size() == 1);
    REQUIRE(nst::plan_scales(o)[0].size == 512);
    REQUIRE(nst::planned_iterations(o) == 100);
    o.scales = {256, 512};
    const auto plan = nst::plan_scales(o);
    REQUIRE(plan.size() == 2);
    REQUIRE(plan[0].size == 256);
    REQUIRE(nst::planned_iterations(o) == plan[0].iterations + plan[1].iterations);
    o.scales.clear();
    o.multiscale = true;
    REQUIRE(nst::plan_scales(o).size() == 5);
}

TEST_CASE("coarse_share: a random start gives the scales below a larger share of the cost", "[scale_plan]") {
    nst::stylize_options o;
    o.scales = {128, 256, 512};
    o.iterations = 150;
    REQUIRE(nst::coarse_share(o) == Approx(0.05));
    const auto from_content = nst::plan_scales(o);
    o.init = nst::init_kind::random;
    REQUIRE(nst::coarse_share(o) == Approx(0.2));
    const auto from_noise = nst::plan_scales(o);
    // The same cost at the output size, more of it below: 31 -> 127 steps at 128 px, 12 -> 51 at
    // 256, 142.8 -> 120.1 at 512 (each with L-BFGS's fresh-start credit, 3 x (1 - 0.118) = 2.6
    // steps, on top).
    const double credit = nst::lbfgs_fresh_start_evaluations * (1 - nst::relative_step_cost(128, 512));
    REQUIRE(plan_cost(from_content) == Approx(150 + credit).margin(1));
    REQUIRE(plan_cost(from_noise) == Approx(150 + credit).margin(1));
    REQUIRE(from_noise.size() == 3);
    REQUIRE(from_noise[0].iterations > 2 * from_content[0].iterations);
    REQUIRE(from_noise[1].iterations > 2 * from_content[1].iterations);
    REQUIRE(from_noise[2].iterations < from_content[2].iterations);
    REQUIRE(from_noise[2].iterations == Approx(0.8 * 150 + credit).margin(1));
    // A start blended with noise lies between; an init image is a layout, like the content.
    o.init = nst::init_kind::content;
    o.init_noise = 0.5;
    REQUIRE(nst::coarse_share(o) == Approx(0.125));
    o.init = nst::init_kind::image;
    o.init_noise = 0;
    REQUIRE(nst::coarse_share(o) == Approx(0.05));
}

TEST_CASE("requested_scales keeps the scales the budget leaves out", "[scale_plan]") {
    nst::stylize_options o;
    o.size = 256;
    REQUIRE(nst::requested_scales(o) == sizes_t{256});
    o.scales = {32, 128, 256};
    o.iterations = 1;
    REQUIRE(nst::plan_scales(o).size() == 1);  // only the last size gets the one step
    REQUIRE(nst::requested_scales(o) == sizes_t{32, 128, 256});
    o.scales.clear();
    o.multiscale = true;
    REQUIRE(nst::requested_scales(o) == sizes_t{128, 181, 256});
}

TEST_CASE("size_invariant_factor is 1 at 512 px and follows the pixel count", "[scale_plan]") {
    REQUIRE(nst::size_invariant_factor(512) == 1.0);
    REQUIRE(nst::size_invariant_factor(256) == 4.0);
    REQUIRE(nst::size_invariant_factor(1024) == 0.25);
}

TEST_CASE("coarse_content_factor raises the content weight below the output size only", "[scale_plan]") {
    REQUIRE(nst::coarse_content_factor(512, 512) == 1.0);
    REQUIRE(nst::coarse_content_factor(1024, 1024) == 1.0);
    REQUIRE(nst::coarse_content_factor(128, 512) > 1.0);
    REQUIRE(nst::coarse_content_factor(256, 512) > 1.0);
    REQUIRE(nst::coarse_content_factor(511, 512) > 1.0);
}

TEST_CASE("content_layer_at_scale: one block shallower per octave below the output size", "[scale_plan]") {
    using nst::content_layer_at_scale;
    // At the output size (and above) every name is kept as given.
    REQUIRE(content_layer_at_scale("relu4_2", 512, 512) == "relu4_2");
    REQUIRE(content_layer_at_scale("block4_conv2", 512, 512) == "block4_conv2");
    // An octave per block, rounded: 362 px is half an octave below 512 (rounds up to one).
    REQUIRE(content_layer_at_scale("relu4_2", 256, 512) == "relu3_2");
    REQUIRE(content_layer_at_scale("relu4_2", 362, 512) == "relu3_2");
    REQUIRE(content_layer_at_scale("relu4_2", 400, 512) == "relu4_2");
    REQUIRE(content_layer_at_scale("relu4_2", 128, 512) == "relu2_2");
    REQUIRE(content_layer_at_scale("relu4_2", 128, 1024) == "relu1_2");
    REQUIRE(content_layer_at_scale("conv5_4", 256, 512) == "conv4_4");
    // Blocks 1 and 2 have two convolutions; block 1 is the shallowest.
    REQUIRE(content_layer_at_scale("relu3_4", 256, 512) == "relu2_2");
    REQUIRE(content_layer_at_scale("relu2_1", 64, 512) == "relu1_1");
    REQUIRE(content_layer_at_scale("pool4", 128, 512) == "pool2");
    REQUIRE(content_layer_at_scale("pool1", 128, 512) == "pool1");
    // Keras' names are resolved first (block4_conv2 is relu4_2).
    REQUIRE(content_layer_at_scale("block4_conv2", 256, 512) == "relu3_2");
    // Names of no known form are left for the model's lookup to judge.
    REQUIRE(content_layer_at_scale("fc6", 256, 512) == "fc6");
    REQUIRE(content_layer_at_scale("relu4", 256, 512) == "relu4");
    REQUIRE(content_layer_at_scale("relu4_x", 256, 512) == "relu4_x");
}

TEST_CASE("content_terms_at_scale: from a start mostly noise, half of each weight on a finer layer", "[scale_plan]") {
    nst::stylize_options o;
    o.size = 512;
    o.content_layers = {"relu4_2", "relu1_2"};
    using layers = std::vector<std::string>;
    using weights = std::vector<double>;
    // From the content (also blended with a little noise) every scale keeps the output size's terms.
    REQUIRE(nst::content_terms_at_scale(o, 256).layers == o.content_layers);
    REQUIRE(nst::content_terms_at_scale(o, 256).weights.empty());
    o.init_noise = 0.49;
    REQUIRE(nst::content_terms_at_scale(o, 256).layers == o.content_layers);
    // From noise: relu4_2's half goes to relu3_2; relu1_2 has no finer layer and keeps its weight.
    o.init_noise = 0.5;
    REQUIRE(nst::content_terms_at_scale(o, 256).layers == layers{"relu4_2", "relu3_2", "relu1_2"});
    REQUIRE(nst::content_terms_at_scale(o, 256).weights == weights{0.25, 0.25, 0.5});
    o.init_noise = 0.0;
    o.init = nst::init_kind::random;
    o.content_layer_weights = {3.0, 1.0};
    REQUIRE(nst::content_terms_at_scale(o, 128).layers == layers{"relu4_2", "relu2_2", "relu1_2"});
    REQUIRE(nst::content_terms_at_scale(o, 128).weights == weights{1.5, 1.5, 1.0});
    // The output size keeps its own terms.
    REQUIRE(nst::content_terms_at_scale(o, 512).layers == o.content_layers);
    REQUIRE(nst::content_terms_at_scale(o, 512).weights == o.content_layer_weights);
}

TEST_CASE("scale options: ascending, >= 16 px, ending at size, not with multiscale", "[scale_plan]") {
    nst::stylize_options o;
    o.size = 256;
    o.scales = {128, 256};
    REQUIRE(scale_error(o) == "no error");
    o.scales = {256, 128};
    REQUIRE(scale_error(o).find("strictly ascending, got 256,128") != std::string::npos);
    o.scales = {128, 128, 256};
    REQUIRE(scale_error(o).find("strictly ascending") != std::string::npos);
    o.scales = {0, 256};
    REQUIRE(scale_error(o).find("at least 16 pixels, got 0") != std::string::npos);
    o.scales = {128, 512};
    REQUIRE(scale_error(o).find("scales end at 512 but size is 256") != std::string::npos);
    o.scales = {128, 256};
    o.multiscale = true;
    REQUIRE(scale_error(o).find("and multiscale were both given: give one or the other") != std::string::npos);
}
