// masked_style_loss and masked_gram (loss/masked_style_loss.hpp): the region Gram against sums
// written out by hand, the whole-image mask equal to style_loss, a 0/1 mask equal to style_loss
// of the masked columns alone, the gradient against finite differences, bad masks refused.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;

TEST_CASE("masked gram: the mask-weighted mean of outer products", "[loss]") {
    std::mt19937 rng(11);
    const auto f = random_tensor<double, 3>({3, 4, 5}, rng);
    const auto mask = random_tensor<double, 2>({4, 5}, rng, 0.0, 1.0);
    for (auto norm : {style_normalization::gatys, style_normalization::johnson}) {
        CAPTURE(to_string(norm));
        const tensor2<double> g = masked_gram(f, mask, norm);
        double area = 0;
        for (double m : mask) area += m;
        const double scale = norm == style_normalization::gatys ? area : 3 * area;
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t j = 0; j < 3; ++j) {
                double expected = 0;
                for (std::size_t y = 0; y < 4; ++y)
                    for (std::size_t x = 0; x < 5; ++x) expected += mask(y, x) * f(i, y, x) * f(j, y, x);
                REQUIRE(g(i, j) == Approx(expected / scale).epsilon(1e-12));
            }
    }
}

TEST_CASE("masked style loss: all ones is style_loss, a 0/1 mask is style_loss of its columns",
          "[loss]") {
    std::mt19937 rng(12);
    const auto f = random_tensor<double, 3>({4, 5, 6}, rng);
    const auto s = random_tensor<double, 3>({4, 7, 3}, rng);
    for (auto norm : {style_normalization::gatys, style_normalization::johnson}) {
        CAPTURE(to_string(norm));
        const tensor2<double> target = style_target(s, norm);
        tensor3<double> g_plain, g_masked;
        const double plain = style_loss<double>(target, norm)(f, g_plain);
        const double masked = masked_style_loss<double>(target, xt::ones<double>({5, 6}), norm)(f, g_masked);
        REQUIRE(masked == Approx(plain).epsilon(1e-12));
        REQUIRE(xt::amax(xt::abs(g_masked - g_plain))() < 1e-12);

        // Left 2 of 6 columns: the loss of the cropped activations; zero gradient outside.
        tensor2<double> left = xt::zeros<double>({5, 6});
        xt::view(left, xt::all(), xt::range(0, 2)) = 1.0;
        const tensor3<double> crop = xt::view(f, xt::all(), xt::all(), xt::range(0, 2));
        tensor3<double> g_crop, g_left;
        const double cropped = style_loss<double>(target, norm)(crop, g_crop);
        REQUIRE(masked_style_loss<double>(target, left, norm)(f, g_left) == Approx(cropped).epsilon(1e-12));
        const tensor3<double> g_left_crop = xt::view(g_left, xt::all(), xt::all(), xt::range(0, 2));
        REQUIRE(xt::amax(xt::abs(g_left_crop - g_crop))() < 1e-12);
        REQUIRE(xt::amax(xt::abs(xt::view(g_left, xt::all(), xt::all(), xt::range(2, 6))))() == 0.0);
    }
}

TEST_CASE("masked style loss: gradient of a soft mask", "[loss][gradient]") {
    std::mt19937 rng(13);
    const auto f = random_tensor<double, 3>({4, 5, 6}, rng);
    auto mask = random_tensor<double, 2>({5, 6}, rng, 0.0, 1.0);
    mask(0, 0) = 0.0;  // a position outside the region
    for (auto norm : {style_normalization::gatys, style_normalization::johnson}) {
        CAPTURE(to_string(norm));
        masked_style_loss<double> loss(style_target(random_tensor<double, 3>({4, 3, 3}, rng), norm), mask, norm);
        tensor3<double> g;
        loss(f, g);
        std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
            tensor3<double> unused;
            return loss(x, unused);
        };
        REQUIRE(nst::test::gradient_error(fn, f, g, 0, rng) < nst::test::tolerance);
    }
}

TEST_CASE("masked style loss: bad masks and shapes are refused", "[loss]") {
    std::mt19937 rng(14);
    const tensor2<double> target = style_target(random_tensor<double, 3>({4, 3, 3}, rng));
    using loss = masked_style_loss<double>;
    REQUIRE_THROWS_AS(loss(target, xt::zeros<double>({5, 6})), invalid_argument);
    tensor2<double> above = xt::ones<double>({5, 6});
    above(1, 1) = 1.5;
    REQUIRE_THROWS_AS(loss(target, above), invalid_argument);
    tensor3<double> unused;
    REQUIRE_THROWS_AS(loss(target, xt::ones<double>({5, 6}))(random_tensor<double, 3>({4, 5, 5}, rng), unused),
                      shape_error);
    REQUIRE_THROWS_AS(loss(target, xt::ones<double>({5, 6}))(random_tensor<double, 3>({3, 5, 6}, rng), unused),
                      shape_error);
}
