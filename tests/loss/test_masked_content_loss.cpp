// masked_content_loss (loss/masked_content_loss.hpp): the weighted sum written out by hand, all
// ones equal to content_loss, the gradient against finite differences, bad shapes refused.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;

TEST_CASE("masked content loss: values, the all-ones mask and gradients", "[loss][gradient]") {
    std::mt19937 rng(21);
    const auto f = random_tensor<double, 3>({3, 4, 5}, rng);
    const auto p = random_tensor<double, 3>({3, 4, 5}, rng);
    auto mask = random_tensor<double, 2>({4, 5}, rng, 0.0, 1.0);
    mask(2, 3) = 0.0;
    for (auto norm : {content_normalization::half_sum_squares, content_normalization::mean_squared}) {
        const bool half = norm == content_normalization::half_sum_squares;
        CAPTURE(half);
        masked_content_loss<double> loss(p, mask, norm);
        tensor3<double> g;
        const double v = loss(f, g);
        double expected = 0;
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t y = 0; y < 4; ++y)
                for (std::size_t x = 0; x < 5; ++x) expected += mask(y, x) * std::pow(f(c, y, x) - p(c, y, x), 2);
        REQUIRE(v == Approx(half ? expected / 2 : expected / 60).epsilon(1e-12));
        for (std::size_t c = 0; c < 3; ++c) REQUIRE(g(c, 2, 3) == 0.0);
        std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
            tensor3<double> unused;
            return loss(x, unused);
        };
        REQUIRE(nst::test::gradient_error(fn, f, g, 0, rng) < nst::test::tolerance);

        tensor3<double> g_plain, g_ones;
        const double plain = content_loss<double>(p, norm)(f, g_plain);
        REQUIRE(masked_content_loss<double>(p, xt::ones<double>({4, 5}), norm)(f, g_ones) == Approx(plain).epsilon(1e-12));
        REQUIRE(xt::amax(xt::abs(g_ones - g_plain))() < 1e-12);
    }
}

TEST_CASE("masked content loss: bad masks and shapes are refused", "[loss]") {
    std::mt19937 rng(22);
    const auto p = random_tensor<double, 3>({3, 4, 5}, rng);
    REQUIRE_THROWS_AS(masked_content_loss<double>(p, xt::ones<double>({4, 4})), shape_error);
    REQUIRE_THROWS_AS(masked_content_loss<double>(p, -xt::ones<double>({4, 5})), invalid_argument);
    tensor3<double> unused;
    REQUIRE_THROWS_AS(masked_content_loss<double>(p, xt::ones<double>({4, 5}))(random_tensor<double, 3>({3, 4, 4}, rng), unused),
                      shape_error);
}
