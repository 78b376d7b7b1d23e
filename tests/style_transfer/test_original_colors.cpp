// keep_original_colors (style_transfer/original_colors.hpp): the luminance of the result with the
// chroma of the content.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

TEST_CASE("keep_original_colors keeps the luminance of the result and the chroma of the content",
          "[stylize]") {
    nst::image stylized = xt::zeros<float>({2, 3, 3});
    nst::image content = xt::zeros<float>({2, 3, 3});
    for (std::size_t i = 0; i < stylized.size(); ++i) {
        stylized.data()[i] = float((i * 37) % 256);
        content.data()[i] = float((i * 91 + 13) % 256);
    }
    const nst::image out = nst::keep_original_colors(stylized, content);
    for (std::size_t y = 0; y < 2; ++y)
        for (std::size_t x = 0; x < 3; ++x) {
            // ITU-R BT.601 luma and (unscaled) colour differences, computed independently.
            auto luma = [&](const nst::image& im) { return 0.299 * im(y, x, 0) + 0.587 * im(y, x, 1) + 0.114 * im(y, x, 2); };
            auto blue_diff = [&](const nst::image& im) { return im(y, x, 2) - luma(im); };
            auto red_diff = [&](const nst::image& im) { return im(y, x, 0) - luma(im); };
            REQUIRE(luma(out) == Approx(luma(stylized)).margin(1e-3));
            REQUIRE(blue_diff(out) == Approx(blue_diff(content)).margin(1e-3));
            REQUIRE(red_diff(out) == Approx(red_diff(content)).margin(1e-3));
        }
    nst::image wrong = xt::zeros<float>({3, 3, 3});
    REQUIRE_THROWS_AS(nst::keep_original_colors(stylized, wrong), nst::shape_error);
}
