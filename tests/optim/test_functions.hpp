// Analytic test functions for the optimizer tests (no network is needed to test an optimizer) and
// small helpers to compare what an optimizer reports.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <nst/core/tensor.hpp>

namespace nst::test {

// f(a, b) = (1 - a)^2 + 100 (b - a^2)^2; minimum 0 at (1, 1). Computed in double for any T.
template <class T> struct rosenbrock {
    T operator()(const tensor1<T>& x, tensor1<T>& g) const {
        const double a = x(0), b = x(1);
        g(0) = static_cast<T>(-2.0 * (1.0 - a) - 400.0 * a * (b - a * a));
        g(1) = static_cast<T>(200.0 * (b - a * a));
        return static_cast<T>((1.0 - a) * (1.0 - a) + 100.0 * (b - a * a) * (b - a * a));
    }
};

template <class T> tensor1<T> rosenbrock_start() { return tensor1<T>{T(-1.2), T(1)}; }

template <class T> double distance_to_one(const tensor1<T>& x) {
    return std::max(std::abs(double(x(0)) - 1.0), std::abs(double(x(1)) - 1.0));
}

// f(x) = offset + 1/2 sum_i lambda_i (x_i - c_i)^2 with lambda linearly spaced in
// [1, condition]: Hessian condition number `condition`, minimiser c (known), minimum `offset`.
template <class T> struct quadratic {
    std::vector<double> lambda, centre;
    double offset;

    quadratic(std::size_t n, double condition, double offset_ = 0.0) : offset(offset_) {
        for (std::size_t i = 0; i < n; ++i) {
            const double t = n > 1 ? double(i) / double(n - 1) : 0.0;
            lambda.push_back(1.0 + (condition - 1.0) * t);
            centre.push_back(1.0 + 0.5 * std::sin(double(i)));
        }
    }
    T operator()(const tensor1<T>& x, tensor1<T>& g) const {
        double f = 0.0;
        for (std::size_t i = 0; i < lambda.size(); ++i) {
            const double e = double(x(i)) - centre[i];
            f += 0.5 * lambda[i] * e * e;
            g(i) = static_cast<T>(lambda[i] * e);
        }
        return static_cast<T>(offset + f);
    }
    double relative_error(const tensor1<T>& x) const {
        double err = 0.0, ref = 0.0;
        for (std::size_t i = 0; i < centre.size(); ++i) {
            err += (double(x(i)) - centre[i]) * (double(x(i)) - centre[i]);
            ref += centre[i] * centre[i];
        }
        return std::sqrt(err / ref);
    }
};

template <class T> std::vector<double> to_vector(const tensor1<T>& t) {
    return std::vector<double>(t.begin(), t.end());
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

}  // namespace nst::test
