// Gram matrix of a layer's activations: G = F F^T / scale, with F the C x (H*W) matrix of the
// C x H x W activations (channel-major storage makes F a view, no copy), and its backward.
//
// Both run on blocks distributed over nst's one OpenMP team: the forward splits the long
// dimension M = H*W into one share per thread, each thread computing only the upper triangle
// of its share's product, and the partial sums are added and mirrored in one parallel pass; the
// backward splits the columns of F. Each share is one call on the calling thread: for float in
// units compiled for AVX-512, nst's own kernels (detail/gram_avx512.hpp: 1.4-2x OpenBLAS's
// rate on this project's machines, whatever kernel set OpenBLAS detects); otherwise BLAS syrk
// and gemm. Inside an active OpenMP parallel region the OpenMP build of OpenBLAS runs each call
// on the calling thread alone (it checks omp_in_parallel()), so no process-wide BLAS thread
// setting is touched and threads are never oversubscribed. The region is active even when there
// is only one share (few columns): OpenBLAS then never starts threads of its own, which under
// LLVM's libomp (what clang's -fopenmp links) can wait forever in its threaded sgemm on small
// shapes (129 x 17 x 129 on 2 or 3 threads, Debian's OpenBLAS 0.3.21).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../core/isa_namespace.hpp"
#include "../core/blas.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../core/threads.hpp"
#include "detail/accumulator.hpp"
#include "detail/gram_avx512.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

namespace detail {

inline int team_rank() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
inline int team_size() {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

// Part `part` of `parts` near-equal contiguous shares of n items: its first item.
inline std::size_t share_begin(std::size_t n, int part, int parts) {
    return n * std::size_t(part) / std::size_t(parts);
}

// Shares worth making of n columns: BLAS calls on a few columns cost more than they save.
// Threads beyond that many shares only join the team (see above) and the mirroring pass.
inline int column_parts(std::size_t n) {
    constexpr std::size_t min_columns = 16;
    return int(std::max<std::size_t>(1, std::min<std::size_t>(num_threads(), n / min_columns)));
}

// Room for the partial Gram sums of the other threads, kept per calling thread so that
// repeated evaluations reuse memory that is already mapped.
template <class T> T* gram_partials(std::size_t size) {
    thread_local std::vector<T> partials;
    if (partials.size() < size) partials.resize(size);
    return partials.data();
}

// Upper triangle of g (c x c) = alpha * f[:, begin:end] f[:, begin:end]^T, f c x m row-major,
// on the calling thread: nst's AVX-512 kernel for float where compiled in, else BLAS syrk.
template <class T>
void upper_share(const T* f, std::size_t c, std::size_t m, std::size_t begin, std::size_t end, T alpha, T* g) {
#if NST_GRAM_AVX512
    if constexpr (std::is_same_v<T, float>) return gram_avx512::upper_gram(f, c, m, begin, end, alpha, g);
#endif
    blas::syrk_upper(int(c), int(end - begin), alpha, f + begin, int(m), T(0), g, int(c));
}

// out[:, begin:end] = alpha * s f[:, begin:end] (s c x c, f and out c x m, row-major), or
// out[:, begin:end] += that when accumulate, on the calling thread: nst's AVX-512 kernel for
// float where compiled in, else BLAS gemm (beta 1 also spares OpenBLAS's pass zeroing out).
template <class T>
void left_share(const T* s, const T* f, std::size_t c, std::size_t m, std::size_t begin, std::size_t end, T alpha,
                bool accumulate, T* out) {
#if NST_GRAM_AVX512
    if constexpr (std::is_same_v<T, float>)
        return gram_avx512::left_product(s, f, c, m, begin, end, alpha, accumulate, out);
#endif
    blas::gemm(false, false, int(c), int(end - begin), int(c), alpha, s, int(c), f + begin, int(m),
               accumulate ? T(1) : T(0), out + begin, int(m));
}

// g (c x c, all entries) = alpha * f f^T for the c x m row-major matrix f.
template <class T> void gram_product(const T* f, std::size_t c, std::size_t m, T alpha, T* g) {
    const int parts = column_parts(m);
    T* partials = gram_partials<T>(std::size_t(parts - 1) * c * c);
#pragma omp parallel num_threads(num_threads())
    {
        // The team may be smaller than asked for (nested in a caller's region, thread limits).
        const int rank = team_rank(), shares = std::min(parts, team_size());
        if (rank < shares) {
            const std::size_t begin = share_begin(m, rank, shares), end = share_begin(m, rank + 1, shares);
            T* mine = rank == 0 ? g : partials + std::size_t(rank - 1) * c * c;
            upper_share(f, c, m, begin, end, alpha, mine);
        }
#pragma omp barrier
        // Row r of the upper triangle: add the partial sums, mirror into column r. Chunks of
        // 16 rows balance the shrinking rows and keep threads off each other's cache lines.
#pragma omp for schedule(static, 16) nowait
        for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(c); ++i) {
            const std::size_t r = std::size_t(i);
            for (std::size_t j = r; j < c; ++j) {
                const std::size_t at = r * c + j;
                T sum = g[at];
                for (int q = 1; q < shares; ++q) sum += partials[std::size_t(q - 1) * c * c + at];
                g[at] = g[j * c + r] = sum;
            }
        }
    }
}

// d (c x c) = d + d^T, in place.
template <class T> void symmetrize(T* d, std::size_t c) {
#pragma omp parallel for schedule(static, 16) if (c >= 64)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(c); ++i) {
        const std::size_t r = std::size_t(i);
        d[r * c + r] *= T(2);
        for (std::size_t j = r + 1; j < c; ++j) d[r * c + j] = d[j * c + r] += d[r * c + j];
    }
}

// out (c x m) = alpha * s f (or out += alpha * s f when accumulate) for the c x c matrix s and
// the c x m matrix f, row-major.
template <class T>
void left_product(const T* s, const T* f, std::size_t c, std::size_t m, T alpha, bool accumulate, T* out) {
    const int parts = column_parts(m);
#pragma omp parallel num_threads(num_threads())
    {
        const int rank = team_rank(), shares = std::min(parts, team_size());
        if (rank < shares)
            left_share(s, f, c, m, share_begin(m, rank, shares), share_begin(m, rank + 1, shares), alpha,
                       accumulate, out);
    }
}

// The checks shared by the backward forms below.
template <class T>
void require_gram_backward_shapes(const char* what, const tensor3<T>& f, const tensor2<T>& dg) {
    if (f.size() == 0)
        throw shape_error(std::string(what) + ": expected non-empty C x H x W activations, got " +
                          shape_string(f.shape()));
    const std::size_t c = f.shape(0);
    if (dg.shape(0) != c || dg.shape(1) != c)
        throw shape_error(std::string(what) + ": expected a " + std::to_string(c) + " x " +
                          std::to_string(c) + " gradient for activations " +
                          shape_string(f.shape()) + ", got " + shape_string(dg.shape()));
}

}  // namespace detail

// requires: f non-empty, scale != 0. ensures: returns the symmetric C x C matrix F F^T / scale.
template <class T> tensor2<T> gram(const tensor3<T>& f, T scale = T(1)) {
    if (f.size() == 0)
        throw shape_error("gram: expected non-empty C x H x W activations, got " +
                          shape_string(f.shape()));
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    auto g = tensor2<T>::from_shape({c, c});
    detail::gram_product(f.data(), c, m, T(1) / scale, g.data());
    return g;
}

// Backward of gram: given dL/dG, writes dL/dF = (dG + dG^T) F / scale into df (its storage is
// reused when it already has f's shape).
template <class T>
void gram_backward(const tensor3<T>& f, const tensor2<T>& dg, T scale, tensor3<T>& df) {
    detail::require_gram_backward_shapes("gram_backward", f, dg);
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    tensor2<T> sym = dg;
    detail::symmetrize(sym.data(), c);
    df.resize(f.shape());
    detail::left_product(sym.data(), f.data(), c, m, T(1) / scale, false, df.data());
}

// Backward of gram for a symmetric dL/dG, e.g. a style loss's 2 (G - A) / denom (G and its
// target are symmetric): dL/dF = 2 dG F / scale, the same as gram_backward without the copy and
// mirror of dG. requires: dg symmetric (not checked; a non-symmetric dg gives 2 dG F / scale).
template <class T>
void symmetric_gram_backward(const tensor3<T>& f, const tensor2<T>& dg, T scale, tensor3<T>& df) {
    detail::require_gram_backward_shapes("symmetric_gram_backward", f, dg);
    df.resize(f.shape());
    detail::left_product(dg.data(), f.data(), f.shape(0), f.shape(1) * f.shape(2), T(2) / scale, false,
                         df.data());
}

// The same two, adding weight * dL/dF to df (f's shape) in the product's own pass: no
// separate gradient, scaling or sum (a network's gradient gathers several such terms).
template <class T>
void add_gram_backward(const tensor3<T>& f, const tensor2<T>& dg, T scale, T weight, tensor3<T>& df) {
    detail::require_gram_backward_shapes("add_gram_backward", f, dg);
    detail::require_accumulator("add_gram_backward", f, df);
    const std::size_t c = f.shape(0);
    tensor2<T> sym = dg;
    detail::symmetrize(sym.data(), c);
    detail::left_product(sym.data(), f.data(), c, f.shape(1) * f.shape(2), weight / scale, true, df.data());
}
template <class T>
void add_symmetric_gram_backward(const tensor3<T>& f, const tensor2<T>& dg, T scale, T weight, tensor3<T>& df) {
    detail::require_gram_backward_shapes("add_symmetric_gram_backward", f, dg);
    detail::require_accumulator("add_symmetric_gram_backward", f, df);
    detail::left_product(dg.data(), f.data(), f.shape(0), f.shape(1) * f.shape(2), T(2) * weight / scale,
                         true, df.data());
}

template <class T>
tensor3<T> gram_backward(const tensor3<T>& f, const tensor2<T>& dg, T scale = T(1)) {
    tensor3<T> df;
    gram_backward(f, dg, scale, df);
    return df;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
