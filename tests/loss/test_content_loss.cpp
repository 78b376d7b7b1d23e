// content_loss (loss/content_loss.hpp): the value under both normalisations by hand, the gradient
// against finite differences; the accumulate form adds the weighted gradient to what is there.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::gradient_error;
using nst::test::random_tensor;
using nst::test::tolerance;

TEST_CASE("content loss: values and gradients", "[loss][gradient]") {
    std::mt19937 rng(7);
    const auto f = random_tensor<double, 3>({4, 5, 6}, rng);
    const auto p = random_tensor<double, 3>({4, 5, 6}, rng);

    for (auto norm : {content_normalization::half_sum_squares, content_normalization::mean_squared}) {
        content_loss<double> loss(p, norm);
        tensor3<double> g;
        const double v = loss(f, g);
        const double ss = xt::sum(xt::square(f - p))();
        REQUIRE(v == Approx(norm == content_normalization::half_sum_squares ? 0.5 * ss : ss / 120));
        std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
            tensor3<double> unused;
            return loss(x, unused);
        };
        REQUIRE(gradient_error(fn, f, g, 0, rng) < tolerance);

        const auto before = random_tensor<double, 3>({4, 5, 6}, rng);
        tensor3<double> into = before;
        REQUIRE(loss.accumulate(f, 0.3, into) == v);
        REQUIRE(xt::allclose(into, before + 0.3 * g, 1e-12, 1e-14));
        tensor3<double> wrong = xt::zeros<double>({4, 6, 5});
        REQUIRE_THROWS_AS(loss.accumulate(f, 1.0, wrong), shape_error);
        REQUIRE_THROWS_AS(loss.accumulate(random_tensor<double, 3>({4, 6, 5}, rng), 1.0, wrong), shape_error);
    }
}
