// Checking a layer's backward against its forward, for anyone writing a layer (dlib's
// test_layer, tiny-dnn's gradient checks): central finite differences of
// L(x) = sum(r * forward(x)) at a random x, for a random r, against backward(x, y, r).
//
//   my_layer<double> layer;                                  // check in double precision
//   const double error = nst::test_layer(layer, {3, 8, 9});  // worst relative error
//   if (error > 1e-5) ...                                    // correct layers give ~1e-9
//
// gradient_error does the same for any function f(x) -> scalar with a gradient computed
// another way (a loss, a whole network). Both use double arithmetic for the differences; check
// layers instantiated with double: float rounding alone gives errors around 1e-3.
//
// A check where both gradients are zero at every coordinate it looks at could not fail, whatever
// backward does: both refuse it (invalid_argument) rather than report an error of 0. The usual
// cause is a layer whose parameters were never set: a conv3x3 computes zeros until set_weights,
// so give it random ones (random_tensor) before checking it.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "layer_shape.hpp"
#include "layer_traits.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// Random tensor with entries uniform in [lo, hi).
template <class T, std::size_t N>
pooled_tensor<T, N> random_tensor(const std::array<std::size_t, N>& shape, std::mt19937& rng,
                                  T lo = T(-1), T hi = T(1)) {
    auto t = pooled_tensor<T, N>::from_shape(shape);
    std::uniform_real_distribution<T> dist(lo, hi);
    for (auto& v : t) v = dist(rng);
    return t;
}

namespace detail {
// gradient_error's measure: the worst difference and the scale it is divided by (the largest
// component of either gradient, at least 1e-12).
struct gradient_difference {
    double worst = 0, scale = 1e-12;
};

template <class F, class X>
gradient_difference compare_gradients(F& f, X x, const X& analytic, std::size_t samples,
                                      std::mt19937& rng, double step) {
    using T = typename X::value_type;
    std::vector<std::size_t> idx(x.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    if (samples != 0 && samples < idx.size()) {
        std::shuffle(idx.begin(), idx.end(), rng);
        idx.resize(samples);
    }
    gradient_difference d;
    for (std::size_t i : idx) {
        const T keep = x.data()[i];
        x.data()[i] = T(double(keep) + step);
        const double up = double(f(x));
        x.data()[i] = T(double(keep) - step);
        const double down = double(f(x));
        x.data()[i] = keep;
        const double numeric = (up - down) / (2 * step);
        d.worst = std::max(d.worst, std::abs(numeric - double(analytic.data()[i])));
        d.scale = std::max({d.scale, std::abs(numeric), std::abs(double(analytic.data()[i]))});
    }
    return d;
}

// Both gradients were (numerically) zero wherever they were compared.
inline bool nothing_compared(const gradient_difference& d) { return d.scale <= 1e-12; }
}  // namespace detail

/*  Relative error between an analytic gradient and central differences of f at x.
    requires: f(x) returns a number (anything convertible to double) for an X like x;
              analytic has as many elements as x; step > 0.
    ensures:  returns max_i |g_i - n_i| / max(|g|_inf, |n|_inf) over `samples` random
              coordinates i (every coordinate when samples == 0), where g = analytic and
              n_i = (f(x + step e_i) - f(x - step e_i)) / (2 step). Normalising by the largest
              component keeps the measure meaningful where single components are near zero
              (ReLU masks, pooling) while still catching any wrong component.
    throws:   invalid_argument when every |g_i| and |n_i| compared is at most 1e-12: such a check
              cannot fail, and 0 would read as a pass (set the parameters, pick another x, or
              compare more coordinates). */
template <class F, class X>
double gradient_error(F&& f, X x, const X& analytic, std::size_t samples, std::mt19937& rng,
                      double step = 1e-5) {
    const detail::gradient_difference d =
        detail::compare_gradients(f, std::move(x), analytic, samples, rng, step);
    if (detail::nothing_compared(d))
        throw invalid_argument("gradient_error: both gradients are zero at all " +
                               std::string(samples == 0 ? "" : "sampled ") +
                               "coordinates compared (|component| <= 1e-12), so the check cannot fail; "
                               "set the parameters f depends on (a conv3x3 computes zeros until "
                               "set_weights), or check at another x");
    return d.worst / d.scale;
}

/*  Checks layer's backward (and its compact-state backward, when it has one) against finite
    differences of its forward, at an input of input_shape with entries uniform in [-1, 1).
    requires: is_layer_v<Layer> (layer_abstract.hpp); input_shape is a valid input for it.
    ensures:  returns the worst gradient_error of dL/dx, every coordinate checked, for
              L(x) = sum(r * forward(x)) with r uniform in [-1, 1) (seeded by `seed`).
    throws:   shape_error when forward's output does not have Layer::output_shape(input_shape)
              or backward's result does not have input_shape (the contract is broken);
              invalid_argument when both gradients are zero everywhere (see above). */
template <class Layer>
double test_layer(const Layer& layer, const shape3& input_shape, std::uint32_t seed = 1,
                  double step = 1e-5) {
    static_assert(check_layer<Layer>(), "test_layer needs a layer (layer_abstract.hpp)");
    using T = typename Layer::value_type;
    std::mt19937 rng(seed);
    const tensor3<T> x = random_tensor<T, 3>(input_shape, rng);
    tensor3<T> y;
    layer.forward(x, y);
    if (shape_of(y) != Layer::output_shape(input_shape))
        throw shape_error("test_layer: forward gave " + shape_string(y.shape()) +
                          " but output_shape says " +
                          shape_string(Layer::output_shape(input_shape)));
    const tensor3<T> r = random_tensor<T, 3>(shape_of(y), rng);
    const tensor3<T> dx = layer.backward(x, y, tensor3<T>(r), input_shape);
    if (shape_of(dx) != input_shape)
        throw shape_error("test_layer: backward gave " + shape_string(dx.shape()) +
                          " for an input of " + shape_string(input_shape));
    const auto loss = [&](const tensor3<T>& at) {
        tensor3<T> out;
        layer.forward(at, out);
        return double(xt::sum(out * r)());
    };
    const detail::gradient_difference d = detail::compare_gradients(loss, x, dx, 0, rng, step);
    if (detail::nothing_compared(d))
        throw invalid_argument("test_layer: backward and the finite differences of forward both give "
                               "dL/dx = 0 at every coordinate of an input of " + shape_string(input_shape) +
                               ", so the check cannot fail; set the layer's parameters first (a conv3x3 "
                               "computes zeros until set_weights)");
    double worst = d.worst / d.scale;
    if constexpr (detail::has_saved_state<Layer>::value) {
        typename Layer::saved_state state;
        layer.save_for_backward(y, state);
        const tensor3<T> dx_saved = layer.backward(state, tensor3<T>(r), input_shape);
        if (shape_of(dx_saved) != input_shape)
            throw shape_error("test_layer: backward from the saved state gave " +
                              shape_string(dx_saved.shape()) + " for an input of " +
                              shape_string(input_shape));
        worst = std::max(worst, gradient_error(loss, x, dx_saved, 0, rng, step));
    }
    return worst;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
