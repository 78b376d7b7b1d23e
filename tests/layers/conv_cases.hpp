// Convolution problems on plain float vectors for the tests of the conv3x3 kernels and their
// precisions (test_conv3x3_kernels.cpp, test_conv_precision.cpp), and the measure they compare by.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace nst::test {

inline std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

// max |a - b| / max |b|
inline double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double diff = 0, scale = 1e-30;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::abs(double(b[i])));
    }
    return diff / scale;
}

// x rounded to 8 significant bits, ties to even (bfloat16's rounding).
inline float round_to_bf16(float x) {
    int e = 0;
    const double m = std::frexp(double(x), &e);  // x = m 2^e, 0.5 <= |m| < 1
    return float(std::ldexp(std::nearbyint(std::ldexp(m, 8)), e - 8));
}

// One convolution problem: weights W (c_out x c_in x 3 x 3), bias, an input x (c_in x h x w)
// and an output gradient dy (c_out x h x w).
struct conv_case {
    std::size_t c_in, c_out, h, w;
    std::vector<float> weights, bias, x, dy;
    conv_case(std::size_t ci, std::size_t co, std::size_t hh, std::size_t ww, std::mt19937& rng)
        : c_in(ci), c_out(co), h(hh), w(ww) {
        const float s = std::sqrt(6.0f / (9.0f * float(ci)));  // He-like: outputs stay O(1)
        weights = random_floats(co * ci * 9, rng, -s, s);
        bias = random_floats(co, rng);
        x = random_floats(ci * hh * ww, rng);
        dy = random_floats(co * hh * ww, rng);
    }
    // The same problem with weights, x and dy rounded to bf16 (independently of the library).
    conv_case rounded() const {
        conv_case r = *this;
        for (auto* v : {&r.weights, &r.x, &r.dy})
            std::transform(v->begin(), v->end(), v->begin(), round_to_bf16);
        return r;
    }
};

}  // namespace nst::test
