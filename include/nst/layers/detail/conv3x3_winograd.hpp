// Winograd F(4x4, 3x3) for the 3x3 "same" convolution (Lavin & Gray 2015, "Fast Algorithms for
// Convolutional Neural Networks"): each 4x4 block of outputs comes from a 6x6 input patch with
// 36 multiplies per (input, output) channel pair instead of 144, so the GEMM work drops 4x; the
// transforms are O(channels x pixels).
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A      (elementwise product (.), per channel pair)
//
// With the 36 transformed positions p the products become 36 independent GEMMs
//   M[p] (c_out x tiles) = U[p] (c_out x c_in) * V[p] (c_in x tiles),
// run with nst's own register-blocked micro-kernel (gemm_microkernel.hpp).
//
// Per call: U is transformed straight from the layer's canonical weights (read transposed and
// rotated for the backward pass; caching U would cost 4x the weights per direction, ~400 MB for
// VGG19 up to conv5_1), into a shared buffer, or with few tiles per task in cache-sized chunks
// (conv3x3_winograd_plan::fused_filters); independent tasks (a block of tiles x a range of
// outputs) each run on one thread: input transform -> 36 GEMMs -> output transform (bias and
// optional ReLU fused). Buffers are per-thread scratch (thread_scratch.hpp).
//
// Precision: the transforms (points 0, +-1, +-2, infinity) amplify float rounding: ~2e-5 of the
// largest output on VGG19 shapes against ~1e-7 for the direct kernels
// (tests/layers/test_conv3x3_kernels.cpp bounds it at 1e-4). Ample for style transfer;
// conv_algorithm::direct (a layer or network setting, conv_algorithm.hpp) turns it off.
//
// Speed (2-core AVX-512, 512 x 512 VGG19 input, CPU time): about 2x the implicit GEMM on every
// layer with 64+ channels down to 64 x 64 pixels; on a par at 32 x 32, where transforming the
// 512 x 512 weights on every call costs as much as the saved multiplies.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/threads.hpp"
#include "conv3x3_implicit.hpp"
#include "gemm_microkernel.hpp"
#include "simd_float.hpp"
#include "thread_scratch.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

#if NST_SIMD_FLOAT_WIDTH > 0

// Blocking of one Winograd call. The work is cut into independent tasks (a block of tiles x a
// range of output channels), each run start to finish by one thread with its own buffers:
// input transform of its tiles, the 36 GEMMs for its outputs, output transform. Threads meet
// only once, after the filter transform, which keeps them busy on a shared, noisy machine.
struct conv3x3_winograd_plan {
    std::size_t tiles_h, tiles_w, tiles;  // 4x4 output tiles covering the image
    std::size_t block;                    // tiles per task (a multiple of the vector width)
    std::size_t blocks;                   // tile blocks
    std::size_t out_padded;               // output channels rounded up to MR
    std::size_t out_split;                // output channels per task (a multiple of MR)
    std::size_t splits;                   // output ranges
    // Transformed weights U: made once per call in a shared buffer (36 x c_in x c_out floats,
    // 38 MB for 512 x 512 channels, written, then read by every tile block), or, with one tile
    // block, by each task for its own outputs, filter_chunk outputs at a time into a buffer of
    // its thread that stays in the cache. Measured (one thread, 512 x 512 channels): 15% faster
    // with one block (conv5_1 at a 512-pixel input), 15% slower with two (conv4_2), where the
    // GEMMs re-read V for every chunk and the transform runs twice.
    bool fused_filters;
    std::size_t filter_chunk;  // outputs per fused chunk (a multiple of MR)
    // Input channels per pass of the GEMMs (KC): the panel of V a micro-tile reads (KC x NT
    // floats) stays in L1 while every output block of the chunk uses it. Every input channel
    // at once where the whole panel fits in 32 KB (AVX2: up to 512 channels): the output
    // blocks' U is then one contiguous stream, where chunks of it 128 x MR floats long made the
    // GEMM 1.1-1.25x slower for 256+ channels (Zen 3, one thread, the GEMM loop alone).
    // Otherwise (AVX-512 with 256+ channels: 96 KB at 512) 128 at a time.
    std::size_t channel_chunk;
    // An output larger than the last-level cache (32 MB here) is written with non-temporal
    // stores where aligned: it is read back from memory anyway, and they save reading every
    // line in before it is overwritten (conv1_2 forward and backward: 50 MB at 512 x 384).
    bool stream_output;
    int threads;

    // tiles_per_block overrides the automatic choice when nonzero (tests use it to exercise
    // several blocks and partial GEMM tiles on small images).
    conv3x3_winograd_plan(std::size_t c_in, std::size_t c_out, std::size_t h, std::size_t w,
                          int thread_count, std::size_t tiles_per_block = 0) {
        const std::size_t mr = conv3x3_mr, lanes = simd_float::width;
        const std::size_t t = std::size_t(std::max(thread_count, 1));
        threads = int(t);
        tiles_h = (h + 3) / 4;
        tiles_w = (w + 3) / 4;
        tiles = tiles_h * tiles_w;
        out_padded = (c_out + mr - 1) / mr * mr;
        const auto round_up = [](std::size_t n, std::size_t m) { return (n + m - 1) / m * m; };
        // A task's V (36 x c_in x block) and M (36 x c_out x block): about 1 MB (L2) for few
        // channels (measured 10-15% faster than 4 MB for 128 channels at 64 x 64 tiles); with
        // many channels up to half of U's size, since every task reads all of U (36 x c_in x
        // c_out) once.
        const std::size_t budget = std::max(std::size_t(1) << 18, 18 * c_in * out_padded);
        std::size_t most = std::max(lanes, budget / (36 * (c_in + out_padded)) / lanes * lanes);
        // Whole GEMM micro-tiles (conv3x3_nv vectors): a block of 64 tiles ran its last vector
        // with the one-vector tile, load-bound (measured 10% slower than 48 for conv3_2).
        const std::size_t nt = std::size_t(conv3x3_nv) * lanes;
        if (most >= nt) most = most / nt * nt;
        // Several threads and a small image: every tile in one block, split over the outputs
        // (below), when a thread's V and M for all tiles and its share of the outputs take 12 MB
        // at most. Each thread then transforms its own outputs' filters into its cache, where
        // blocks of tiles shared one U in memory (transformed by all threads, then streamed by
        // each). Measured (2 threads, Zen 5; AVX2 code alike): 64 -> 128 and 128 -> 128 channels
        // at 48 x 64 pixels 1.3-1.5x, 128 -> 256 at 24 x 32 2x, 256 -> 256 at 48 x 64 1.15x
        // faster; 14 MB or more (256 -> 512 and 512 -> 512 at 48 x 64, 64 -> 128 at 96 x 128)
        // 0.8-1.05x. On one thread, with no U to share, one block measured 0.85-1.13x: kept off.
        const std::size_t whole = round_up(tiles, lanes);
        const std::size_t whole_bytes = 36 * whole * (c_in + out_padded / t) * sizeof(float);
        if (t >= 2 && whole_bytes <= (std::size_t(12) << 20)) most = std::max(most, whole);
        if (tiles_per_block) most = round_up(tiles_per_block, lanes);
        blocks = (tiles + most - 1) / most;
        // Few blocks: an equal share each. All tiles in one block (a small image, conv5_1)
        // stay one block, split over the outputs below: cutting 48 tiles in two made blocks
        // of 32 and 16 and a shared U (measured 1.4-2x slower wall on 2 threads).
        if (blocks > 1 && blocks < 4 * t) blocks = round_up(blocks, t);
        block = round_up((tiles + blocks - 1) / blocks, lanes);
        blocks = (tiles + block - 1) / block;
        // Fewer blocks than threads: split the outputs too (one block: one range per thread, as
        // each range transforms the input again). A block per thread or more is not split:
        // splitting 2 blocks on 2 threads into 4 tasks transformed each block's input twice
        // (measured 0.92x per call without the split, conv4_2 at 64 x 48, 2 threads, Zen 3).
        const std::size_t ranges = blocks == 1 ? t : blocks < t ? (2 * t + blocks - 1) / blocks : 1;
        out_split = output_range(out_padded, ranges);
        splits = (out_padded + out_split - 1) / out_split;
        // A chunk of U about 2.5 MB (L2/L3): 4 blocks of MR outputs with 512 inputs.
        fused_filters = blocks == 1;
        stream_output = c_out * h * w * sizeof(float) >= (std::size_t(40) << 20);
        filter_chunk = std::clamp<std::size_t>((std::size_t(640) << 10) / (36 * c_in * mr), 1,
                                               out_padded / mr) * mr;
        channel_chunk = c_in * nt * sizeof(float) <= (std::size_t(32) << 10) ? c_in : 128;
    }
};

namespace winograd_f43 {

// The 3x3 kernels from input ci to outputs m*MR .. m*MR+MR-1 of the convolution c_in -> c_out,
// read from the layer's weights (see conv3x3_winograd): g[tap * MR + r], zero past c_out.
// Forward: MR rows of W, 9 floats each; adjoint: MR consecutive kernels of row ci of the layer's
// W (c_in x c_out x 3 x 3 there), rotated by 180 degrees.
template <int MR>
inline void gather_filters(const float* weights, std::size_t c_in, std::size_t c_out,
                           bool adjoint, std::size_t m, std::size_t ci, float* g) {
    const std::size_t o0 = m * MR, live = std::min<std::size_t>(MR, c_out - o0);
    for (std::size_t r = 0; r < live; ++r) {
        const float* k = adjoint ? weights + (ci * c_out + o0 + r) * 9
                                 : weights + ((o0 + r) * c_in + ci) * 9;
        for (std::size_t tap = 0; tap < 9; ++tap) g[tap * MR + r] = k[adjoint ? 8 - tap : tap];
    }
    for (std::size_t r = live; r < std::size_t(MR); ++r)
        for (std::size_t tap = 0; tap < 9; ++tap) g[tap * MR + r] = 0.0f;
}

// G x for three values x0, x1, x2 (a column or row of a 3x3 kernel) -> six, by the structure
// of G (rows 1/4 (1 0 0), -1/6 (1 1 1), -1/6 (1 -1 1), (1/24 1/12 1/6), (1/24 -1/12 1/6),
// (0 0 1)): 9 operations instead of a dense 6 x 3 product (18, as zeros are not folded).
inline void filter_1d(float x0, float x1, float x2, float* y, std::size_t step) {
    const float s = x0 + x2, a = x0 * (1.0f / 24) + x2 * (1.0f / 6), b = x1 * (1.0f / 12);
    y[0 * step] = x0 * (1.0f / 4);
    y[1 * step] = (s + x1) * (-1.0f / 6);
    y[2 * step] = (s - x1) * (-1.0f / 6);
    y[3 * step] = a + b;
    y[4 * step] = a - b;
    y[5 * step] = x2;
}

// U = G g G^T for one block of MR output channels: g[tap * MR + r] -> u[p * stride + r].
template <int MR> inline void filter_transform(const float* g, float* u, std::size_t stride) {
    float t[6][3][MR];  // G g: t[a][kx]
    for (int kx = 0; kx < 3; ++kx)
        for (int r = 0; r < MR; ++r)
            filter_1d(g[(0 + kx) * MR + r], g[(3 + kx) * MR + r], g[(6 + kx) * MR + r],
                      &t[0][kx][r], 3 * MR);
    for (int a = 0; a < 6; ++a)
        for (int r = 0; r < MR; ++r)
            filter_1d(t[a][0][r], t[a][1][r], t[a][2][r], u + std::size_t(a * 6) * stride + r,
                      stride);
}

// B^T x for six vectors (one column or row of a 6x6 patch), in place into y.
template <class V, class R> inline void input_1d(const R* x, R* y) {
    const R four = V::broadcast(4.0f), two = V::broadcast(2.0f);
    // y0 = 4 x0 - 5 x2 + x4
    y[0] = V::fmadd(four, x[0], V::fmadd(V::broadcast(-5.0f), x[2], x[4]));
    // y1 = -4 (x1 + x2) + x3 + x4 ; y2 = 4 (x1 - x2) - x3 + x4
    const R s12 = V::add(x[1], x[2]), d12 = V::sub(x[1], x[2]);
    y[1] = V::fmadd(V::broadcast(-4.0f), s12, V::add(x[3], x[4]));
    y[2] = V::fmadd(four, d12, V::sub(x[4], x[3]));
    // y3 = 2 (x3 - x1) + x4 - x2 ; y4 = 2 (x1 - x3) + x4 - x2
    const R d31 = V::sub(x[3], x[1]), d42 = V::sub(x[4], x[2]);
    y[3] = V::fmadd(two, d31, d42);
    y[4] = V::fmadd(V::broadcast(-2.0f), d31, d42);
    // y5 = 4 x1 - 5 x3 + x5
    y[5] = V::fmadd(four, x[1], V::fmadd(V::broadcast(-5.0f), x[3], x[5]));
}

// A^T m for six vectors -> four.
template <class V, class R> inline void output_1d(const R* m, R* o) {
    const R s12 = V::add(m[1], m[2]), d12 = V::sub(m[1], m[2]);
    const R s34 = V::add(m[3], m[4]), d34 = V::sub(m[3], m[4]);
    o[0] = V::add(V::add(m[0], s12), s34);
    o[1] = V::fmadd(V::broadcast(2.0f), d34, d12);
    o[2] = V::fmadd(V::broadcast(4.0f), s34, s12);
    o[3] = V::add(V::fmadd(V::broadcast(8.0f), d34, d12), m[5]);
}

}  // namespace winograd_f43

#if NST_SIMD_FLOAT_WIDTH == 16
// One output row of 16 side-by-side 4x4 tiles: lane l of r[j] is column j of tile l, and
// dst[4 l + j] its place, a 4 x 16 transpose in 16 shuffles and four full stores (against 64
// scalar stores per row through a buffer).
// stream: non-temporal stores (dst 64-byte aligned), for outputs too large to stay in the cache.
inline void store_tile_row(const __m512 (&r)[4], float* dst, bool stream) {
    // (maskz forms with all lanes: the plain ones start from an undefined vector, which
    // g++ 12 reports as maybe-uninitialized)
    constexpr __mmask16 all = 0xFFFF;
    const __m512 t0 = _mm512_maskz_unpacklo_ps(all, r[0], r[1]);
    const __m512 t1 = _mm512_maskz_unpackhi_ps(all, r[0], r[1]);
    const __m512 t2 = _mm512_maskz_unpacklo_ps(all, r[2], r[3]);
    const __m512 t3 = _mm512_maskz_unpackhi_ps(all, r[2], r[3]);
    // u[q], 128-bit chunk c: the four columns of tile 4 c + q.
    const __m512 u0 = _mm512_maskz_shuffle_ps(all, t0, t2, 0x44);
    const __m512 u1 = _mm512_maskz_shuffle_ps(all, t0, t2, 0xEE);
    const __m512 u2 = _mm512_maskz_shuffle_ps(all, t1, t3, 0x44);
    const __m512 u3 = _mm512_maskz_shuffle_ps(all, t1, t3, 0xEE);
    // Output vector k: chunk k of u0, u1, u2, u3.
    const __m512 v0 = _mm512_maskz_shuffle_f32x4(all, u0, u1, 0x44);
    const __m512 v1 = _mm512_maskz_shuffle_f32x4(all, u2, u3, 0x44);
    const __m512 v2 = _mm512_maskz_shuffle_f32x4(all, u0, u1, 0xEE);
    const __m512 v3 = _mm512_maskz_shuffle_f32x4(all, u2, u3, 0xEE);
    const __m512 out[4] = {_mm512_maskz_shuffle_f32x4(all, v0, v1, 0x88),
                           _mm512_maskz_shuffle_f32x4(all, v0, v1, 0xDD),
                           _mm512_maskz_shuffle_f32x4(all, v2, v3, 0x88),
                           _mm512_maskz_shuffle_f32x4(all, v2, v3, 0xDD)};
    for (int k = 0; k < 4; ++k) {
        if (stream) _mm512_stream_ps(dst + 16 * k, out[k]);
        else _mm512_storeu_ps(dst + 16 * k, out[k]);
    }
}
#elif NST_SIMD_FLOAT_WIDTH == 8
// The same for 8 tiles (dst 32-byte aligned when streaming): a 4 x 4 transpose within each
// 128-bit half, then the halves paired into tiles 0-1, 2-3, 4-5, 6-7.
inline void store_tile_row(const __m256 (&r)[4], float* dst, bool stream) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    // u[q]: tile q in the low half, tile q + 4 in the high half.
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 out[4] = {_mm256_permute2f128_ps(u0, u1, 0x20),
                           _mm256_permute2f128_ps(u2, u3, 0x20),
                           _mm256_permute2f128_ps(u0, u1, 0x31),
                           _mm256_permute2f128_ps(u2, u3, 0x31)};
    for (int k = 0; k < 4; ++k) {
        if (stream) _mm256_stream_ps(dst + 8 * k, out[k]);
        else _mm256_storeu_ps(dst + 8 * k, out[k]);
    }
}
#endif

// The 6x6 input patches of one vector of tiles (lane = tile), channel after channel. Where each
// patch element sits in a channel is the same for every channel, so it is worked out once.
template <class V> class patch_loader {
public:
    using R = typename V::reg;
    static constexpr int W = V::width;

    patch_loader() = default;

    // Tiles first .. first + count - 1 (count <= W) of an image h x w cut into tiles_w tiles
    // per row.
    patch_loader(std::size_t first, std::size_t count, std::size_t tiles_w, std::size_t h,
                 std::size_t w)
        : h_(std::ptrdiff_t(h)), w_(std::ptrdiff_t(w)) {
        const std::size_t ti = first / tiles_w;
        one_row_ = count == std::size_t(W) && (first + W - 1) / tiles_w == ti;
        y0_ = std::ptrdiff_t(4 * ti) - 1;
        x0_ = std::ptrdiff_t(4 * (first % tiles_w)) - 1;
#if NST_SIMD_FLOAT_WIDTH == 16
        if (one_row_) {
            for (int k = 0; k < 5; ++k) masks_[k] = window_mask(x0_ + 16 * k);
            masks_[4] &= 0x3;  // the last load needs columns 64 and 65 only
            return;
        }
#elif NST_SIMD_FLOAT_WIDTH == 8
        if (one_row_) {
            inside_ = x0_ >= 0 && x0_ + 34 <= w_;
            for (int k = 0; k < 4; ++k)
                for (int j = 0; j < 8; ++j) {
                    const std::ptrdiff_t x = x0_ + 8 * k + j;
                    masks_[k][j] = x >= 0 && x < w_ ? -1 : 0;
                }
            for (int j = 0; j < 2; ++j) last_inside_[j] = x0_ + 32 + j < w_;
            return;
        }
#endif
        one_row_ = false;
        for (int lane = 0; lane < W; ++lane) {
            const bool live = std::size_t(lane) < count;
            const std::size_t t = first + std::size_t(lane);
            const std::ptrdiff_t y0 = live ? std::ptrdiff_t(4 * (t / tiles_w)) - 1 : 0;
            const std::ptrdiff_t x0 = live ? std::ptrdiff_t(4 * (t % tiles_w)) - 1 : 0;
            for (int a = 0; a < 6; ++a)
                for (int b = 0; b < 6; ++b) {
                    const std::ptrdiff_t y = y0 + a, x = x0 + b;
                    const bool inside = live && y >= 0 && y < h_ && x >= 0 && x < w_;
                    where_[a][b][lane] = inside ? int(y * w_ + x) : -1;
                }
        }
    }

    void load(const float* channel, R (&d)[6][6]) const {
        if (one_row_) return load_row_windows(channel, d);
        // Tiles from several tile rows or cut by the image edge: one gather per element.
        for (int a = 0; a < 6; ++a)
            for (int b = 0; b < 6; ++b) d[a][b] = V::gather_or_zero(channel, where_[a][b]);
    }

private:
    // load_row(a, row) for each row a of the tiles' patch window inside the image, row being the
    // address of its column x0 (which may be -1: hence integer address arithmetic); the rows
    // outside the image are zero.
    template <class F>
    void for_window_rows(const float* channel, R (&d)[6][6], F&& load_row) const {
        for (int a = 0; a < 6; ++a) {
            const std::ptrdiff_t y = y0_ + a;
            if (y < 0 || y >= h_) {
                for (int b = 0; b < 6; ++b) d[a][b] = V::zero();
                continue;
            }
            load_row(a, reinterpret_cast<std::uintptr_t>(channel + y * w_) +
                            std::uintptr_t(x0_ * std::ptrdiff_t(sizeof(float))));
        }
    }

#if NST_SIMD_FLOAT_WIDTH == 16
    // All 16 tiles in one tile row: lane l of element (a, b) is row y0+a, column x0+b+4l. Per
    // patch row, five loads cover columns x0 .. x0+79 (outside the image read as zero, masked);
    // columns b + 4l for b < 4 come out of them in two permutes and a blend, and b = 4, 5 are
    // b = 0, 1 moved one tile over (column x0+64, x0+65 from the fifth load).
    void load_row_windows(const float* channel, R (&d)[6][6]) const {
        const __m512i every_fourth =
            _mm512_set_epi32(28, 24, 20, 16, 12, 8, 4, 0, 28, 24, 20, 16, 12, 8, 4, 0);
        const __m512i next_tile =  // lanes 1..15 of the first table, lane 0 of the second
            _mm512_set_epi32(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
        const __m512i next_tile_odd =  // the same, lane 15 from column 65
            _mm512_set_epi32(17, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
        const __m512i one = _mm512_set1_epi32(1);
        for_window_rows(channel, d, [&](int a, std::uintptr_t row) {
            __m512 part[5];
            for (int k = 0; k < 5; ++k)
                part[k] = _mm512_maskz_loadu_ps(
                    masks_[k], reinterpret_cast<const float*>(row + 64 * std::uintptr_t(k)));
            __m512i index = every_fourth;
            for (int b = 0; b < 4; ++b, index = _mm512_add_epi32(index, one)) {
                const __m512 low = _mm512_permutex2var_ps(part[0], index, part[1]);
                const __m512 high = _mm512_permutex2var_ps(part[2], index, part[3]);
                d[a][b] = _mm512_mask_blend_ps(__mmask16(0xFF00), low, high);
            }
            d[a][4] = _mm512_permutex2var_ps(d[a][0], next_tile, part[4]);
            d[a][5] = _mm512_permutex2var_ps(d[a][1], next_tile_odd, part[4]);
        });
    }
    // Bits of the 16 columns start .. start+15 that lie inside the row.
    __mmask16 window_mask(std::ptrdiff_t start) const {
        const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, -start);
        const std::ptrdiff_t hi = std::min<std::ptrdiff_t>(16, w_ - start);
        if (hi <= lo) return 0;
        return __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
    }
#elif NST_SIMD_FLOAT_WIDTH == 8
    // All 8 tiles in one tile row: lane l of element (a, b) is row y0+a, column x0+b+4l. Per
    // patch row, four loads hold tiles 0-1, 2-3, 4-5 and 6-7 (columns x0 .. x0+31); a 4 x 4
    // transpose within each 128-bit half gives columns b < 4 of every tile (the gathers this
    // replaces took a sixth of a Winograd call on Zen 3); b = 4, 5 are b = 0, 1 moved one tile
    // over, with column x0+32, x0+33 in the last lane.
    void load_row_windows(const float* channel, R (&d)[6][6]) const {
        const __m256i next_tile = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 7);
        for_window_rows(channel, d, [&](int a, std::uintptr_t row) {
            const auto at = [row](std::size_t k) {
                return reinterpret_cast<const float*>(row + k * sizeof(float));
            };
            __m256 part[4];
            float extra[2];
            if (inside_) {
                for (int k = 0; k < 4; ++k) part[k] = _mm256_loadu_ps(at(8 * std::size_t(k)));
                extra[0] = *at(32);
                extra[1] = *at(33);
            } else {  // the image edge: columns outside it read as zero, never touched
                for (int k = 0; k < 4; ++k)
                    part[k] = _mm256_maskload_ps(
                        at(8 * std::size_t(k)),
                        _mm256_load_si256(reinterpret_cast<const __m256i*>(masks_[k])));
                for (int j = 0; j < 2; ++j) extra[j] = last_inside_[j] ? *at(32 + j) : 0.0f;
            }
            // x[q]: tile q in the low half, tile q + 4 in the high half.
            const __m256 x0 = _mm256_permute2f128_ps(part[0], part[2], 0x20);
            const __m256 x1 = _mm256_permute2f128_ps(part[0], part[2], 0x31);
            const __m256 x2 = _mm256_permute2f128_ps(part[1], part[3], 0x20);
            const __m256 x3 = _mm256_permute2f128_ps(part[1], part[3], 0x31);
            const __m256 t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1);
            const __m256 t2 = _mm256_unpacklo_ps(x2, x3), t3 = _mm256_unpackhi_ps(x2, x3);
            d[a][0] = _mm256_shuffle_ps(t0, t2, 0x44);
            d[a][1] = _mm256_shuffle_ps(t0, t2, 0xEE);
            d[a][2] = _mm256_shuffle_ps(t1, t3, 0x44);
            d[a][3] = _mm256_shuffle_ps(t1, t3, 0xEE);
            for (int b = 4; b < 6; ++b)
                d[a][b] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[a][b - 4], next_tile),
                                          _mm256_set1_ps(extra[b - 4]), 0x80);
        });
    }
#endif

    std::ptrdiff_t h_ = 0, w_ = 0, y0_ = 0, x0_ = 0;
    bool one_row_ = false;
#if NST_SIMD_FLOAT_WIDTH == 16
    __mmask16 masks_[5] = {};  // columns inside the row, per load
#elif NST_SIMD_FLOAT_WIDTH == 8
    bool inside_ = false;                   // every column of the window inside the row
    alignas(32) int masks_[4][8] = {};      // otherwise: columns inside the row, per load
    bool last_inside_[2] = {};              // and whether columns x0+32, x0+33 are
#endif
    alignas(64) int where_[6][6][W] = {};
};

namespace winograd_f43 {

// V = B^T d B for the 6x6 patches d of one vector of tiles in one channel:
// position p = 6 a + b goes to v[p * stride].
template <class V>
inline void input_transform(const patch_loader<V>& patches, const float* channel, float* v,
                            std::size_t stride) {
    using R = typename V::reg;
    R d[6][6];
    patches.load(channel, d);
    R col[6], tmp[6][6], row[6], res[6];
    for (int b = 0; b < 6; ++b) {  // B^T d, column by column
        for (int a = 0; a < 6; ++a) col[a] = d[a][b];
        input_1d<V>(col, res);
        for (int a = 0; a < 6; ++a) tmp[a][b] = res[a];
    }
    for (int a = 0; a < 6; ++a) {  // (B^T d) B, row by row
        for (int b = 0; b < 6; ++b) row[b] = tmp[a][b];
        input_1d<V>(row, res);
        for (int b = 0; b < 6; ++b) V::storeu(v + std::size_t(a * 6 + b) * stride, res[b]);
    }
}

// filter_1d on vectors: G x for a column or row of W kernels at once.
inline void filter_1d(simd_float::reg x0, simd_float::reg x1, simd_float::reg x2,
                      simd_float::reg* y) {
    using V = simd_float;
    const auto s = V::add(x0, x2), b = V::mul(x1, V::broadcast(1.0f / 12));
    const auto a = V::fmadd(x0, V::broadcast(1.0f / 24), V::mul(x2, V::broadcast(1.0f / 6)));
    y[0] = V::mul(x0, V::broadcast(1.0f / 4));
    y[1] = V::mul(V::add(s, x1), V::broadcast(-1.0f / 6));
    y[2] = V::mul(V::sub(s, x1), V::broadcast(-1.0f / 6));
    y[3] = V::add(a, b);
    y[4] = V::sub(a, b);
    y[5] = x2;
}

#if NST_SIMD_FLOAT_WIDTH == 16
// U for 16 kernels, a pair of inputs x 8 outputs (lane 8 j + r: input j, output r), whose tap
// 0 is at base + index[0][lane] and tap k at base + index[k][lane]; lanes off in `live` are
// zero. Each transformed position is 16 consecutive floats of U, stored straight from the
// register (no transpose, no staging buffer), or with a non-temporal store (`stream`, whole
// pairs only: dst 64-byte aligned); with `both` false only input 0 is stored.
inline void transform_filter_pair(const float* base, const __m512i (&index)[9], __mmask16 live,
                                  bool both, bool stream, float* dst, std::size_t stride) {
    __m512 g[9];
    for (int tap = 0; tap < 9; ++tap)
        g[tap] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, index[tap], base, 4);
    __m512 t[3][6];  // G g, column kx: t[kx][a]
    for (int kx = 0; kx < 3; ++kx) filter_1d(g[kx], g[3 + kx], g[6 + kx], t[kx]);
    for (int a = 0; a < 6; ++a) {
        __m512 row[6];
        filter_1d(t[0][a], t[1][a], t[2][a], row);
        for (int b = 0; b < 6; ++b) {
            float* at = dst + std::size_t(a * 6 + b) * stride;
            if (both && stream) _mm512_stream_ps(at, row[b]);
            else if (both) _mm512_storeu_ps(at, row[b]);
            else _mm512_mask_storeu_ps(at, __mmask16(0xFF), row[b]);
        }
    }
}

// transform_filter_blocks for MR == 8 with AVX-512, two inputs per vector (the scalar version
// below took 15-45% of a conv4_x/conv5_1 call). The adjoint reads the weights input row by
// input row (each row holds every output's kernel: c_out x 9 floats), all blocks of a row
// before the next, so each row is read from memory once, not once per block.
inline void transform_filter_blocks_x16(const float* weights, std::size_t c_in,
                                        std::size_t c_out, bool adjoint, std::size_t m0,
                                        std::size_t m1, float* u, std::size_t stride,
                                        bool stream) {
    // (a thread's share may be empty: with c_out < 8 m0 the adjoint's prefetch span below
    // would wrap around and run for ever)
    if (m0 >= m1) return;
    // Tap 0 of each lane's kernel relative to the pair's first one; taps step by +1, or by -1
    // in the adjoint (the kernel rotated by 180 degrees).
    alignas(64) int first[16];
    for (int lane = 0; lane < 16; ++lane) {
        const std::size_t j = std::size_t(lane) / 8, r = std::size_t(lane) % 8;
        first[lane] = int(adjoint ? (j * c_out + r) * 9 + 8 : (r * c_in + j) * 9);
    }
    __m512i index[9];
    index[0] = _mm512_load_si512(first);
    const __m512i step = _mm512_set1_epi32(adjoint ? -1 : 1);
    for (int tap = 1; tap < 9; ++tap) index[tap] = _mm512_add_epi32(index[tap - 1], step);
    const auto pair = [&](std::size_t m, std::size_t ci) {
        const std::size_t o0 = m * 8, rows = std::min<std::size_t>(8, c_out - o0);
        const __mmask16 outputs = __mmask16(((1u << rows) - 1) * 0x101u);
        const bool both = ci + 1 < c_in;
        const float* base = weights + (adjoint ? ci * c_out + o0 : o0 * c_in + ci) * 9;
        transform_filter_pair(base, index, both ? outputs : __mmask16(outputs & 0xFF), both,
                              stream, u + (m - m0) * c_in * 8 + ci * 8, stride);
    };
    if (adjoint) {
        // (each pair of rows is a short stream, 2 x 72 floats per block: its successor is
        // fetched ahead, as the hardware prefetcher does not: measured ~1.5x faster)
        const std::size_t span = (std::min(c_out, m1 * 8) - m0 * 8) * 9;
        for (std::size_t ci = 0; ci < c_in; ci += 2) {
            for (std::size_t next = ci + 2; next < std::min(c_in, ci + 4); ++next) {
                const char* p =
                    reinterpret_cast<const char*>(weights + (next * c_out + m0 * 8) * 9);
                for (std::size_t line = 0; line < span * sizeof(float) + 64; line += 64)
                    _mm_prefetch(p + line, _MM_HINT_T0);
            }
            for (std::size_t m = m0; m < m1; ++m) pair(m, ci);
        }
    } else {
        for (std::size_t m = m0; m < m1; ++m)
            for (std::size_t ci = 0; ci < c_in; ci += 2) pair(m, ci);
    }
}
#elif NST_SIMD_FLOAT_WIDTH == 8
// transform_filter_blocks for MR == 6 with AVX2: one input per vector, lane r = output r
// (lanes 6 and 7 carry nothing). The six kernels' nine taps are read as rows of the weights
// (nine consecutive floats) and turned into one vector per tap by an 8 x 8 transpose, instead
// of 54 scalar reads and a staging buffer (the scalar version took about a tenth of a
// stylisation on Zen 3). Each position is stored as 8 floats: the two extra lanes land on the
// next input's first outputs, which are written after them (inputs in ascending order within
// a block), and the last input's store is masked.
inline void transform_filter_blocks_x8(const float* weights, std::size_t c_in, std::size_t c_out,
                                       bool adjoint, std::size_t m0, std::size_t m1, float* u,
                                       std::size_t stride) {
    const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    const auto one = [&](std::size_t m, std::size_t ci) {
        const std::size_t o0 = m * 6, rows = std::min<std::size_t>(6, c_out - o0);
        __m256 k[8];
        alignas(32) float tap8[8] = {};
        for (std::size_t r = 0; r < 8; ++r) {
            if (r >= rows) {
                k[r] = _mm256_setzero_ps();
                continue;
            }
            const float* kr = adjoint ? weights + (ci * c_out + o0 + r) * 9
                                      : weights + ((o0 + r) * c_in + ci) * 9;
            k[r] = _mm256_loadu_ps(kr);
            tap8[r] = kr[8];
        }
        // e[j] lane r = element j of kernel r (8 x 8 transpose; element 8 from tap8).
        __m256 t[8], q[8], e[9];
        for (int i = 0; i < 4; ++i) {
            t[2 * i] = _mm256_unpacklo_ps(k[2 * i], k[2 * i + 1]);
            t[2 * i + 1] = _mm256_unpackhi_ps(k[2 * i], k[2 * i + 1]);
        }
        for (int i = 0; i < 2; ++i) {
            q[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
            q[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
            q[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
            q[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
        }
        for (int j = 0; j < 4; ++j) {
            e[j] = _mm256_permute2f128_ps(q[j], q[4 + j], 0x20);
            e[4 + j] = _mm256_permute2f128_ps(q[j], q[4 + j], 0x31);
        }
        e[8] = _mm256_load_ps(tap8);
        // The adjoint's kernel is rotated by 180 degrees: tap k is element 8 - k.
        __m256 g[9];
        for (int tap = 0; tap < 9; ++tap) g[tap] = e[adjoint ? 8 - tap : tap];
        __m256 col[3][6];  // G g, column kx: col[kx][a]
        for (int kx = 0; kx < 3; ++kx) filter_1d(g[kx], g[3 + kx], g[6 + kx], col[kx]);
        float* const dst = u + (m - m0) * c_in * 6 + ci * 6;
        const bool last = ci + 1 == c_in;
        for (int a = 0; a < 6; ++a) {
            __m256 row[6];
            filter_1d(col[0][a], col[1][a], col[2][a], row);
            for (int b = 0; b < 6; ++b) {
                float* at = dst + std::size_t(a * 6 + b) * stride;
                if (last) _mm256_maskstore_ps(at, six, row[b]);
                else _mm256_storeu_ps(at, row[b]);
            }
        }
    };
    if (adjoint) {  // input row after input row: each row holds every output's kernel
        for (std::size_t ci = 0; ci < c_in; ++ci)
            for (std::size_t m = m0; m < m1; ++m) one(m, ci);
    } else {  // block after block: its six rows of weights are read in order
        for (std::size_t m = m0; m < m1; ++m)
            for (std::size_t ci = 0; ci < c_in; ++ci) one(m, ci);
    }
}
#endif

// U[p][ci][r] = (G g G^T)[p] for outputs m*MR + r (block m) and every input ci, into
// u[p * stride + ci * MR + r]. A chunk of input channels at a time into a small local buffer
// (L1), written position after position, then 36 runs of contiguous copies: positions of U a
// whole multiple of 4 KB apart, written interleaved (or a local buffer laid out the same way),
// thrash one L1 set (measured: the transform took 3x its arithmetic).
template <int MR>
inline void transform_filter_block(const float* weights, std::size_t c_in, std::size_t c_out,
                                   bool adjoint, std::size_t m, float* u, std::size_t stride) {
    constexpr std::size_t chunk = 32;  // input channels per local buffer (36 KB)
    alignas(64) float local[chunk * 36 * MR];
    for (std::size_t c0 = 0; c0 < c_in; c0 += chunk) {
        const std::size_t nc = std::min(chunk, c_in - c0);
        for (std::size_t ci = 0; ci < nc; ++ci) {
            alignas(64) float g[9 * MR];
            gather_filters<MR>(weights, c_in, c_out, adjoint, m, c0 + ci, g);
            filter_transform<MR>(g, local + ci * 36 * MR, MR);
        }
        for (std::size_t p = 0; p < 36; ++p)
            for (std::size_t ci = 0; ci < nc; ++ci)
                std::memcpy(u + p * stride + (c0 + ci) * MR, local + (ci * 36 + p) * MR,
                            MR * sizeof(float));
    }
}

// transform_filter_block for blocks m0 .. m1-1, block m at u + (m - m0) * c_in * MR; `stream`:
// non-temporal stores where the AVX-512 path can make them (a hint the others ignore).
template <int MR>
inline void transform_filter_blocks(const float* weights, std::size_t c_in, std::size_t c_out,
                                    bool adjoint, std::size_t m0, std::size_t m1, float* u,
                                    std::size_t stride, [[maybe_unused]] bool stream = false) {
#if NST_SIMD_FLOAT_WIDTH == 16
    if constexpr (MR == 8)
        return transform_filter_blocks_x16(weights, c_in, c_out, adjoint, m0, m1, u, stride,
                                           stream);
#elif NST_SIMD_FLOAT_WIDTH == 8
    if constexpr (MR == 6)
        return transform_filter_blocks_x8(weights, c_in, c_out, adjoint, m0, m1, u, stride);
#endif
    for (std::size_t m = m0; m < m1; ++m)
        transform_filter_block<MR>(weights, c_in, c_out, adjoint, m, u + (m - m0) * c_in * MR,
                                   stride);
}

}  // namespace winograd_f43

// Asks for n floats from p into the cache (L1), a cache line at a time.
inline void prefetch_span(const float* p, std::size_t n) {
    const char* const end = reinterpret_cast<const char*>(p + n);
    for (const char* line = reinterpret_cast<const char*>(p); line < end; line += 64)
        _mm_prefetch(line, _MM_HINT_T0);
}

// out (c_out x h x w) = act(conv(in (c_in x h x w)) + bias) by Winograd F(4x4, 3x3).
// weights: the layer's, PyTorch order: c_out x c_in x 3 x 3 for the forward convolution
//   (adjoint == false), or, for the backward pass of a layer c_out -> c_in (adjoint == true),
//   that layer's c_in x c_out x 3 x 3 (read transposed and rotated: no packed copy is made).
// requires: bias null or c_out values; in and out do not overlap; plan made for the same
//   c_in, c_out, h, w.
inline void conv3x3_winograd(const float* in, std::size_t c_in, std::size_t h, std::size_t w,
                             const float* weights, bool adjoint, const float* bias, bool relu,
                             float* out, std::size_t c_out, const conv3x3_winograd_plan& plan) {
    using V = simd_float;
    using R = typename V::reg;
    constexpr int MR = conv3x3_mr, NV = conv3x3_nv, W = V::width;
    constexpr std::size_t NT = std::size_t(NV) * W;
    const std::size_t co_blocks = plan.out_padded / MR, TB = plan.block;
    // Floats between positions p of U. For large U one cache line more than the data (see
    // v_stride): the filter transform stores the 36 positions interleaved (measured 1.2x
    // faster for conv4_x backward); for small U (blocks 1-2) unpadded, which measured 5-8%
    // faster for conv1_2 at 512 x 512.
    const std::size_t u_stride = co_blocks * c_in * MR + (c_in * c_out >= 32768 ? 16 : 0);

    const bool stream = plan.stream_output && w % 16 == 0;
    // The shared U (plan.fused_filters: none; each task makes its chunks, below).
    // A shared U of 16 MB or more (conv4_x: 38 MB) is written with non-temporal stores: it
    // would not stay in the cache anyway, and they save reading every line in first. Measured
    // (2 threads, 512 x 512 input): conv4_1 0.8x, conv4_2 0.92x, one evaluation 0.976x; for the
    // smaller U of blocks 2-3 they were no faster. (Odd c_in: not every store is aligned.)
    const bool stream_filters =
        c_in % 2 == 0 && 36 * u_stride * sizeof(float) >= (std::size_t(16) << 20);
    float* const U =
        plan.fused_filters ? nullptr
                           : thread_scratch(scratch_slot::winograd_weights, 36 * u_stride);

#pragma omp parallel num_threads(plan.threads)
    {
        // U[p][m][ci][r] = (G g G^T)[p] for output m*MR + r, input ci.
        if (!plan.fused_filters) {
            // One contiguous range of blocks per thread (the adjoint reads each input's row
            // of weights once per range).
            const std::size_t per = (co_blocks + std::size_t(plan.threads) - 1) /
                                    std::size_t(plan.threads);
#pragma omp for schedule(static)
            for (std::ptrdiff_t part = 0; part < plan.threads; ++part) {
                const std::size_t m0 = std::min(co_blocks, std::size_t(part) * per);
                const std::size_t m1 = std::min(co_blocks, m0 + per);
                winograd_f43::transform_filter_blocks<MR>(weights, c_in, c_out, adjoint, m0, m1,
                                                          U + m0 * c_in * MR, u_stride,
                                                          stream_filters);
#if NST_SIMD_FLOAT_WIDTH == 16
                if (stream_filters) _mm_sfence();
#endif
            }
        }

        // V is kept in panels of NT tiles (a GEMM micro-tile's width), each c_in rows of NT
        // floats: the panel a micro-tile reads is one contiguous stream. With rows a whole
        // block apart it would alias in L1 once a pass spans many channels (channel_chunk): 512
        // rows of a 64-tile block, 256 bytes apart, fall into 16 of L1's 64 sets.
        // Position strides one cache line longer than the data: the 36 positions of one tile
        // then fall into different cache sets (a multiple of 4 KB would alias them all).
        const std::size_t panel = c_in * NT;
        const std::size_t v_stride = (TB + NT - 1) / NT * panel + 16;
        const std::size_t m_stride = plan.out_split * TB + 16;
        float* const Vb = thread_scratch(scratch_slot::winograd_input, 36 * v_stride);
        float* const Mb = thread_scratch(scratch_slot::winograd_products, 36 * m_stride);
        thread_local std::vector<patch_loader<V>> loaders;  // one per vector of a task's tiles
        // A fused chunk of U: as U, filter_chunk outputs, positions one cache line further apart.
        const std::size_t uc_stride = plan.filter_chunk * c_in + 16;
        float* const Uc = plan.fused_filters
                              ? thread_scratch(scratch_slot::winograd_weights, 36 * uc_stride)
                              : nullptr;

#pragma omp for schedule(dynamic)
        for (std::ptrdiff_t task = 0; task < std::ptrdiff_t(plan.blocks * plan.splits); ++task) {
            const std::size_t t0 = std::size_t(task) / plan.splits * TB;
            const std::size_t co0 = std::size_t(task) % plan.splits * plan.out_split;
            const std::size_t co1 = std::min(plan.out_padded, co0 + plan.out_split);
            const std::size_t nt = std::min(TB, plan.tiles - t0);
            const std::size_t groups = (nt + W - 1) / W;  // vectors of tiles
            // V[p][ci][t] = (B^T d B)[p] for the 6x6 patch d of tile t0 + t; lanes = tiles.
            // Channel after channel, every vector of tiles of the task: the rows of one
            // channel are then read in order, not 6 rows of every channel per vector of tiles.
            loaders.clear();
            for (std::size_t g = 0; g < groups; ++g)
                loaders.emplace_back(t0 + g * W, std::min<std::size_t>(W, nt - g * W),
                                     plan.tiles_w, h, w);
            // The rows the task reads, the same span of every channel: the next channel's span
            // is fetched into the cache while this one is transformed (each channel is a new
            // stream 20-50 KB long, too short for the hardware prefetcher: measured 1.8x
            // faster for conv1_2).
            const std::size_t row0 = std::max<std::size_t>(4 * (t0 / plan.tiles_w), 1) - 1;
            const std::size_t row1 = std::min(h, 4 * ((t0 + nt - 1) / plan.tiles_w) + 5);
            for (std::size_t ci = 0; ci < c_in; ++ci) {
                if (ci + 1 < c_in) prefetch_span(in + ((ci + 1) * h + row0) * w, (row1 - row0) * w);
                for (std::size_t g = 0; g < groups; ++g)
                    winograd_f43::input_transform<V>(
                        loaders[g], in + ci * h * w,
                        Vb + g / NV * panel + ci * NT + g % NV * W, v_stride);
            }

            // M[p] = U[p] V[p] for this task's outputs, a chunk of outputs at a time when the
            // task transforms its own filters; the last GEMM tile may be narrower.
            const std::size_t chunk = plan.fused_filters ? plan.filter_chunk : co1 - co0;
            for (std::size_t g0 = co0; g0 < co1; g0 += chunk) {
                const std::size_t g1 = std::min(co1, g0 + chunk);
                if (plan.fused_filters)
                    winograd_f43::transform_filter_blocks<MR>(weights, c_in, c_out, adjoint,
                                                              g0 / MR, g1 / MR, Uc, uc_stride);
                const std::size_t KC = plan.channel_chunk;  // input channels per GEMM pass
                for (std::size_t p = 0; p < 36; ++p)
                    for (std::size_t k0 = 0; k0 < c_in; k0 += KC) {
                        const std::size_t kn = std::min(KC, c_in - k0);
                        for (std::size_t t = 0; t < groups * W;) {  // t: a panel's first tile
                            const float* b = Vb + p * v_stride + t / NT * panel + k0 * NT;
                            const std::size_t left = groups * W - t;
                            const int nv = left >= NT ? NV : left == 2 * std::size_t(W) ? 2 : 1;
                            for (std::size_t co = g0; co < g1; co += MR) {
                                const float* a =
                                    (plan.fused_filters ? Uc + p * uc_stride + (co - g0) * c_in
                                                        : U + p * u_stride + co * c_in) +
                                    k0 * MR;
                                float* c = Mb + p * m_stride + (co - co0) * TB + t;
                                if (nv == NV)
                                    gemm_microkernel<MR, MR, NV>(a, b, NT, kn, c, TB, k0 > 0);
                                else if (nv == 2)
                                    gemm_microkernel<MR, MR, 2>(a, b, NT, kn, c, TB, k0 > 0);
                                else
                                    gemm_microkernel<MR, MR, 1>(a, b, NT, kn, c, TB, k0 > 0);
                            }
                            t += std::size_t(nv) * W;
                        }
                    }
            }

            // out = act(A^T m A + bias) for every live tile of this task's outputs.
            for (std::size_t co = co0; co < std::min(co1, c_out); ++co)
                for (std::size_t g = 0; g < groups; ++g) {
                    R tmp[4][6], mm[6], res[4];
                    for (int b = 0; b < 6; ++b) {  // A^T m, column by column
                        for (int a = 0; a < 6; ++a)
                            mm[a] = V::loadu(Mb + std::size_t(a * 6 + b) * m_stride +
                                             (co - co0) * TB + g * W);
                        winograd_f43::output_1d<V>(mm, res);
                        for (int i = 0; i < 4; ++i) tmp[i][b] = res[i];
                    }
                    const R bv = V::broadcast(bias ? bias[co] : 0.0f);
                    R o4[4][4];
                    for (int i = 0; i < 4; ++i) {  // (A^T m) A, row by row
                        winograd_f43::output_1d<V>(tmp[i], res);
                        for (int j = 0; j < 4; ++j) {
                            o4[i][j] = V::add(res[j], bv);
                            if (relu) o4[i][j] = V::max(o4[i][j], V::zero());
                        }
                    }
                    // W whole tiles side by side in one tile row: vector stores.
                    const std::size_t first = t0 + g * W;
                    const std::size_t fi = first / plan.tiles_w, fj = first % plan.tiles_w;
                    if (nt >= (g + 1) * W && fj + W <= plan.tiles_w && 4 * fi + 4 <= h &&
                        4 * (fj + W) <= w) {
                        float* dst = out + (co * h + 4 * fi) * w + 4 * fj;
                        const bool aligned =
                            stream && reinterpret_cast<std::uintptr_t>(dst) % sizeof(R) == 0;
                        for (int i = 0; i < 4; ++i)
                            store_tile_row(o4[i], dst + std::size_t(i) * w, aligned);
                        continue;
                    }
                    alignas(64) float o[4][4][W];
                    for (int i = 0; i < 4; ++i)
                        for (int j = 0; j < 4; ++j) V::storeu(o[i][j], o4[i][j]);
                    for (int lane = 0; lane < W; ++lane) {
                        const std::size_t t = g * W + std::size_t(lane);
                        if (t >= nt) break;
                        const std::size_t ti = (t0 + t) / plan.tiles_w,
                                          tj = (t0 + t) % plan.tiles_w;
                        const std::size_t rows = std::min<std::size_t>(4, h - 4 * ti);
                        const std::size_t cols = std::min<std::size_t>(4, w - 4 * tj);
                        for (std::size_t i = 0; i < rows; ++i) {
                            float* dst = out + (co * h + 4 * ti + i) * w + 4 * tj;
                            for (std::size_t j = 0; j < cols; ++j) dst[j] = o[i][j][lane];
                        }
                    }
                }
        }
        if (stream) _mm_sfence();  // the streamed stores visible before the threads part
    }
}

// As above with the automatic blocking for the current OpenMP thread count.
inline void conv3x3_winograd(const float* in, std::size_t c_in, std::size_t h, std::size_t w,
                             const float* weights, bool adjoint, const float* bias, bool relu,
                             float* out, std::size_t c_out) {
    const int threads = num_threads();
    conv3x3_winograd(in, c_in, h, w, weights, adjoint, bias, relu, out, c_out,
                     conv3x3_winograd_plan(c_in, c_out, h, w, threads));
}

#endif

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
