// A plain register-blocked float GEMM tile for the Winograd convolution's 36 products
// (conv3x3_winograd.hpp): C (ROWS x NV vectors) (+)= A (k x MR, packed) * B (k rows of stride ldb).
#pragma once

#include <cstddef>

#include "../../core/isa_namespace.hpp"
#include "simd_float.hpp"

#if NST_SIMD_FLOAT_WIDTH > 0

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// requires: a[kk * MR + r] for kk < k, r < ROWS; b[kk * ldb + j] for j < NV * width;
//   c has ROWS rows of NV * width floats at stride ldc.
// ensures: c[r][j] (+)= sum_kk a[kk*MR + r] * b[kk*ldb + j] (+= when accumulate).
template <int MR, int ROWS, int NV>
inline void gemm_microkernel(const float* a, const float* b, std::size_t ldb, std::size_t k,
                             float* c, std::size_t ldc, bool accumulate) {
    static_assert(ROWS >= 1 && ROWS <= MR, "tile rows must fit the packing");
    using V = simd_float;
    constexpr int W = V::width;
    typename V::reg acc[ROWS][NV];
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            acc[r][v] = accumulate ? V::loadu(c + r * ldc + v * W) : V::zero();

#pragma GCC unroll 4
    for (std::size_t kk = 0; kk < k; ++kk, a += MR, b += ldb) {
        typename V::reg px[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) px[v] = V::loadu(b + v * W);
#pragma GCC unroll 16
        for (int r = 0; r < ROWS; ++r) {
            const typename V::reg ar = V::broadcast(a + r);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(ar, px[v], acc[r][v]);
        }
    }

#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) V::storeu(c + r * ldc + v * W, acc[r][v]);
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst

#endif
