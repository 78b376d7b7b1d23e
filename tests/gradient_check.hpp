// Finite-difference gradient checking shared by the tests (the tiny-dnn idea: every layer and
// loss is checked numerically against its analytic backward on random points).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <random>

#include <nst/core/tensor.hpp>

namespace nst::test {

// Random tensor with entries uniform in [lo, hi).
template <class T, std::size_t N>
pooled_tensor<T, N> random_tensor(const std::array<std::size_t, N>& shape, std::mt19937& rng,
                                  T lo = T(-1), T hi = T(1)) {
    auto t = pooled_tensor<T, N>::from_shape(shape);
    std::uniform_real_distribution<T> dist(lo, hi);
    for (auto& v : t) v = dist(rng);
    return t;
}

// Relative error between an analytic gradient and central differences of f at x, checked at
// `samples` random coordinates (all coordinates if samples == 0):
//   max_i |g_i - n_i| / max(|g|_inf, |n|_inf, tiny)
// Normalising by the largest component keeps the measure meaningful where single components
// are near zero (ReLU masks, pooling) while still catching any wrong component.
template <class T, class X>
double gradient_error(const std::function<T(const X&)>& f, X x, const X& analytic,
                      std::size_t samples, std::mt19937& rng, T step = T(1e-5)) {
    std::vector<std::size_t> idx(x.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    if (samples != 0 && samples < idx.size()) {
        std::shuffle(idx.begin(), idx.end(), rng);
        idx.resize(samples);
    }
    double worst = 0, scale = 1e-12;
    for (std::size_t i : idx) {
        const T keep = x.data()[i];
        x.data()[i] = keep + step;
        const double up = f(x);
        x.data()[i] = keep - step;
        const double down = f(x);
        x.data()[i] = keep;
        const double numeric = (up - down) / (2 * double(step));
        worst = std::max(worst, std::abs(numeric - double(analytic.data()[i])));
        scale = std::max({scale, std::abs(numeric), std::abs(double(analytic.data()[i]))});
    }
    return worst / scale;
}

}  // namespace nst::test
