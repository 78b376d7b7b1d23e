// Colour histogram matching (Gatys et al. 2016, "Preserving color in neural artistic style
// transfer", section 2.1): a style image is recoloured so that the mean and covariance of its RGB
// pixels match the content's, x' = A (x - mu_s) + mu_c with A = Sigma_c^(1/2) Sigma_s^(-1/2)
// (the symmetric, eigenvalue form: the least rotation of colours among the A that match). The
// 3 x 3 symmetric eigen-decomposition is a cyclic Jacobi iteration, written out here.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../io/image.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

using color_matrix = std::array<std::array<double, 3>, 3>;

struct color_statistics {
    std::array<double, 3> mean{};
    color_matrix covariance{};  // population covariance (divided by the pixel count)
};

// Mean and covariance of an H x W x 3 image's RGB pixels.
inline color_statistics color_statistics_of(const nst::image& img) {
    detail::require_rgb_image(img, "color_statistics_of");
    const std::size_t n = img.shape(0) * img.shape(1);
    const float* p = img.data();
    color_statistics s;
    for (std::size_t i = 0; i < n; ++i)
        for (int c = 0; c < 3; ++c) s.mean[c] += p[3 * i + c];
    for (double& m : s.mean) m /= double(n);
    for (std::size_t i = 0; i < n; ++i)
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) s.covariance[a][b] += (p[3 * i + a] - s.mean[a]) * (p[3 * i + b] - s.mean[b]);
    for (auto& row : s.covariance)
        for (double& v : row) v /= double(n);
    return s;
}

struct symmetric_eigen {
    std::array<double, 3> values;
    color_matrix vectors;  // column k is the unit eigenvector of values[k]
};

// Eigenvalues and eigenvectors of a symmetric 3 x 3 matrix by cyclic Jacobi rotations (each
// rotation zeroes one off-diagonal entry; a few sweeps reach double precision).
inline symmetric_eigen eigen_symmetric(color_matrix a) {
    color_matrix v{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
    for (int sweep = 0; sweep < 50; ++sweep) {
        const double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
        const double diag = a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2];
        if (off <= 1e-30 * diag || off == 0) break;
        for (int p = 0; p < 2; ++p)
            for (int q = p + 1; q < 3; ++q) {
                if (a[p][q] == 0) continue;
                // The rotation by angle t in the (p, q) plane with tan(2t) = 2 a_pq / (a_qq - a_pp).
                const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < 3; ++k) {  // a = a J (columns p, q)
                    const double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; ++k) {  // a = J^T a (rows p, q)
                    const double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 3; ++k) {  // v = v J
                    const double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
    }
    return {{a[0][0], a[1][1], a[2][2]}, v};
}

// S^power for a symmetric positive semi-definite S, eigenvalues floored at `floor` first (so
// that a flat, rank-deficient colour distribution still has an inverse root).
inline color_matrix symmetric_power(const color_matrix& s, double power, double floor) {
    const symmetric_eigen e = eigen_symmetric(s);
    color_matrix out{};
    for (int k = 0; k < 3; ++k) {
        const double lambda = std::pow(std::max(e.values[k], floor), power);
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) out[i][j] += e.vectors[i][k] * lambda * e.vectors[j][k];
    }
    return out;
}

inline color_matrix multiply(const color_matrix& a, const color_matrix& b) {
    color_matrix out{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) out[i][j] += a[i][k] * b[k][j];
    return out;
}

/*  `source` recoloured to the mean and covariance of `reference`'s colours; values clamped to
    0..255 (an image stays an image; the clamp moves the statistics only where the match asks
    for colours outside the cube).
    requires: both H x W x 3 (any sizes). */
inline nst::image match_color_statistics(const nst::image& source, const nst::image& reference) {
    const color_statistics s = color_statistics_of(source), r = color_statistics_of(reference);
    // Variances below 1e-2 levels^2 (a flat channel) count as 1e-2: no division by zero.
    constexpr double floor = 1e-2;
    const color_matrix a = multiply(symmetric_power(r.covariance, 0.5, 0), symmetric_power(s.covariance, -0.5, floor));
    nst::image out = xt::empty<float>(source.shape());
    const std::size_t n = source.shape(0) * source.shape(1);
    const float* in = source.data();
    float* o = out.data();
    for (std::size_t i = 0; i < n; ++i) {
        const double d[3] = {in[3 * i] - s.mean[0], in[3 * i + 1] - s.mean[1], in[3 * i + 2] - s.mean[2]};
        for (int c = 0; c < 3; ++c) {
            const double v = r.mean[c] + a[c][0] * d[0] + a[c][1] * d[1] + a[c][2] * d[2];
            o[3 * i + c] = float(std::clamp(v, 0.0, 255.0));
        }
    }
    return out;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
