// The register-blocked inner loop of the implicit-GEMM 3x3 convolution (conv3x3_implicit.hpp).
//
// It computes a tile of ROWS output channels x NV vectors of consecutive output pixels,
// accumulating over a block of input channels and the nine taps. The pixels are read straight
// from the zero-bordered input slab: in the slab's padded-width coordinates tap (ky, kx) of the
// pixel at offset p is the element at p + ky * row_stride + kx, so the GEMM's "B" operand needs
// no packing (implicit GEMM). The weights ("A") are packed per block of MR output channels:
// a[(ci * 9 + tap) * MR + r], so each tap is MR consecutive broadcasts.
//
// Register budget (AVX-512, 32 registers): ROWS x NV accumulators + NV pixel vectors + one
// broadcast, e.g. 8 x 3 + 3 + 1 = 28.
#pragma once

#include <cstddef>

#include "../../core/isa_namespace.hpp"
#include "simd_float.hpp"

#if NST_SIMD_FLOAT_WIDTH > 0

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// requires: a holds the packed weights of `channels` input channels (stride MR per tap);
//   b + ci * channel_stride + ky * row_stride + kx + [0, NV * width) is readable for every
//   ci < channels, ky, kx < 3; c has ROWS rows of NV * width floats at stride ldc.
// ensures: c[r][j] (+)= sum_{ci, ky, kx} a[(ci*9 + ky*3 + kx)*MR + r] * b[ci*channel_stride +
//   ky*row_stride + kx + j], with += when accumulate, = otherwise.
template <int MR, int ROWS, int NV>
inline void conv3x3_microkernel(const float* a, const float* b, std::size_t channel_stride,
                                std::size_t row_stride, std::size_t channels, float* c,
                                std::size_t ldc, bool accumulate) {
    static_assert(ROWS >= 1 && ROWS <= MR, "tile rows must fit the packing");
    using V = simd_float;
    constexpr int W = V::width;
    typename V::reg acc[ROWS][NV];
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            acc[r][v] = accumulate ? V::loadu(c + r * ldc + v * W) : V::zero();

    for (std::size_t ci = 0; ci < channels; ++ci, a += 9 * MR, b += channel_stride) {
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ++ky) {
            const float* row = b + ky * row_stride;
#pragma GCC unroll 3
            for (int kx = 0; kx < 3; ++kx) {
                typename V::reg px[NV];
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v) px[v] = V::loadu(row + kx + v * W);
                const float* w = a + (ky * 3 + kx) * MR;
#pragma GCC unroll 16
                for (int r = 0; r < ROWS; ++r) {
                    const typename V::reg wr = V::broadcast(w + r);
#pragma GCC unroll 8
                    for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(wr, px[v], acc[r][v]);
                }
            }
        }
    }

#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) V::storeu(c + r * ldc + v * W, acc[r][v]);
}

// As conv3x3_microkernel<MR, MR, NV> for the first `rows` (1..MR) output channels of a block
// only: a partial last block (conv1_1's backward pass has 3 outputs) skips the multiply-adds
// of its zero padding rows; c rows past `rows` are left untouched.
template <int MR, int NV, int ROWS = 1>
inline void conv3x3_microkernel_rows(std::size_t rows, const float* a, const float* b,
                                     std::size_t channel_stride, std::size_t row_stride,
                                     std::size_t channels, float* c, std::size_t ldc,
                                     bool accumulate) {
    if constexpr (ROWS >= MR) {
        conv3x3_microkernel<MR, MR, NV>(a, b, channel_stride, row_stride, channels, c, ldc,
                                        accumulate);
    } else {
        if (rows == std::size_t(ROWS))
            return conv3x3_microkernel<MR, ROWS, NV>(a, b, channel_stride, row_stride, channels,
                                                     c, ldc, accumulate);
        conv3x3_microkernel_rows<MR, NV, ROWS + 1>(rows, a, b, channel_stride, row_stride,
                                                   channels, c, ldc, accumulate);
    }
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst

#endif
