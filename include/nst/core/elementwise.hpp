// Element-wise passes over whole tensors (gradient accumulation, scaling, copies), split over
// the one OpenMP team: on the large activations of the first blocks a serial pass would leave
// the other cores idle. Any container with contiguous data() and size() works (nst tensors,
// xt::xtensor, std::vector). Inside an enclosing parallel region they run on the calling thread.
#pragma once

#include <cstddef>
#include <string>

#include "isa_namespace.hpp"
#include "error.hpp"
#include "tensor.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

namespace detail {

// Below this many elements a pass is cheaper than waking the team.
inline constexpr std::ptrdiff_t parallel_min_elements = std::ptrdiff_t(1) << 15;

inline bool run_parallel(std::ptrdiff_t n) {
#ifdef _OPENMP
    return n >= parallel_min_elements && !omp_in_parallel();
#else
    (void)n;
    return false;
#endif
}

template <class A, class B> void require_same_size(const A& a, const B& b, const char* what) {
    if (a.size() != b.size())
        throw shape_error(std::string(what) + ": sizes differ (" + std::to_string(a.size()) +
                          " vs " + std::to_string(b.size()) + " elements)");
}

}  // namespace detail

// dst += w * src. requires: equal sizes (else shape_error).
template <class D, class S, class T> void add_scaled(D& dst, T w, const S& src) {
    detail::require_same_size(dst, src, "add_scaled");
    auto* d = dst.data();
    const auto* s = src.data();
    const auto n = std::ptrdiff_t(dst.size());
#pragma omp parallel for schedule(static) if (detail::run_parallel(n))
    for (std::ptrdiff_t i = 0; i < n; ++i) d[i] += w * s[i];
}

// dst += src. requires: equal sizes (else shape_error).
template <class D, class S> void add_to(D& dst, const S& src) {
    detail::require_same_size(dst, src, "add_to");
    auto* d = dst.data();
    const auto* s = src.data();
    const auto n = std::ptrdiff_t(dst.size());
#pragma omp parallel for schedule(static) if (detail::run_parallel(n))
    for (std::ptrdiff_t i = 0; i < n; ++i) d[i] += s[i];
}

// dst *= w.
template <class D, class T> void scale_by(D& dst, T w) {
    auto* d = dst.data();
    const auto n = std::ptrdiff_t(dst.size());
#pragma omp parallel for schedule(static) if (detail::run_parallel(n))
    for (std::ptrdiff_t i = 0; i < n; ++i) d[i] *= w;
}

// Every element of dst = v.
template <class D, class T> void fill_with(D& dst, T v) {
    auto* d = dst.data();
    const auto n = std::ptrdiff_t(dst.size());
#pragma omp parallel for schedule(static) if (detail::run_parallel(n))
    for (std::ptrdiff_t i = 0; i < n; ++i) d[i] = v;
}

// dst takes src's shape (reusing dst's storage when the size matches) and values.
template <class D, class S> void assign_copy(D& dst, const S& src) {
    dst.resize(src.shape());
    auto* d = dst.data();
    const auto* s = src.data();
    const auto n = std::ptrdiff_t(dst.size());
#pragma omp parallel for schedule(static) if (detail::run_parallel(n))
    for (std::ptrdiff_t i = 0; i < n; ++i) d[i] = s[i];
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
