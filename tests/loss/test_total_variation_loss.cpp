// total_variation_loss (loss/total_variation_loss.hpp): the value by hand, the gradient against
// finite differences.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::gradient_error;
using nst::test::random_tensor;
using nst::test::tolerance;

TEST_CASE("total-variation loss: values and gradients", "[loss][gradient]") {
    std::mt19937 rng(7);
    const auto f = random_tensor<double, 3>({4, 5, 6}, rng);

    total_variation_loss<double> tv;
    tensor3<double> g;
    const double v = tv(f, g);
    double expected = 0;
    for (std::size_t c = 0; c < 4; ++c)
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = 0; j < 6; ++j) {
                if (j + 1 < 6) expected += std::pow(f(c, i, j + 1) - f(c, i, j), 2);
                if (i + 1 < 5) expected += std::pow(f(c, i + 1, j) - f(c, i, j), 2);
            }
    REQUIRE(v == Approx(expected).epsilon(1e-12));
    std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
        tensor3<double> unused;
        return tv(x, unused);
    };
    REQUIRE(gradient_error(fn, f, g, 0, rng) < tolerance);
}
