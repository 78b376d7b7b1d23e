// VGG pre/post-processing (io/preprocess.hpp): BGR minus the ImageNet mean, and back.
#include <random>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::max_abs_diff;
using nst::test::random_image;

TEST_CASE("VGG input is BGR minus the ImageNet mean, and back", "[images]") {
    image red({1, 2, 3});
    red.fill(0.0f);
    red(0, 0, 0) = 255.0f;  // pure red
    red(0, 1, 2) = 10.0f;   // a little blue
    const tensor3<float> x = to_vgg_input<float>(red);
    REQUIRE(x.shape() == shape3{3, 1, 2});
    CHECK(x(0, 0, 0) == Approx(-103.939));         // B
    CHECK(x(1, 0, 0) == Approx(-116.779));         // G
    CHECK(x(2, 0, 0) == Approx(255.0 - 123.68));   // R
    CHECK(x(0, 0, 1) == Approx(10.0 - 103.939));
    CHECK(x(2, 0, 1) == Approx(-123.68));

    std::mt19937 rng(6);
    image img = random_image(5, 7, rng);
    img(0, 0, 0) = -20.0f;  // out-of-range values pass through unclamped
    img(4, 6, 2) = 300.5f;
    CHECK(max_abs_diff(from_vgg_input(to_vgg_input<float>(img)), img) <= 1e-4f);
    CHECK(max_abs_diff(from_vgg_input(to_vgg_input<double>(img)), img) <= 1e-5f);
    const tensor3<double> xd = to_vgg_input<double>(img);
    CHECK(xd(0, 4, 6) == Approx(300.5 - 103.939).epsilon(1e-12));  // blue is channel 0

    CHECK_THROWS_AS(to_vgg_input<float>(image({2, 2, 4})), shape_error);
    CHECK_THROWS_AS(from_vgg_input(tensor3<float>({4, 2, 2})), shape_error);
}
