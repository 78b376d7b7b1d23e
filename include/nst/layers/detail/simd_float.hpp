// The few float vector operations nst's own kernels need, for the widest instruction set the
// translation unit is compiled for (simd_target.hpp). When none is enabled, NST_SIMD_FLOAT_WIDTH
// is 0, simd_float is not defined, and callers use their portable path.
#pragma once

#include "../../core/isa_namespace.hpp"
#include "simd_target.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

#if NST_SIMD_FLOAT_WIDTH == 16
struct simd_float {
    using reg = __m512;
    static constexpr int width = 16;
    static reg zero() { return _mm512_setzero_ps(); }
    static reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
    static reg broadcast(float v) { return _mm512_set1_ps(v); }
    static reg loadu(const float* p) { return _mm512_loadu_ps(p); }
    static void storeu(float* p, reg v) { _mm512_storeu_ps(p, v); }
    static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
    static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
    static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
    static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
    // (the zero-masked form: GCC 12 warns on _mm512_max_ps's undefined pass-through operand)
    static reg max(reg a, reg b) { return _mm512_maskz_max_ps(__mmask16(0xFFFF), a, b); }
    // lane i = base[offsets[i]], or 0 where offsets[i] < 0.
    static reg gather_or_zero(const float* base, const int* offsets) {
        const __m512i idx = _mm512_loadu_si512(offsets);
        const __mmask16 live = _mm512_cmpge_epi32_mask(idx, _mm512_setzero_si512());
        return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, idx, base, 4);
    }
};
#elif NST_SIMD_FLOAT_WIDTH == 8
struct simd_float {
    using reg = __m256;
    static constexpr int width = 8;
    static reg zero() { return _mm256_setzero_ps(); }
    static reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
    static reg broadcast(float v) { return _mm256_set1_ps(v); }
    static reg loadu(const float* p) { return _mm256_loadu_ps(p); }
    static void storeu(float* p, reg v) { _mm256_storeu_ps(p, v); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
    static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
    static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
    static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
    static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
    // lane i = base[offsets[i]], or 0 where offsets[i] < 0.
    static reg gather_or_zero(const float* base, const int* offsets) {
        const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets));
        const __m256 live = _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(-1)));
        return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, idx, live, 4);
    }
};
#endif

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
