// 64 floats <-> one 64-bit word of "positive" bits (the ReLU's compact saved state, relu.hpp),
// with the vector unit of the instruction set the translation unit is compiled for.
#pragma once

#include <cstdint>

#include "../../core/isa_namespace.hpp"
#include "simd_target.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// ensures: bit b of the result == (p[b] > 0) for b < 64.
inline std::uint64_t positive_bits64(const float* p) {
    std::uint64_t word = 0;
#if NST_SIMD_FLOAT_WIDTH == 16
    for (int k = 0; k < 4; ++k)
        word |= std::uint64_t(_mm512_cmp_ps_mask(_mm512_loadu_ps(p + 16 * k), _mm512_setzero_ps(),
                                                 _CMP_GT_OQ))
                << (16 * k);
#elif NST_SIMD_FLOAT_WIDTH == 8
    for (int k = 0; k < 8; ++k)
        word |= std::uint64_t(unsigned(_mm256_movemask_ps(
                    _mm256_cmp_ps(_mm256_loadu_ps(p + 8 * k), _mm256_setzero_ps(), _CMP_GT_OQ))))
                << (8 * k);
#else
    for (int b = 0; b < 64; ++b) word |= std::uint64_t(p[b] > 0.0f) << b;
#endif
    return word;
}

// ensures: q[b] = 0 wherever bit b of word is clear, for b < 64.
inline void zero_where_clear64(float* q, std::uint64_t word) {
#if NST_SIMD_FLOAT_WIDTH == 16
    for (int k = 0; k < 4; ++k)
        _mm512_storeu_ps(q + 16 * k, _mm512_maskz_mov_ps(__mmask16(word >> (16 * k)),
                                                         _mm512_loadu_ps(q + 16 * k)));
#elif NST_SIMD_FLOAT_WIDTH == 8
    const __m256i lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    for (int k = 0; k < 8; ++k) {
        const __m256i bits = _mm256_set1_epi32(int((word >> (8 * k)) & 0xFFu));
        const __m256i keep = _mm256_cmpeq_epi32(_mm256_and_si256(bits, lane_bits), lane_bits);
        _mm256_storeu_ps(q + 8 * k,
                         _mm256_and_ps(_mm256_loadu_ps(q + 8 * k), _mm256_castsi256_ps(keep)));
    }
#else
    for (int b = 0; b < 64; ++b) q[b] = (word >> b) & 1u ? q[b] : 0.0f;
#endif
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
