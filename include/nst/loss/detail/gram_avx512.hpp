// AVX-512 kernels of the Gram product and its backward for float, used by gram.hpp on one
// thread's share of the columns when the unit is compiled for AVX-512 (double and other
// instruction sets use the BLAS calls).
//
// Why not only BLAS: OpenBLAS picks its kernels from its CPU detection (or OPENBLAS_CORETYPE;
// this project's machines set Haswell), and its AVX2 kernels reach about half this CPU's
// AVX-512 rate; its syrk on 64 channels with a long inner dimension stays near a third of it in
// every kernel set (benchmarks/bench_gram.cpp has the numbers).
//   upper_gram:   g = alpha F F^T on 4 x 4 tiles of the upper triangle, one chunk of M at a
//                 time: each tile keeps 16 vector sums along M (F's rows are contiguous along M)
//                 and folds them into 16 scalars with one transposing reduction.
//   left_product: out = alpha S F (or out += alpha S F) on 6 rows x 64 columns tiles: each
//                 of S's entries is broadcast against 4 vectors of one row of F, one block of
//                 columns at a time.
// Both copy their chunk / block of F first: F's rows lie a multiple of 64 KB apart at the usual
// image sizes, so unpacked they would evict each other from L1 and L2 (the backward at 64 x
// 512 x 512 ran 30x slower unpacked), and the copy's rows are aligned and padded to full vectors.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../../core/isa_namespace.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#define NST_GRAM_AVX512 1
#else
#define NST_GRAM_AVX512 0
#endif

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {
#if NST_GRAM_AVX512
namespace gram_avx512 {

// Lanes kept of the vector starting at k of the range [k, end).
inline __mmask16 lanes(std::size_t k, std::size_t end) {
    const std::size_t n = end - k;
    return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u);
}

// _mm512_shuffle_f32x4 (its masked form: GCC 12 warns about the plain one's undefined source).
#define NST_GRAM_LANES128(a, b, imm) _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, b, imm)

// The 16 sums of v[0..15] in one vector: lane 4 L + p holds the sum of v[4 p + L].
inline __m512 transpose_sums(__m512 v[16]) {
    __m512 s[8], u[4], w[2];
    for (int k = 0; k < 8; ++k)
        s[k] = _mm512_add_ps(NST_GRAM_LANES128(v[2 * k], v[2 * k + 1], 0x44),
                             NST_GRAM_LANES128(v[2 * k], v[2 * k + 1], 0xEE));
    for (int k = 0; k < 4; ++k)
        u[k] = _mm512_add_ps(NST_GRAM_LANES128(s[2 * k], s[2 * k + 1], 0x88),
                             NST_GRAM_LANES128(s[2 * k], s[2 * k + 1], 0xDD));
    for (int k = 0; k < 2; ++k)
        w[k] = _mm512_add_ps(_mm512_shuffle_ps(u[2 * k], u[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(u[2 * k], u[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm512_add_ps(_mm512_shuffle_ps(w[0], w[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(w[0], w[1], _MM_SHUFFLE(3, 1, 3, 1)));
}
#undef NST_GRAM_LANES128

// The sum of v's lanes (for the few tiles at the edges; GCC 12 warns on _mm512_reduce_add_ps).
inline float sum_lanes(__m512 v) {
    alignas(64) float lane[16];
    _mm512_store_ps(lane, v);
    float sum = 0;
    for (float x : lane) sum += x;
    return sum;
}

inline void add_row(float* row, __m128 v) { _mm_storeu_ps(row, _mm_add_ps(_mm_loadu_ps(row), v)); }

// acc[r][s] += a[r][k] b[s][k] over the 16 lanes at k, rows ld apart.
template <int R, int S>
inline void dot_step(const float* a, const float* b, std::size_t ld, std::size_t k,
                     __m512 (&acc)[R][S]) {
    __m512 bv[S];
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) {
        bv[s] = _mm512_load_ps(b + std::size_t(s) * ld + k);
        asm("" : "+v"(bv[s]));  // in a register: one load, not one folded into each FMA
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
        __m512 av = _mm512_load_ps(a + std::size_t(r) * ld + k);
        asm("" : "+v"(av));
#pragma GCC unroll 4
        for (int s = 0; s < S; ++s) acc[r][s] = _mm512_fmadd_ps(av, bv[s], acc[r][s]);
    }
}

// g[r][s] (row stride ldg) += sum over k < width (a multiple of 16) of a[r][k] b[s][k], rows
// ld apart.
template <int R, int S>
void dot_tile(const float* a, const float* b, std::size_t ld, std::size_t width, float* g,
              std::size_t ldg) {
    __m512 acc[R][S];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int s = 0; s < S; ++s) acc[r][s] = _mm512_setzero_ps();
    for (std::size_t k = 0; k < width; k += 16) dot_step<R, S>(a, b, ld, k, acc);
    if constexpr (R == 4 && S == 4) {
        __m512 v[16] = {acc[0][0], acc[1][0], acc[2][0], acc[3][0], acc[0][1], acc[1][1],
                        acc[2][1], acc[3][1], acc[0][2], acc[1][2], acc[2][2], acc[3][2],
                        acc[0][3], acc[1][3], acc[2][3], acc[3][3]};
        const __m512 sums = transpose_sums(v);  // lane 4 r + s: tile entry (r, s)
        add_row(g, _mm512_mask_extractf32x4_ps(_mm_setzero_ps(), 0xF, sums, 0));
        add_row(g + ldg, _mm512_mask_extractf32x4_ps(_mm_setzero_ps(), 0xF, sums, 1));
        add_row(g + 2 * ldg, _mm512_mask_extractf32x4_ps(_mm_setzero_ps(), 0xF, sums, 2));
        add_row(g + 3 * ldg, _mm512_mask_extractf32x4_ps(_mm_setzero_ps(), 0xF, sums, 3));
    } else {
        for (int r = 0; r < R; ++r)
            for (int s = 0; s < S; ++s)
                g[std::size_t(r) * ldg + std::size_t(s)] += sum_lanes(acc[r][s]);
    }
}

template <int R, int S = 4>
void dot_tile_n(int s, const float* a, const float* b, std::size_t ld, std::size_t width, float* g,
                std::size_t ldg) {
    if constexpr (S > 1) {
        if (s < S) return dot_tile_n<R, S - 1>(s, a, b, ld, width, g, ldg);
    }
    dot_tile<R, S>(a, b, ld, width, g, ldg);
}

// Columns of M per chunk of the forward: a tile's 8 rows of the chunk stay in L1 (at most 512
// columns, 16 KB) and the chunk of all c rows in L2 (c * chunk floats within ~512 KB).
inline std::size_t chunk_columns(std::size_t c) {
    const std::size_t columns = (std::size_t(1) << 17) / std::max<std::size_t>(c, 1);
    return std::clamp<std::size_t>(columns / 16 * 16, 256, 512);
}

// Copies f[:, begin:end] into chunk (rows `stride` apart), zero-padding each row to `width`.
inline void pack_chunk(const float* f, std::size_t c, std::size_t ld, std::size_t begin,
                       std::size_t end, std::size_t width, std::size_t stride, float* chunk) {
    for (std::size_t r = 0; r < c; ++r) {
        float* out = std::copy(f + r * ld + begin, f + r * ld + end, chunk + r * stride);
        std::fill(out, chunk + r * stride + width, 0.0f);
    }
}

// Room for one thread's packed chunk, 64-byte aligned (a vector load across two cache lines
// costs two), kept per thread so that evaluations reuse mapped memory.
inline float* chunk_buffer(std::size_t size) {
    thread_local std::vector<float> buffer;
    if (buffer.size() < size + 16) buffer.resize(size + 16);
    const auto address = reinterpret_cast<std::uintptr_t>(buffer.data());
    return buffer.data() + (64 - address % 64) % 64 / sizeof(float);
}

// Upper triangle (with the diagonal) of g (c x c; the entries below it are left undefined)
// = alpha * f[:, begin:end] f[:, begin:end]^T for the c x ld row-major f.
inline void upper_gram(const float* f, std::size_t c, std::size_t ld, std::size_t begin,
                       std::size_t end, float alpha, float* g) {
    std::fill(g, g + c * c, 0.0f);
    const std::size_t columns = chunk_columns(c), stride = columns + 16;
    float* chunk = chunk_buffer(c * stride);
    for (std::size_t k = begin; k < end; k += columns) {
        const std::size_t k_end = std::min(end, k + columns), width = (k_end - k + 15) / 16 * 16;
        pack_chunk(f, c, ld, k, k_end, width, stride, chunk);
        for (std::size_t i = 0; i < c; i += 4) {
            const float* a = chunk + i * stride;
            for (std::size_t j = i; j < c; j += 4) {
                const int s = int(std::min<std::size_t>(4, c - j));
                const float* b = chunk + j * stride;
                float* out = g + i * c + j;
                switch (std::min<std::size_t>(4, c - i)) {
                    case 4: dot_tile_n<4>(s, a, b, stride, width, out, c); break;
                    case 3: dot_tile_n<3>(s, a, b, stride, width, out, c); break;
                    case 2: dot_tile_n<2>(s, a, b, stride, width, out, c); break;
                    default: dot_tile_n<1>(s, a, b, stride, width, out, c); break;
                }
            }
        }
    }
    for (std::size_t i = 0; i < c; ++i)
        for (std::size_t j = i; j < c; ++j) g[i * c + j] *= alpha;
}

// out[r][0:columns] (rows ldo apart) = alpha * sum_q s[r][q] f[q][0:columns] for R rows r, with
// s's rows c apart and f the packed block (rows `stride` apart, 64 readable columns, aligned);
// Accumulate: out[r][0:columns] += that.
template <int R, bool Partial, bool Accumulate>
void panel(const float* s, std::size_t c, const float* f, std::size_t stride, std::size_t columns,
           float alpha, float* out, std::size_t ldo) {
    __m512 acc[R][4];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) acc[r][v] = _mm512_setzero_ps();
    const float* row = f;
    for (std::size_t q = 0; q < c; ++q, row += stride) {
        __m512 fv[4];
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) fv[v] = _mm512_load_ps(row + 16 * v);
#pragma GCC unroll 6
        for (int r = 0; r < R; ++r) {
            const __m512 sv = _mm512_set1_ps(s[std::size_t(r) * c + q]);
#pragma GCC unroll 4
            for (int v = 0; v < 4; ++v) acc[r][v] = _mm512_fmadd_ps(sv, fv[v], acc[r][v]);
        }
    }
    const __m512 scale = _mm512_set1_ps(alpha);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) {
            float* at = out + std::size_t(r) * ldo + std::size_t(16 * v);
            if constexpr (Partial) {
                const std::size_t k = std::size_t(16 * v);
                if (k >= columns) continue;
                const __mmask16 live = lanes(k, columns);
                const __m512 y = Accumulate
                                     ? _mm512_fmadd_ps(scale, acc[r][v], _mm512_maskz_loadu_ps(live, at))
                                     : _mm512_mul_ps(scale, acc[r][v]);
                _mm512_mask_storeu_ps(at, live, y);
            } else {
                const __m512 y = Accumulate ? _mm512_fmadd_ps(scale, acc[r][v], _mm512_loadu_ps(at))
                                            : _mm512_mul_ps(scale, acc[r][v]);
                _mm512_storeu_ps(at, y);
            }
        }
}

template <bool Accumulate, int R = 6>
void panel_n(int rows, const float* s, std::size_t c, const float* f, std::size_t stride,
             std::size_t columns, float alpha, float* out, std::size_t ldo) {
    if constexpr (R > 1) {
        if (rows < R) return panel_n<Accumulate, R - 1>(rows, s, c, f, stride, columns, alpha, out, ldo);
    }
    if (columns == 64)
        panel<R, false, Accumulate>(s, c, f, stride, columns, alpha, out, ldo);
    else
        panel<R, true, Accumulate>(s, c, f, stride, columns, alpha, out, ldo);
}

// Columns of F per packed block of the backward: c * block floats within ~256 KB (L2).
inline std::size_t block_columns(std::size_t c) {
    const std::size_t columns = (std::size_t(1) << 16) / std::max<std::size_t>(c, 1);
    return std::clamp<std::size_t>(columns / 64 * 64, 64, 1024);
}

// out[:, begin:end] = alpha * s f[:, begin:end] (accumulate: out[:, begin:end] += that) for the
// c x c s and the c x ld f, row-major. Blocks of F are packed first, for the same reason as the
// forward's chunks.
inline void left_product(const float* s, const float* f, std::size_t c, std::size_t ld,
                         std::size_t begin, std::size_t end, float alpha, bool accumulate, float* out) {
    const std::size_t block = block_columns(c), stride = block + 16;
    float* packed = chunk_buffer(c * stride);
    for (std::size_t k = begin; k < end; k += block) {
        const std::size_t k_end = std::min(end, k + block), width = (k_end - k + 63) / 64 * 64;
        pack_chunk(f, c, ld, k, k_end, width, stride, packed);
        for (std::size_t p = 0; p < width; p += 64) {
            const std::size_t columns = std::min<std::size_t>(64, k_end - k - p);
            for (std::size_t i = 0; i < c; i += 6) {
                const int rows = int(std::min<std::size_t>(6, c - i));
                if (accumulate)
                    panel_n<true>(rows, s + i * c, c, packed + p, stride, columns, alpha,
                                  out + i * ld + k + p, ld);
                else
                    panel_n<false>(rows, s + i * c, c, packed + p, stride, columns, alpha,
                                   out + i * ld + k + p, ld);
            }
        }
    }
}

}  // namespace gram_avx512
#endif
}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
