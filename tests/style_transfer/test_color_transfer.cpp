// color_transfer.hpp: the 3 x 3 symmetric eigen-decomposition and matrix roots on matrices built
// from known eigenpairs, and match_color_statistics against numpy
// (make_color_transfer_reference.py) and by its outcome (the reference's mean and covariance).
#include <catch2/catch.hpp>

#include "color_transfer_reference.hpp"
#include "test_helpers.hpp"

namespace {

// R diag(d) R^T for the rotation R of angle a about the axis (1, 2, 2) / 3 (Rodrigues' formula).
nst::color_matrix color_rotated_diagonal(const std::array<double, 3>& d, double a) {
    const double k[3] = {1.0 / 3, 2.0 / 3, 2.0 / 3};
    nst::color_matrix r{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            const double cross[3][3] = {{0, -k[2], k[1]}, {k[2], 0, -k[0]}, {-k[1], k[0], 0}};
            r[i][j] = (i == j ? std::cos(a) : 0.0) + std::sin(a) * cross[i][j] + (1 - std::cos(a)) * k[i] * k[j];
        }
    nst::color_matrix out{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int q = 0; q < 3; ++q) out[i][j] += r[i][q] * d[q] * r[j][q];
    return out;
}

}  // namespace

TEST_CASE("color transfer: symmetric eigen-decomposition and powers of known matrices", "[stylize]") {
    const nst::color_matrix s = color_rotated_diagonal({900.0, 25.0, 4.0}, 0.7);
    const nst::symmetric_eigen e = nst::eigen_symmetric(s);
    std::array<double, 3> values = e.values;
    std::sort(values.begin(), values.end());
    REQUIRE(values[0] == Approx(4.0).epsilon(1e-12));
    REQUIRE(values[1] == Approx(25.0).epsilon(1e-12));
    REQUIRE(values[2] == Approx(900.0).epsilon(1e-12));
    for (int k = 0; k < 3; ++k)  // S v = lambda v
        for (int i = 0; i < 3; ++i) {
            double sv = 0;
            for (int j = 0; j < 3; ++j) sv += s[i][j] * e.vectors[j][k];
            REQUIRE(sv == Approx(e.values[k] * e.vectors[i][k]).margin(1e-9));
        }
    const nst::color_matrix root = nst::symmetric_power(s, 0.5, 0);
    const nst::color_matrix expected_root = color_rotated_diagonal({30.0, 5.0, 2.0}, 0.7);
    const nst::color_matrix inverse_root = nst::symmetric_power(s, -0.5, 0);
    const nst::color_matrix identity = nst::multiply(root, inverse_root);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            REQUIRE(root[i][j] == Approx(expected_root[i][j]).margin(1e-10));
            REQUIRE(identity[i][j] == Approx(i == j ? 1.0 : 0.0).margin(1e-12));
        }
    const nst::symmetric_eigen diagonal = nst::eigen_symmetric({{{3, 0, 0}, {0, 1, 0}, {0, 0, 2}}});
    REQUIRE(diagonal.values == std::array<double, 3>{3, 1, 2});
}

TEST_CASE("color transfer: matches numpy and gives the reference's colour statistics", "[stylize]") {
    namespace ref = color_transfer_reference;
    nst::image source({std::size_t(ref::height), std::size_t(ref::width), 3});
    nst::image reference = source;
    for (std::size_t i = 0; i < source.size(); ++i) {
        source.data()[i] = float(ref::source[i]);
        reference.data()[i] = float(ref::reference[i]);
    }
    const nst::image out = nst::match_color_statistics(source, reference);
    REQUIRE(out.shape() == source.shape());
    for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(out.data()[i] == Approx(ref::matched[i]).margin(1e-3));

    // On a larger image without clamping: the reference's mean and covariance, independently summed.
    std::mt19937 rng(5);
    const nst::image big = nst::test::random_image(30, 40, rng) * 0.3f + 90.0f;
    const nst::image target = nst::test::random_image(20, 10, rng) * 0.5f + 60.0f;
    const nst::color_statistics got = nst::color_statistics_of(nst::match_color_statistics(big, target));
    double mean[3] = {0, 0, 0};
    for (std::size_t p = 0; p < 200; ++p)
        for (int c = 0; c < 3; ++c) mean[c] += target.data()[3 * p + c] / 200.0;
    for (int a = 0; a < 3; ++a) {
        REQUIRE(got.mean[a] == Approx(mean[a]).margin(1e-3));
        for (int b = 0; b < 3; ++b) {
            double cov = 0;
            for (std::size_t p = 0; p < 200; ++p)
                cov += (target.data()[3 * p + a] - mean[a]) * (target.data()[3 * p + b] - mean[b]) / 200.0;
            REQUIRE(got.covariance[a][b] == Approx(cov).margin(1e-2));
        }
    }
}

TEST_CASE("color transfer: a flat source becomes the reference's mean colour", "[stylize]") {
    nst::image flat = xt::ones<float>({4, 4, 3}) * 100.0f;
    std::mt19937 rng(6);
    const nst::image reference = nst::test::random_image(5, 5, rng);
    const nst::image out = nst::match_color_statistics(flat, reference);
    const nst::color_statistics r = nst::color_statistics_of(reference);
    for (std::size_t p = 0; p < 16; ++p)
        for (int c = 0; c < 3; ++c) REQUIRE(out.data()[3 * p + c] == Approx(r.mean[c]).margin(1e-3));
}
