// style_loss (loss/style_loss.hpp): the value under both normalisations from the paper's formula
// with raw Gram matrices, the gradient against finite differences, a wrong shape refused; the
// accumulate form adds the weighted gradient to what is there.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::gradient_error;
using nst::test::random_tensor;
using nst::test::tolerance;

TEST_CASE("style loss: values and gradients", "[loss][gradient]") {
    std::mt19937 rng(7);
    const auto f = random_tensor<double, 3>({4, 5, 6}, rng);

    for (auto norm : {style_normalization::gatys, style_normalization::johnson}) {
        CAPTURE(to_string(norm));
        const auto s = random_tensor<double, 3>({4, 7, 3}, rng);  // style image of another size
        style_loss<double> loss(style_target(s, norm), norm);
        tensor3<double> g;
        const double v = loss(f, g);
        // Independent value: the paper's formula with raw Gram matrices, sizes normalised.
        const tensor2<double> fm = xt::reshape_view(f, {4, 30});
        const tensor2<double> sm = xt::reshape_view(s, {4, 21});
        double expected = 0;
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t j = 0; j < 4; ++j) {
                double gf = 0, gs = 0;
                for (std::size_t k = 0; k < 30; ++k) gf += fm(i, k) * fm(j, k);
                for (std::size_t k = 0; k < 21; ++k) gs += sm(i, k) * sm(j, k);
                const double d = norm == style_normalization::gatys ? gf / 30 - gs / 21
                                                                    : gf / 120 - gs / 84;
                expected += d * d;
            }
        expected /= norm == style_normalization::gatys ? 4.0 * 16 : 16.0;
        REQUIRE(v == Approx(expected).epsilon(1e-12));
        std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
            tensor3<double> unused;
            return loss(x, unused);
        };
        REQUIRE(gradient_error(fn, f, g, 0, rng) < tolerance);
        tensor3<double> unused;
        REQUIRE_THROWS_AS(loss(random_tensor<double, 3>({3, 2, 2}, rng), unused), shape_error);
    }
}

TEST_CASE("style loss: a target that is not symmetric still gets the exact gradient",
          "[loss][gradient]") {
    // Gram targets are symmetric and take the backward that skips D + D^T; a target set by hand
    // may not be, and then the general backward must run.
    std::mt19937 rng(17);
    const auto f = random_tensor<double, 3>({5, 4, 3}, rng);
    const auto target = random_tensor<double, 2>({5, 5}, rng);
    REQUIRE_FALSE(target(0, 1) == target(1, 0));
    const style_loss<double> loss(target);
    tensor3<double> g;
    loss(f, g);
    std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
        tensor3<double> unused;
        return loss(x, unused);
    };
    REQUIRE(gradient_error(fn, f, g, 0, rng) < tolerance);
}

TEST_CASE("style loss: accumulate adds the weighted gradient and returns the same value",
          "[loss][gradient]") {
    std::mt19937 rng(23);
    const auto f = random_tensor<double, 3>({5, 4, 3}, rng);
    const auto asymmetric = random_tensor<double, 2>({5, 5}, rng);
    // A Gram target (the symmetric backward) and one set by hand (the general backward).
    for (const tensor2<double>& target : {style_target(random_tensor<double, 3>({5, 2, 6}, rng)), asymmetric}) {
        const style_loss<double> loss(target);
        tensor3<double> g;
        const double v = loss(f, g);
        const auto before = random_tensor<double, 3>({5, 4, 3}, rng);
        tensor3<double> into = before;
        REQUIRE(loss.accumulate(f, 2.5, into) == v);
        REQUIRE(xt::allclose(into, before + 2.5 * g, 1e-12, 1e-14));
        tensor3<double> wrong = xt::zeros<double>({5, 3, 4});
        REQUIRE_THROWS_AS(loss.accumulate(f, 1.0, wrong), shape_error);
    }
}
