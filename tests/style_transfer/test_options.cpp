// stylize_options (style_transfer/options.hpp) are validated with messages naming the problem.
#include <limits>
#include <string>
#include <vector>

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

    o = nst::stylize_options{};
    o.scales = {64, 96};
    o.size = 96;
    o.multiscale = true;
    REQUIRE(message(o, 1) == "scales (64,96) and multiscale were both given: give one or the other");
    // Counts past what any run needs (an overflow in the memory estimate, buffers per thread).
    o = nst::stylize_options{};
    o.threads = -3;
    REQUIRE(message(o, 1) == "threads must be from 0 (keep the current counts) to 1024, got -3");
    o.threads = 100000;
    REQUIRE(message(o, 1).find("got 100000") != std::string::npos);
    o = nst::stylize_options{};
    o.lbfgs_history = std::numeric_limits<std::size_t>::max() / 2;
    REQUIRE(message(o, 1).find("L-BFGS history must be from 1 to 1000") != std::string::npos);
    o = nst::stylize_options{};
    o.pyramid_levels = 100;
    REQUIRE(message(o, 1) == "pyramid levels must be at most 99 (or automatic), got 100");
    o.pyramid_levels.reset();
    REQUIRE(message(o, 1) == "no error");
    // An enum cast from a wrong number is named, not run as some default.
    o = nst::stylize_options{};
    o.pooling_mode = static_cast<nst::pooling>(7);
    REQUIRE(message(o, 1) == "pooling 7 is none of its named values");
    o = nst::stylize_options{};
    o.weights_preprocessing = static_cast<nst::input_convention>(2);
    REQUIRE(message(o, 1) == "weights preprocessing 2 is none of its named values");

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
    // So are the pixels: a NaN or infinity is named where it is, not blamed on the loss weights.
    o = nst::stylize_options{};
    o.weights = "/nonexistent/weights.h5";
    nst::image bad = img;
    bad(3, 2, 1) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_WITH(nst::stylize(bad, {img}, o),
                        Catch::Contains("content image: pixel (row 3, column 2, channel 1) is NaN"));
    REQUIRE_THROWS_WITH(nst::stylize(img, {img, bad}, o), Catch::Contains("style image 2: pixel (row 3"));
    o.init = nst::init_kind::image;
    o.init_image = img;
    o.init_image(0, 1, 2) = -std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_WITH(nst::stylize(img, {img}, o),
                        Catch::Contains("init image: pixel (row 0, column 1, channel 2) is infinite"));
    o = nst::stylize_options{};
    o.weights = "/nonexistent/weights.h5";
    o.style_masks = {bad};
    REQUIRE_THROWS_WITH(nst::stylize(img, {img}, o), Catch::Contains("style mask 1: pixel (row 3, column 2"));
}

TEST_CASE("the peers' knobs are validated with messages naming them", "[stylize][peers]") {
    auto message = [](const nst::stylize_options& o) {
        try {
            nst::validate_options(o, 1);
        } catch (const nst::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    nst::stylize_options o;
    o.content_layers = {"block4_conv2"};
    o.style_layers = {"block1_conv1", "block1_pool"};
    REQUIRE(message(o) == "no error");
    o.style_layers = {"block1_conv3"};
    REQUIRE(message(o).find("block1_conv3") != std::string::npos);
    o = nst::stylize_options{};
    o.adam_beta1 = 1.0;
    REQUIRE(message(o).find("beta1") != std::string::npos);
    o = nst::stylize_options{};  // L-BFGS: the learning rate is checked all the same, as the betas are
    o.learning_rate = -5;
    REQUIRE(message(o).find("learning rate must be a finite number > 0, got -5") != std::string::npos);
    o = nst::stylize_options{};
    o.adam_beta2 = -0.1;
    REQUIRE(message(o).find("beta2") != std::string::npos);
    o = nst::stylize_options{};
    o.adam_epsilon = 0;
    REQUIRE(message(o).find("epsilon") != std::string::npos);
    o = nst::stylize_options{};
    o.init_noise = 1.5;
    REQUIRE(message(o).find("init noise") != std::string::npos);
    o.init_noise = 1.0;
    REQUIRE(message(o) == "no error");
    // The refused value as given, not rounded to six decimals ("got 1.000000" contradicted the range).
    o.init_noise = 1.0000001;
    REQUIRE(message(o).find("must be in [0, 1], got 1.0000001") != std::string::npos);
    o = nst::stylize_options{};
    o.adam_epsilon = -1e-9;
    REQUIRE(message(o).find("got -1e-09") != std::string::npos);
    o = nst::stylize_options{};
    o.content_layer_weights = {1, 1};
    REQUIRE(message(o).find("2 content layer weights for 1 content layers") != std::string::npos);
    o.content_layer_weights = {-1};
    REQUIRE(message(o).find("content layer weights must be a finite number >= 0, got -1") != std::string::npos);
    // inf is >= 0: the message must not say only that (it read "must be >= 0, got inf").
    o = nst::stylize_options{};
    o.style_weight = std::numeric_limits<double>::infinity();
    REQUIRE(message(o).find("style weight must be a finite number >= 0, got inf") != std::string::npos);
    // Finite weights whose sum is not: each style's share would be 0 or NaN.
    o = nst::stylize_options{};
    o.style_blend = {1e308, 1e308};
    REQUIRE_THROWS_WITH(nst::validate_options(o, 2), Catch::Contains("sum of the style blend weights"));
    o.style_blend = {1e307, 1e307};
    REQUIRE_NOTHROW(nst::validate_options(o, 2));
    o = nst::stylize_options{};
    o.lbfgs_history = 0;
    REQUIRE(message(o).find("L-BFGS history") != std::string::npos);
}

TEST_CASE("take_images moves the options' images out and leaves the settings", "[stylize]") {
    nst::stylize_options o;
    o.size = 96;
    o.style_layers = {"relu1_1", "relu3_1"};
    o.init = nst::init_kind::image;
    o.init_image = xt::ones<float>({6, 8, 3}) * 7.0f;
    o.content_mask = xt::ones<float>({6, 8, 3}) * 255.0f;
    o.style_masks = {nst::image(), xt::zeros<float>({6, 8, 3})};
    const float* init_pixels = o.init_image.data();

    const nst::stylize_options taken = nst::take_images(o);
    // The images moved (the same pixels, not copies), the settings copied.
    CHECK(taken.init_image.data() == init_pixels);
    CHECK(taken.init_image.shape(0) == 6);
    CHECK(taken.content_mask.size() == 6 * 8 * 3);
    REQUIRE(taken.style_masks.size() == 2);
    CHECK(taken.style_masks[1].size() == 6 * 8 * 3);
    CHECK(taken.size == 96);
    CHECK(taken.init == nst::init_kind::image);
    CHECK(taken.style_layers == std::vector<std::string>{"relu1_1", "relu3_1"});
    // `o` keeps the settings and holds no image.
    CHECK(o.size == 96);
    CHECK(o.style_layers == taken.style_layers);
    CHECK(o.init_image.size() == 0);
    CHECK(o.content_mask.size() == 0);
    CHECK(o.style_masks.empty());
}
