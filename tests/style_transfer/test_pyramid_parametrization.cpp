// The image's resolution levels (style_transfer/pyramid_parametrization.hpp): the image they
// make, the gradient's adjoint, and L-BFGS reaching the same optimum through them.
#include <array>
#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "gradient_check.hpp"
#include "test_helpers.hpp"

namespace {

using pyramid_d = nst::pyramid_parametrization<double>;

// A smooth non-quadratic loss of an image: sum_i a_i (x_i - t_i)^2 + 0.1 (x_i - t_i)^4 / 4, whose
// gradient is known in closed form and whose unique minimiser is t.
struct quartic_loss {
    nst::tensor3<double> a, t;
    double operator()(const nst::tensor3<double>& x, nst::tensor3<double>& g) const {
        double f = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double d = x.data()[i] - t.data()[i];
            f += a.data()[i] * d * d + 0.025 * d * d * d * d;
            g.data()[i] = 2 * a.data()[i] * d + 0.1 * d * d * d;
        }
        return f;
    }
};

}  // namespace

TEST_CASE("automatic_pyramid_levels halves down to a longer side of 16 px", "[pyramid]") {
    REQUIRE(nst::automatic_pyramid_levels(192, 256) == 4);  // 128, 64, 32, 16
    REQUIRE(nst::automatic_pyramid_levels(384, 512) == 5);
    REQUIRE(nst::automatic_pyramid_levels(512, 384) == 5);
    REQUIRE(nst::automatic_pyramid_levels(31, 31) == 1);    // 16
    REQUIRE(nst::automatic_pyramid_levels(30, 30) == 0);    // 15 would be below 16
    REQUIRE(nst::automatic_pyramid_levels(1, 1) == 0);
}

TEST_CASE("pyramid levels: the image's own levels make the image, coarse levels add smooth change", "[pyramid]") {
    std::mt19937 rng(3);
    const auto x = nst::random_tensor<double, 3>({3, 13, 10}, rng);
    pyramid_d p(3, 13, 10, 3);
    REQUIRE(p.levels() == 3);  // 7 x 5, 4 x 3, 2 x 2
    REQUIRE(p.size() == 3 * (13 * 10 + 7 * 5 + 4 * 3 + 2 * 2));
    nst::tensor1<double> z = p.levels_of(x);
    nst::tensor3<double> y(x.shape(), 0.0);
    p.to_image(z, y);
    const bool same = y == x;  // (xtensor: == compares whole tensors)
    REQUIRE(same);

    // A constant on the coarsest level of one channel adds w^3 = 1/8 to every pixel of it
    // (bilinear interpolation keeps constants) and nothing to the other channels.
    const std::size_t coarsest = z.size() - 3 * 4;
    for (std::size_t i = 0; i < 4; ++i) z(coarsest + 4 + i) = 1.0;  // channel 1's 2 x 2 block
    p.to_image(z, y);
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t i = 0; i < 13; ++i)
            for (std::size_t j = 0; j < 10; ++j)
                REQUIRE(y(c, i, j) == Approx(x(c, i, j) + (c == 1 ? 0.125 : 0.0)).margin(1e-12));
}

TEST_CASE("pyramid levels: gradient_to_levels is the adjoint of to_image", "[pyramid]") {
    std::mt19937 rng(5);
    const std::vector<std::array<std::size_t, 3>> shapes{{13, 10, 3}, {16, 16, 4}, {9, 31, 8}, {5, 4, 0}};
    for (const auto& [h, w, levels] : shapes) {
        pyramid_d p(2, h, w, levels);
        const auto z = nst::random_tensor<double, 1>({p.size()}, rng);
        const auto g = nst::random_tensor<double, 3>({2, h, w}, rng);
        nst::tensor3<double> x(g.shape(), 0.0);
        nst::tensor1<double> gz(z.shape(), 0.0);
        p.to_image(z, x);
        p.gradient_to_levels(g, gz);
        // <P z, g> = <z, P^T g> for every z and g.
        using nst::optim_detail::dot;
        REQUIRE(dot(x.data(), g.data(), x.size()) == Approx(dot(z.data(), gz.data(), z.size())).epsilon(1e-12));
    }
}

TEST_CASE("pyramid_objective's gradient matches finite differences of the loss through the levels", "[pyramid]") {
    std::mt19937 rng(7);
    quartic_loss f{nst::random_tensor<double, 3>({3, 11, 14}, rng, 0.5, 2.0),
                   nst::random_tensor<double, 3>({3, 11, 14}, rng)};
    pyramid_d p(3, 11, 14, 3);
    nst::pyramid_objective<quartic_loss, double> on_levels(f, p, f.t);
    const auto z = nst::random_tensor<double, 1>({p.size()}, rng);
    nst::tensor1<double> gz(z.shape(), 0.0);
    on_levels(z, gz);
    auto value = [&](const nst::tensor1<double>& at) {
        nst::tensor1<double> unused(at.shape(), 0.0);
        return on_levels(at, unused);
    };
    REQUIRE(nst::gradient_error(value, z, gz, 0, rng) < nst::test::tolerance);
}

TEST_CASE("L-BFGS on the levels ends at the image L-BFGS on the pixels ends at", "[pyramid]") {
    std::mt19937 rng(11);
    quartic_loss f{nst::random_tensor<double, 3>({3, 24, 20}, rng, 0.01, 1.0),  // condition number 100
                   nst::random_tensor<double, 3>({3, 24, 20}, rng, -100.0, 100.0)};
    nst::lbfgs<double>::options o;
    o.max_iterations = 2000;
    o.gradient_tolerance = 1e-10;
    nst::tensor3<double> pixels(f.t.shape(), 0.0);
    REQUIRE(nst::lbfgs<double>(o).minimize(f, pixels).converged());

    pyramid_d p(3, 24, 20, 3);
    nst::pyramid_objective<quartic_loss, double> on_levels(f, p, pixels);
    nst::tensor1<double> z = p.levels_of(nst::tensor3<double>(f.t.shape(), 0.0));
    REQUIRE(nst::lbfgs<double>(o).minimize(on_levels, z).converged());
    nst::tensor3<double> image(f.t.shape(), 0.0);
    p.to_image(z, image);
    for (std::size_t i = 0; i < image.size(); ++i) {
        REQUIRE(image.data()[i] == Approx(f.t.data()[i]).margin(1e-6));
        REQUIRE(pixels.data()[i] == Approx(f.t.data()[i]).margin(1e-6));
    }
}
