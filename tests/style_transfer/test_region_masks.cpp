// region_masks.hpp: mask images to weights, overlaps normalised, pooling to a layer's size by
// the network's 2x2 rule, and the mask images refused before any work.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

TEST_CASE("region masks: weights, overlaps and pooling", "[stylize]") {
    nst::image img = xt::zeros<float>({2, 4, 3});
    xt::view(img, xt::all(), xt::range(2, 4), xt::all()) = 255.0f;
    img(0, 0, 0) = 51.0f;  // one soft pixel: mean of the channels = 17 / 255
    const nst::tensor2<float> m = nst::mask_weights(img, 2, 4);
    REQUIRE(m(0, 0) == Approx(17.0 / 255).margin(1e-6));
    REQUIRE(m(1, 1) == 0.0f);
    REQUIRE(m(1, 3) == 1.0f);

    std::vector<nst::tensor2<float>> masks{xt::ones<float>({2, 2}), xt::zeros<float>({2, 2})};
    masks[0](0, 1) = 0.25f;
    masks[1](0, 0) = 0.5f;  // overlap: 1 + 0.5 -> 2/3, 1/3
    masks[1](0, 1) = 0.5f;  // sum 0.75 <= 1: kept
    nst::normalise_overlaps(masks);
    REQUIRE(masks[0](0, 0) == Approx(2.0 / 3));
    REQUIRE(masks[1](0, 0) == Approx(1.0 / 3));
    REQUIRE(masks[0](0, 1) == 0.25f);
    REQUIRE(masks[1](0, 1) == 0.5f);
    REQUIRE(masks[0](1, 1) == 1.0f);

    // 5 x 7 -> 2 x 3 -> 1 x 1, like pool2x2 (the odd last row and column dropped).
    nst::tensor2<float> big = xt::zeros<float>({5, 7});
    for (std::size_t y = 0; y < 5; ++y)
        for (std::size_t x = 0; x < 7; ++x) big(y, x) = float(y * 7 + x) / 40.0f;
    const nst::tensor2<float> half = nst::pool_mask(big, 2, 3);
    REQUIRE(half(1, 2) == Approx((big(2, 4) + big(2, 5) + big(3, 4) + big(3, 5)) / 4));
    const nst::tensor2<float> quarter = nst::pool_mask(big, 1, 1);
    REQUIRE(quarter(0, 0) == Approx((half(0, 0) + half(0, 1) + half(1, 0) + half(1, 1)) / 4));
    REQUIRE(bool(nst::pool_mask(big, 5, 7) == big));
    REQUIRE_THROWS_AS(nst::pool_mask(big, 3, 3), nst::shape_error);
}

TEST_CASE("region masks: all black and far-off shapes are refused", "[stylize]") {
    const nst::image content = xt::zeros<float>({40, 60, 3});
    nst::image black = xt::zeros<float>({40, 60, 3});
    REQUIRE_THROWS_WITH(nst::check_mask_image(black, content, "style mask 2"), Catch::Contains("style mask 2 is all black"));
    black(3, 3, 1) = 1.0f;
    REQUIRE_NOTHROW(nst::check_mask_image(black, content, "style mask 2"));
    REQUIRE_NOTHROW(nst::check_mask_image(xt::ones<float>({20, 33, 3}), content, "m"));  // stretched a little
    REQUIRE_THROWS_WITH(nst::check_mask_image(xt::ones<float>({60, 40, 3}), content, "content mask"),
                        Catch::Contains("content mask is 40 x 60"));
    REQUIRE_THROWS_AS(nst::check_mask_image(xt::ones<float>({40, 60, 1}), content, "m"), nst::shape_error);  // one channel
}
