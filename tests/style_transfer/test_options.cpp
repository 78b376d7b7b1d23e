// stylize_options (style_transfer/options.hpp) are validated with messages naming the problem.
#include <string>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

TEST_CASE("stylize options are validated with messages naming the problem", "[stylize]") {
    const nst::image img = xt::zeros<float>({32, 32, 3});
    auto message = [&](const nst::stylize_options& o, std::size_t styles) {
        try {
            nst::validate_options(o, styles);
        } catch (const nst::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    nst::stylize_options o;
    REQUIRE(message(o, 1) == "no error");
    REQUIRE(message(o, 0).find("style image") != std::string::npos);
    o.style_layers = {"relu1_1", "relu9_9"};
    REQUIRE(message(o, 1).find("relu9_9") != std::string::npos);
    o = nst::stylize_options{};
    o.content_layers = {"conv4_2x"};
    REQUIRE(message(o, 1).find("conv4_2x") != std::string::npos);
    o = nst::stylize_options{};
    o.style_blend = {0.7, 0.3};
    REQUIRE(message(o, 2) == "no error");
    REQUIRE(message(o, 3).find("2 weights for 3 style images") != std::string::npos);
    o.style_blend = {0, 0};
    REQUIRE(message(o, 2).find("zero") != std::string::npos);
    o = nst::stylize_options{};
    o.style_layer_weights = {1, 2};
    REQUIRE(message(o, 1).find("2 style layer weights for 5 style layers") != std::string::npos);
    o = nst::stylize_options{};
    o.size = 8;
    REQUIRE(message(o, 1).find("size") != std::string::npos);
    o = nst::stylize_options{};
    o.init = nst::init_kind::image;
    REQUIRE(message(o, 1).find("init image") != std::string::npos);
    o = nst::stylize_options{};
    o.style_masks = {nst::image(), img};
    REQUIRE(message(o, 2) == "no error");
    REQUIRE(message(o, 3).find("2 style masks for 3 style images") != std::string::npos);
    o = nst::stylize_options{};
    o.original_colors = true;
    o.colors = nst::color_mode::luminance;
    REQUIRE(message(o, 1) == "no error");
    o.colors = nst::color_mode::histogram;
    REQUIRE(message(o, 1).find("conflicts with colors 'histogram'") != std::string::npos);

    // stylize itself validates before touching the weights (none are given here).
    o = nst::stylize_options{};
    o.weights = "/nonexistent/weights.h5";
    o.content_layers = {"nope"};
    REQUIRE_THROWS_AS(nst::stylize(img, {img}, o), nst::invalid_argument);
    // So are the masks: an all-black one is refused before the weights are looked for.
    o = nst::stylize_options{};
    o.weights = "/nonexistent/weights.h5";
    o.style_masks = {img};
    REQUIRE_THROWS_WITH(nst::stylize(img, {img}, o), Catch::Contains("style mask 1 is all black"));
}
