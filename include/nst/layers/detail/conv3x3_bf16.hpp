// The implicit-GEMM 3x3 convolution (conv3x3_implicit.hpp) with bfloat16 inputs and float
// sums, for CPUs with AVX512_BF16 (conv_precision::bf16, conv_precision.hpp).
//
// VDPBF16PS multiplies 32 bf16 pairs and adds each lane's two products to a float lane, so the
// GEMM's reduction dimension is taken two input channels at a time: every 32-bit element of
// the slab and of the packed weights holds channels 2k (low half) and 2k+1 (high half). Then
// the blocking, the slab addressing (tap (ky, kx) of pixel p is at p + ky * row_stride + kx)
// and the epilogue are those of the float kernel, with channel pairs in place of channels.
// Activations are rounded while copied into the slab, weights while packed; an odd channel
// count gets a zero partner channel.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../../core/isa_namespace.hpp"
#include "../../core/threads.hpp"
#include "conv3x3_implicit.hpp"
#include "thread_scratch.hpp"

#if defined(__AVX512BF16__) && defined(__AVX512F__)
#define NST_CONV3X3_BF16 1

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// float -> bfloat16, rounded to nearest even (as VCVTNEPS2BF16); NaN stays NaN.
inline std::uint32_t bf16_bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (u >> 16) | 0x40u;
    return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
}

// 32-bit elements of the bf16 weights packed for (c_in, c_out): like the float packing with
// input channels rounded up to pairs.
inline std::size_t conv3x3_bf16_packed_size(std::size_t c_in, std::size_t c_out) {
    const std::size_t mr = conv3x3_mr;
    return (c_out + mr - 1) / mr * mr * (c_in + 1) / 2 * 9;
}

// As conv3x3_implicit_pack (forward, or the adjoint when adjoint is set) with bf16 channel
// pairs: packed[((m * pairs + k) * 9 + tap) * MR + r] holds inputs 2k, 2k+1 of output m*MR + r.
template <class T>
void conv3x3_bf16_pack(const T* weights, std::size_t c_in, std::size_t c_out, bool adjoint,
                       std::uint32_t* packed) {
    const std::size_t mr = conv3x3_mr;
    const std::size_t ins = adjoint ? c_out : c_in, outs = adjoint ? c_in : c_out;
    const std::size_t pairs = (ins + 1) / 2, blocks = (outs + mr - 1) / mr;
    auto weight = [&](std::size_t i, std::size_t o, std::size_t tap) -> std::uint32_t {
        if (i >= ins || o >= outs) return 0;
        return bf16_bits(float(adjoint ? weights[(i * c_in + o) * 9 + (8 - tap)]
                                       : weights[(o * c_in + i) * 9 + tap]));
    };
    // Forward reads W block by block (MR rows), the adjoint pair by pair (two rows): in order.
    const std::size_t outer = adjoint ? pairs : blocks, inner = adjoint ? blocks : pairs;
#pragma omp parallel for schedule(static) if (blocks * pairs >= 2048)
    for (std::ptrdiff_t j = 0; j < std::ptrdiff_t(outer); ++j)
        for (std::size_t i = 0; i < inner; ++i) {
            const std::size_t m = adjoint ? i : std::size_t(j), k = adjoint ? std::size_t(j) : i;
            std::uint32_t* dst = packed + (m * pairs + k) * 9 * mr;
            for (std::size_t r = 0; r < mr; ++r)
                for (std::size_t tap = 0; tap < 9; ++tap)
                    dst[tap * mr + r] = weight(2 * k, m * mr + r, tap) |
                                        weight(2 * k + 1, m * mr + r, tap) << 16;
        }
}

// 16 lanes of (even, odd) rounded to bf16 and interleaved: lane i = even[i] | odd[i] << 16.
// (zero-masked forms: GCC 12 warns on the plain ones' undefined pass-through operand)
inline __m512i bf16_pairs(__m512 even, __m512 odd) {
    const __mmask16 all = 0xFFFF;
    const __m512i lo = _mm512_maskz_cvtepu16_epi32(all, __m256i(_mm512_cvtneps_pbh(even)));
    const __m512i hi = _mm512_maskz_cvtepu16_epi32(all, __m256i(_mm512_cvtneps_pbh(odd)));
    return _mm512_or_si512(lo, _mm512_maskz_slli_epi32(all, hi, 16));
}

// conv3x3_microkernel with bf16 channel pairs: c[r][j] (+)= sum over pairs k < pairs and taps
// of the dot product of a[(k*9 + tap)*MR + r] and b[k*channel_stride + ky*row_stride + kx + j].
template <int MR, int NV>
inline void conv3x3_bf16_microkernel(const std::uint32_t* a, const std::uint32_t* b,
                                     std::size_t channel_stride, std::size_t row_stride,
                                     std::size_t pairs, float* c, std::size_t ldc,
                                     bool accumulate) {
    __m512 acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            acc[r][v] = accumulate ? _mm512_loadu_ps(c + r * ldc + v * 16) : _mm512_setzero_ps();

    for (std::size_t k = 0; k < pairs; ++k, a += 9 * MR, b += channel_stride) {
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ++ky) {
            const std::uint32_t* row = b + ky * row_stride;
#pragma GCC unroll 3
            for (int kx = 0; kx < 3; ++kx) {
                __m512bh px[NV];
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v)
                    px[v] = __m512bh(_mm512_loadu_si512(row + kx + v * 16));
                const std::uint32_t* w = a + (ky * 3 + kx) * MR;
#pragma GCC unroll 16
                for (int r = 0; r < MR; ++r) {
                    const __m512bh wr = __m512bh(_mm512_set1_epi32(int(w[r])));
#pragma GCC unroll 8
                    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], wr, px[v]);
                }
            }
        }
    }

#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + r * ldc + v * 16, acc[r][v]);
}

// Slab rows of one band as bf16 channel pairs: input rows r0-1 .. r0+nr, a zero column each
// side, zeros past the end (the layout of conv3x3_implicit's float slab).
inline void conv3x3_bf16_fill_slab(const float* in, std::size_t c_in, std::size_t h,
                                   std::size_t w, std::size_t r0, std::size_t nr,
                                   const conv3x3_implicit_plan& plan, std::uint32_t* slab) {
    const std::size_t wp = plan.padded_width, cs = plan.channel_stride;
    for (std::size_t k = 0; k < (c_in + 1) / 2; ++k) {
        std::uint32_t* s = slab + k * cs;
        std::memset(s, 0, cs * sizeof(std::uint32_t));
        const bool odd = 2 * k + 1 < c_in;
        for (std::size_t yy = 0; yy < nr + 2; ++yy) {
            const std::ptrdiff_t y = std::ptrdiff_t(r0 + yy) - 1;
            if (y < 0 || y >= std::ptrdiff_t(h)) continue;
            const float* even_row = in + (2 * k * h + std::size_t(y)) * w;
            const float* odd_row = even_row + h * w;
            for (std::size_t x = 0; x < w; x += 16) {
                const __mmask16 live = __mmask16((1u << std::min<std::size_t>(16, w - x)) - 1);
                const __m512 even = _mm512_maskz_loadu_ps(live, even_row + x);
                const __m512 odd_v =
                    odd ? _mm512_maskz_loadu_ps(live, odd_row + x) : _mm512_setzero_ps();
                _mm512_mask_storeu_epi32(s + yy * wp + 1 + x, live, bf16_pairs(even, odd_v));
            }
        }
    }
}

// out (c_out x h x w) = act(conv(in (c_in x h x w)) + bias) in bf16 products with float sums.
// requires: packed from conv3x3_bf16_pack for (c_in, c_out) (or its adjoint packing); bias
//   null or c_out values; in and out do not overlap.
inline void conv3x3_implicit_bf16(const float* in, std::size_t c_in, std::size_t h,
                                  std::size_t w, const std::uint32_t* packed, const float* bias,
                                  bool relu, float* out, std::size_t c_out) {
    constexpr int MR = conv3x3_mr, NV = conv3x3_nv;
    const std::size_t pairs = (c_in + 1) / 2;
    // Channel pairs take a channel's place in the float kernel's blocking.
    const conv3x3_implicit_plan plan(pairs, c_out, h, w, num_threads());
    const std::size_t wp = plan.padded_width, cs = plan.channel_stride, ldc = plan.band_stride;
    const std::size_t bands = (h + plan.rows - 1) / plan.rows;

#pragma omp parallel num_threads(plan.threads)
    {
        auto* const slab = reinterpret_cast<std::uint32_t*>(
            thread_scratch(scratch_slot::implicit_slab, pairs * cs));
        float* const band = thread_scratch(scratch_slot::implicit_band, plan.out_padded * ldc);

#pragma omp for schedule(dynamic)
        for (std::ptrdiff_t task = 0; task < std::ptrdiff_t(bands * plan.splits); ++task) {
            const conv3x3_implicit_task at(plan, h, c_out, std::size_t(task));
            const std::size_t r0 = at.r0, nr = at.nr, tiles = at.tiles;
            conv3x3_bf16_fill_slab(in, c_in, h, w, r0, nr, plan, slab);
            for (std::size_t k0 = 0; k0 < pairs; k0 += plan.channel_block) {
                const std::size_t nk = std::min(plan.channel_block, pairs - k0);
                for (std::size_t t = 0; t < tiles; ++t)
                    for (std::size_t m = at.m0; m < at.m1; ++m)
                        conv3x3_bf16_microkernel<MR, NV>(
                            packed + (m * pairs + k0) * 9 * MR, slab + k0 * cs + t * plan.tile,
                            cs, wp, nk, band + m * MR * ldc + t * plan.tile, ldc, k0 > 0);
            }
            conv3x3_band_epilogue(band, ldc, wp, bias, relu, out, at.m0 * MR,
                                  std::min(c_out, at.m1 * MR), h, w, r0, nr);
        }
    }
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst

#endif
