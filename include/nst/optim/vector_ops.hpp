// Internal helpers shared by the optimizers: the few vector operations they need, written on raw
// contiguous storage so any container with data()/size() works (xt::xtensor<T, N> of any rank).
// Reductions accumulate in double: with float data a float accumulator loses digits after a few
// thousand elements, and the optimizers' decisions (curvature test, Wolfe tests) depend on them.
#pragma once

#include <algorithm>
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

// out = a
template <class T> void copy(const T* a, T* out, std::size_t n) { std::copy(a, a + n, out); }

// a == b element by element
template <class T> bool equal(const T* a, const T* b, std::size_t n) { return std::equal(a, a + n, b); }

// a *= alpha
template <class T> void scale(double alpha, T* a, std::size_t n) {
    const T s = static_cast<T>(alpha);
    for (std::size_t i = 0; i < n; ++i) a[i] *= s;
}

// out = alpha * a
template <class T> void scaled_copy(double alpha, const T* a, T* out, std::size_t n) {
    const T s = static_cast<T>(alpha);
    for (std::size_t i = 0; i < n; ++i) out[i] = s * a[i];
}

// out = a - b
template <class T> void difference(const T* a, const T* b, T* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = a[i] - b[i];
}

// {s'y, y'y} for s = x - x_prev, y = g - g_prev (each difference rounded to T, as stored)
template <class T>
std::pair<double, double> curvature(const T* x, const T* x_prev, const T* g, const T* g_prev, std::size_t n) {
    double sy = 0.0, yy = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double s = static_cast<double>(x[i] - x_prev[i]), y = static_cast<double>(g[i] - g_prev[i]);
        sy += s * y;
        yy += y * y;
    }
    return {sy, yy};
}

template <class T> bool all_finite(const T* a, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(a[i])) return false;
    return true;
}

}  // namespace nst::optim_detail
