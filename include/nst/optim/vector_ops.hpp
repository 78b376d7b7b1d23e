// Internal helpers shared by the optimizers: the few vector operations they need, written on raw
// contiguous storage so any container with data()/size() works (xt::xtensor<T, N> of any rank).
// Reductions accumulate in double: with float data a float accumulator loses digits after a few
// thousand elements, and the optimizers' decisions (curvature test, Wolfe tests) depend on them.
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace nst::optim_detail {

// The element type of a container X, as seen through X::data().
template <class X>
using element_t = std::remove_cv_t<std::remove_reference_t<decltype(*std::declval<X&>().data())>>;

template <class T> double dot(const T* a, const T* b, std::size_t n) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    return sum;
}

template <class T> double norm(const T* a, std::size_t n) { return std::sqrt(dot(a, a, n)); }

// Euclidean distance |a - b|
template <class T> double distance(const T* a, const T* b, std::size_t n) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
        sum += diff * diff;
    }
    return std::sqrt(sum);
}

// y += alpha * x
template <class T> void axpy(double alpha, const T* x, T* y, std::size_t n) {
    const T a = static_cast<T>(alpha);
    for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// out = x + alpha * d (the trial point of a line search)
template <class T> void point_on_ray(const T* x, double alpha, const T* d, T* out, std::size_t n) {
    const T a = static_cast<T>(alpha);
    for (std::size_t i = 0; i < n; ++i) out[i] = x[i] + a * d[i];
}

template <class T> bool all_finite(const T* a, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(a[i])) return false;
    return true;
}

}  // namespace nst::optim_detail
