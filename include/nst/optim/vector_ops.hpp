// Internal helpers shared by the optimizers: the vector operations they need, written on raw
// contiguous storage so any container with data()/size() works (xt::xtensor<T, N> of any rank).
//
// Every operation runs on all threads of one OpenMP team once a vector is long enough to pay
// for starting it (never nested: called inside a parallel region it runs on the calling thread).
// Each thread takes one contiguous chunk. Reductions accumulate in double, one partial sum per
// chunk, added in chunk order: the result is the same on every run with the same thread count
// (it may differ in the last bits between thread counts). Double matters: with float data a
// float accumulator loses digits after a few thousand elements, and the optimizers' decisions
// (curvature test, Wolfe tests) depend on these sums.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../core/buffer_pool.hpp"
#include "../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace optim_detail {

// The optimizers' own vectors of the image's size (L-BFGS's history and previous point, Adam's
// moments): from nst's buffer pool like the tensors, so a run maps them in huge pages and the
// next run reuses them (as std::vector<T> the L-BFGS history alone, 20 vectors, cost 0.2 s of
// page faults at the start of every 512 px run).
template <class T> using work_vector = std::vector<T, pooled_allocator<T>>;

// The element type of a container X, as seen through X::data().
template <class X>
using element_t = std::remove_cv_t<std::remove_reference_t<decltype(*std::declval<X&>().data())>>;

// Below this many elements an operation runs on the calling thread: starting a team costs
// microseconds, more than such a loop takes.
inline constexpr std::size_t parallel_threshold = std::size_t(1) << 15;

// Whether an operation on n elements uses the OpenMP team.
inline bool runs_parallel(std::size_t n) {
#ifdef _OPENMP
    return n >= parallel_threshold && !omp_in_parallel() && omp_get_max_threads() > 1;
#else
    (void)n;
    return false;
#endif
}

/*!
    ensures
        - calls body(begin, end) on disjoint contiguous chunks that together cover [0, n): one
          chunk per thread of the team when runs_parallel(n), else body(0, n) on this thread
!*/
template <class Body> void for_chunks(std::size_t n, Body&& body) {
#ifdef _OPENMP
    if (runs_parallel(n)) {
#pragma omp parallel
        {
            const auto t = static_cast<std::size_t>(omp_get_thread_num());
            const auto count = static_cast<std::size_t>(omp_get_num_threads());
            body(n * t / count, n * (t + 1) / count);
        }
        return;
    }
#endif
    body(std::size_t(0), n);
}

/*!
    requires
        - body(begin, end) returns std::array<double, K>: K sums over [begin, end)
    ensures
        - returns the K sums over [0, n): the chunks' sums (chunks as for_chunks) added in chunk
          order, so the result depends only on n, body and the team size
!*/
template <std::size_t K, class Body> std::array<double, K> sum_chunks(std::size_t n, Body&& body) {
#ifdef _OPENMP
    if (runs_parallel(n)) {
        constexpr int max_chunks = 256;
        std::array<std::array<double, K>, max_chunks> partial;
        int chunks = 1;
#pragma omp parallel num_threads(std::min(omp_get_max_threads(), max_chunks))
        {
            const auto t = static_cast<std::size_t>(omp_get_thread_num());
            const auto count = static_cast<std::size_t>(omp_get_num_threads());
            partial[t] = body(n * t / count, n * (t + 1) / count);
            if (t == 0) chunks = static_cast<int>(count);
        }
        std::array<double, K> sum{};
        for (int t = 0; t < chunks; ++t)
            for (std::size_t k = 0; k < K; ++k) sum[k] += partial[t][k];
        return sum;
    }
#endif
    return body(std::size_t(0), n);
}

// ---------------------------------------------------------------------------------------------
// Reductions (accumulated in double)

template <class T> double dot(const T* a, const T* b, std::size_t n) {
    return sum_chunks<1>(n, [=](std::size_t begin, std::size_t end) {
        double sum = 0.0;
        for (std::size_t i = begin; i < end; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
        return std::array<double, 1>{sum};
    })[0];
}

template <class T> double norm(const T* a, std::size_t n) { return std::sqrt(dot(a, a, n)); }

// Euclidean distance |a - b|
template <class T> double distance(const T* a, const T* b, std::size_t n) {
    return std::sqrt(sum_chunks<1>(n, [=](std::size_t begin, std::size_t end) {
        double sum = 0.0;
        for (std::size_t i = begin; i < end; ++i) {
            const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
            sum += diff * diff;
        }
        return std::array<double, 1>{sum};
    })[0]);
}

// {s's, s'y, y'y} for s = x - x_prev, y = g - g_prev (each difference rounded to T, as stored)
template <class T>
std::array<double, 3> curvature(const T* x, const T* x_prev, const T* g, const T* g_prev, std::size_t n) {
    return sum_chunks<3>(n, [=](std::size_t begin, std::size_t end) {
        double ss = 0.0, sy = 0.0, yy = 0.0;
        for (std::size_t i = begin; i < end; ++i) {
            const double s = static_cast<double>(x[i] - x_prev[i]), y = static_cast<double>(g[i] - g_prev[i]);
            ss += s * s;
            sy += s * y;
            yy += y * y;
        }
        return std::array<double, 3>{ss, sy, yy};
    });
}

template <class T> bool all_finite(const T* a, std::size_t n) {
    return sum_chunks<1>(n, [=](std::size_t begin, std::size_t end) {
               for (std::size_t i = begin; i < end; ++i)
                   if (!std::isfinite(a[i])) return std::array<double, 1>{1.0};
               return std::array<double, 1>{0.0};
           })[0] == 0.0;
}

// a == b element by element
template <class T> bool equal(const T* a, const T* b, std::size_t n) {
    return sum_chunks<1>(n, [=](std::size_t begin, std::size_t end) {
               return std::array<double, 1>{std::equal(a + begin, a + end, b + begin) ? 0.0 : 1.0};
           })[0] == 0.0;
}

// ---------------------------------------------------------------------------------------------
// Element-wise updates (the same result for any thread count)

// out = a
template <class T> void copy(const T* a, T* out, std::size_t n) {
    for_chunks(n, [=](std::size_t begin, std::size_t end) { std::copy(a + begin, a + end, out + begin); });
}

// a = 0
template <class T> void fill_zero(T* a, std::size_t n) {
    for_chunks(n, [=](std::size_t begin, std::size_t end) { std::fill(a + begin, a + end, T(0)); });
}

// a *= alpha
template <class T> void scale(double alpha, T* a, std::size_t n) {
    const T s = static_cast<T>(alpha);
    for_chunks(n, [=](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) a[i] *= s;
    });
}

// out = alpha * a
template <class T> void scaled_copy(double alpha, const T* a, T* out, std::size_t n) {
    const T s = static_cast<T>(alpha);
    for_chunks(n, [=](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) out[i] = s * a[i];
    });
}

// out = a - b
template <class T> void difference(const T* a, const T* b, T* out, std::size_t n) {
    for_chunks(n, [=](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) out[i] = a[i] - b[i];
    });
}

// y += alpha * x
template <class T> void axpy(double alpha, const T* x, T* y, std::size_t n) {
    const T a = static_cast<T>(alpha);
    for_chunks(n, [=](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) y[i] += a * x[i];
    });
}

// out = x + alpha * d (the trial point of a line search)
template <class T> void point_on_ray(const T* x, double alpha, const T* d, T* out, std::size_t n) {
    const T a = static_cast<T>(alpha);
    for_chunks(n, [=](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) out[i] = x[i] + a * d[i];
    });
}

// The scalars of one Adam step t (Kingma & Ba algorithm 1), bias corrections folded in:
// x -= step * m / (sqrt(v) * inv_sqrt_correction2 + eps) equals x -= lr * m_hat / (sqrt(v_hat) + eps)
// with m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t).
template <class T> struct adam_step {
    T beta1, beta2;
    T step;                  // lr / (1 - beta1^t)
    T inv_sqrt_correction2;  // 1 / sqrt(1 - beta2^t)
    T eps;
};

// Updates the moments m, v from g and moves x by one Adam step; x_prev receives the old x.
template <class T>
void adam_update(const adam_step<T>& c, const T* g, T* m, T* v, T* x, T* x_prev, std::size_t n) {
    for_chunks(n, [=](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            m[i] = c.beta1 * m[i] + (T(1) - c.beta1) * g[i];
            v[i] = c.beta2 * v[i] + (T(1) - c.beta2) * g[i] * g[i];
            x_prev[i] = x[i];
            x[i] -= c.step * m[i] / (std::sqrt(v[i]) * c.inv_sqrt_correction2 + c.eps);
        }
    });
}

}  // namespace optim_detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
