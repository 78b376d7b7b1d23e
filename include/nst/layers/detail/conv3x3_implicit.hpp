// The fast float path of the 3x3 "same" convolution: an implicit GEMM with nst's own
// register-blocked SIMD micro-kernel (conv3x3_microkernel.hpp), so its speed does not depend on
// which kernels the BLAS library picked at start-up.
//
// Structure (as conv3x3_gemm.hpp, minus the im2col copy): the image is cut into bands of output
// rows; per band a thread copies the rows it needs into a zero-bordered slab of padded width
// W+2. The GEMM "output channels x (9 * input channels) times (9 * input channels) x pixels"
// then runs with pixels read straight from the slab. Blocking, innermost first:
//   micro-tile  MR output channels x NT pixels, accumulated over a block of input channels
//               (registers);
//   co blocks   all output channels for one pixel tile (the tile's slab rows stay in L1);
//   pixel tiles the whole band (the weight block of the channel block stays in L2);
//   channel blocks, then bands (one band per thread at a time, from an OpenMP loop).
// The epilogue drops the two junk columns per row, adds the bias and applies the optional ReLU.
// Every buffer is per thread and bounded (band_rows), whatever the image size.
//
// Weights are packed by the caller (conv3x3_implicit_pack; conv3x3_engine does it per call into
// a reused buffer): forward, or the adjoint (channels swapped, kernel rotated by 180 degrees) so
// the same routine computes the backward pass.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "../../core/isa_namespace.hpp"
#include "../../core/threads.hpp"
#include "conv3x3_microkernel.hpp"
#include "simd_float.hpp"
#include "thread_scratch.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// True when this translation unit was compiled with an instruction set the kernel supports.
inline constexpr bool conv3x3_implicit_available = NST_SIMD_FLOAT_WIDTH > 0;

#if NST_SIMD_FLOAT_WIDTH == 16
inline constexpr int conv3x3_mr = 8;  // output channels per micro-tile
inline constexpr int conv3x3_nv = 3;  // vectors of pixels per micro-tile
#elif NST_SIMD_FLOAT_WIDTH == 8
inline constexpr int conv3x3_mr = 6;
inline constexpr int conv3x3_nv = 2;
#else
inline constexpr int conv3x3_mr = 1;
inline constexpr int conv3x3_nv = 1;
#endif

// Floats needed for the packed weights of a conv with c_in inputs and c_out outputs.
inline std::size_t conv3x3_implicit_packed_size(std::size_t c_in, std::size_t c_out) {
    const std::size_t mr = conv3x3_mr;
    return (c_out + mr - 1) / mr * mr * c_in * 9;
}

// Packs block m (outputs m*MR .. m*MR+MR-1, all inputs) of W (c_out x c_in x 3 x 3, PyTorch
// order) for conv3x3_implicit into packed_block (ins * 9 * MR floats, ins = c_in, or c_out when
// adjoint). adjoint == false: the forward convolution c_in -> c_out; adjoint == true: the
// backward-to-input convolution c_out -> c_in (W transposed in channels, rotated by 180
// degrees). Layout: input channel, tap, output within the block; outputs past the end are zero.
template <class T>
void conv3x3_implicit_pack_block(const T* weights, std::size_t c_in, std::size_t c_out,
                                 bool adjoint, std::size_t m, float* packed_block) {
    const std::size_t mr = conv3x3_mr, o0 = m * mr;
    const std::size_t ins = adjoint ? c_out : c_in, outs = adjoint ? c_in : c_out;
    const std::size_t live = outs > o0 ? std::min(mr, outs - o0) : 0;
    // Written in order; the MR outputs are read side by side (MR rows of W forward, MR
    // consecutive 3 x 3 kernels of one row for the adjoint).
    for (std::size_t i = 0; i < ins; ++i)
        for (std::size_t tap = 0; tap < 9; ++tap) {
            float* dst = packed_block + (i * 9 + tap) * mr;
            if (adjoint)
                for (std::size_t r = 0; r < live; ++r)
                    dst[r] = float(weights[(i * c_in + o0 + r) * 9 + (8 - tap)]);
            else
                for (std::size_t r = 0; r < live; ++r)
                    dst[r] = float(weights[((o0 + r) * c_in + i) * 9 + tap]);
            for (std::size_t r = live; r < mr; ++r) dst[r] = 0;
        }
}

// Packs W (c_out x c_in x 3 x 3, PyTorch order) for conv3x3_implicit: the blocks of
// conv3x3_implicit_pack_block one after another. packed needs
// conv3x3_implicit_packed_size(c_in, c_out) floats (forward) or
// conv3x3_implicit_packed_size(c_out, c_in) (adjoint).
template <class T>
void conv3x3_implicit_pack(const T* weights, std::size_t c_in, std::size_t c_out, bool adjoint,
                           float* packed) {
    const std::size_t mr = conv3x3_mr;
    const std::size_t ins = adjoint ? c_out : c_in, outs = adjoint ? c_in : c_out;
    const std::size_t blocks = (outs + mr - 1) / mr;
    if (!adjoint) {
#pragma omp parallel for schedule(static) if (blocks * ins >= 4096)
        for (std::ptrdiff_t m = 0; m < std::ptrdiff_t(blocks); ++m)
            conv3x3_implicit_pack_block(weights, c_in, c_out, false, std::size_t(m),
                                        packed + std::size_t(m) * ins * 9 * mr);
        return;
    }
    // Adjoint: one row of W (one adjoint input) at a time, read in order and written as
    // 9 x MR runs into every block. Block by block would read W in 288-byte strips 18 KB
    // apart, several times slower from memory.
#pragma omp parallel for schedule(static) if (blocks * ins >= 4096)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(ins); ++i) {
        const T* row = weights + std::size_t(i) * c_in * 9;
        for (std::size_t m = 0; m < blocks; ++m) {
            float* dst = packed + (m * ins + std::size_t(i)) * 9 * mr;
            const std::size_t o0 = m * mr, live = std::min(mr, outs - o0);
            for (std::size_t tap = 0; tap < 9; ++tap) {
                for (std::size_t r = 0; r < live; ++r)
                    dst[tap * mr + r] = float(row[(o0 + r) * 9 + (8 - tap)]);
                for (std::size_t r = live; r < mr; ++r) dst[tap * mr + r] = 0;
            }
        }
    }
}

#if NST_SIMD_FLOAT_WIDTH > 0

// Per-thread scratch, 64-byte aligned.
struct aligned_floats {
    struct release {
        void operator()(float* p) const { std::free(p); }
    };
    explicit aligned_floats(std::size_t n) {
        const std::size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
        data.reset(static_cast<float*>(std::aligned_alloc(64, bytes ? bytes : 64)));
        if (!data) throw std::bad_alloc();
    }
    std::unique_ptr<float[], release> data;
};

// Output channels per task when out_padded (a multiple of MR) is cut into about `ranges` ranges
// of whole micro-tiles (at most one range per micro-tile). Shared by the implicit GEMM's and
// Winograd's plans.
inline std::size_t output_range(std::size_t out_padded, std::size_t ranges) {
    const std::size_t mr = conv3x3_mr, blocks = out_padded / mr, cut = std::min(ranges, blocks);
    return (blocks + cut - 1) / cut * mr;
}

// Blocking of one call, derived from the layer shape and the thread count.
struct conv3x3_implicit_plan {
    std::size_t padded_width;    // W + 2: the slab's row stride
    std::size_t rows;            // output rows per band
    std::size_t tile;            // pixels per micro-tile (NV * vector width)
    std::size_t channel_block;   // input channels per pass over the band
    std::size_t channel_stride;  // floats between two channels of the slab
    std::size_t band_stride;     // floats between two output channels of the band buffer
    std::size_t out_padded;      // output channels rounded up to MR
    std::size_t out_split;       // output channels per task (a multiple of MR)
    std::size_t splits;          // output ranges: a task is one band x one range
    int threads;

    // rows_per_band, channels_per_block and outputs_per_task override the automatic choice when
    // nonzero (tests use this to exercise several bands, channel blocks and output ranges on
    // small images).
    conv3x3_implicit_plan(std::size_t c_in, std::size_t c_out, std::size_t h, std::size_t w,
                          int thread_count, std::size_t rows_per_band = 0,
                          std::size_t channels_per_block = 0, std::size_t outputs_per_task = 0) {
        const std::size_t mr = conv3x3_mr, t = std::size_t(std::max(thread_count, 1));
        threads = int(t);
        padded_width = w + 2;
        tile = std::size_t(conv3x3_nv) * simd_float::width;
        out_padded = (c_out + mr - 1) / mr * mr;
        // Slab + band buffer near 1 MB per thread (about L2), and at least two tasks a thread.
        const std::size_t budget = std::size_t(1) << 18;
        const std::size_t per_row = (c_in + out_padded) * padded_width;
        const std::size_t most = std::max<std::size_t>(1, std::min(budget / per_row, h));
        const std::size_t fair = (h + 2 * t - 1) / (2 * t);
        // Enough rows for two bands a thread: split the rows. Otherwise (a small image with many
        // channels: conv4_x and conv5_1 at 128 px) bands of a few rows would waste much of their
        // last micro-tile (3 rows of 18 pixels fill 54 of 96) and every band would read all the
        // weights: keep the bands whole, of equal height, and split the outputs instead
        // (measured on the 2-core Zen 5, alternated runs: an `nst` evaluation at 128 x 96 px
        // 0.066-0.074 -> 0.051-0.055 s on 2 threads, 0.093 -> 0.085 s on one; nst_eval at
        // 128 x 128 on 2 threads 0.075 -> 0.064 s; 256 px and up unchanged).
        const std::size_t whole = (h + most - 1) / most;  // bands of `most` rows at most
        rows = whole >= 2 * t ? std::min(most, fair) : (h + whole - 1) / whole;  // equal heights
        if (rows_per_band) rows = std::min(rows_per_band, h);
        const std::size_t bands = (h + rows - 1) / rows;
        out_split = output_range(out_padded, bands >= 2 * t ? 1 : (2 * t + bands - 1) / bands);
        if (outputs_per_task)
            out_split = std::min((outputs_per_task + mr - 1) / mr * mr, out_padded);
        splits = (out_padded + out_split - 1) / out_split;
        // The packed weights of a channel block for all outputs fit in L2 with room to spare,
        // and the tile's slab rows for the block stay within L1.
        channel_block = std::clamp<std::size_t>((std::size_t(1) << 16) / (9 * out_padded), 4, 32);
        if (channels_per_block) channel_block = channels_per_block;
        channel_block = std::min(channel_block, c_in);
        // The last tile reads up to tile + 1 floats past the band's last padded row.
        channel_stride = ((rows + 2) * padded_width + tile + 2 + 15) / 16 * 16;
        // An odd number of cache lines between channels spreads them over the L1 sets.
        if ((channel_stride / 16) % 2 == 0) channel_stride += 16;
        band_stride = (rows * padded_width + tile - 1) / tile * tile;
    }
};

// Task `index` of a plan (tasks run band by band, the output ranges of a band side by side):
// rows r0 .. r0+nr-1 (tiles micro-tiles of the padded band), output blocks m0 .. m1-1 of MR.
struct conv3x3_implicit_task {
    std::size_t r0, nr, tiles, m0, m1;
    conv3x3_implicit_task(const conv3x3_implicit_plan& plan, std::size_t h, std::size_t c_out,
                          std::size_t index) {
        const std::size_t mr = conv3x3_mr, per = plan.out_split / mr;
        r0 = index / plan.splits * plan.rows;
        nr = std::min(plan.rows, h - r0);
        tiles = (nr * plan.padded_width + plan.tile - 1) / plan.tile;
        m0 = index % plan.splits * per;
        m1 = std::min(m0 + per, (c_out + mr - 1) / mr);
    }
};

// Output rows r0 .. r0+nr-1 of channels co0 .. co1-1 from a band of sums (a row of stride
// ldc per output channel, padded width wp): drops the two junk columns per row, adds the bias,
// applies the optional ReLU.
inline void conv3x3_band_epilogue(const float* band, std::size_t ldc, std::size_t wp,
                                  const float* bias, bool relu, float* out, std::size_t co0,
                                  std::size_t co1, std::size_t h, std::size_t w, std::size_t r0,
                                  std::size_t nr) {
    for (std::size_t co = co0; co < co1; ++co) {
        const float bo = bias ? bias[co] : 0.0f;
        for (std::size_t y = 0; y < nr; ++y) {
            const float* src = band + co * ldc + y * wp;
            float* dst = out + (co * h + r0 + y) * w;
            if (relu)
                for (std::size_t x = 0; x < w; ++x) dst[x] = std::max(src[x] + bo, 0.0f);
            else
                for (std::size_t x = 0; x < w; ++x) dst[x] = src[x] + bo;
        }
    }
}

// out (c_out x h x w) = act(conv(in (c_in x h x w)) + bias), act = ReLU when relu is set.
// requires: packed from conv3x3_implicit_pack for (c_in, c_out) (or the adjoint packing for a
//   backward pass), bias null or c_out values; in and out do not overlap.
//   plan was made for the same c_in, c_out, h, w.
inline void conv3x3_implicit(const float* in, std::size_t c_in, std::size_t h, std::size_t w,
                             const float* packed, const float* bias, bool relu, float* out,
                             std::size_t c_out, const conv3x3_implicit_plan& plan) {
    constexpr int MR = conv3x3_mr, NV = conv3x3_nv;
    const int threads = plan.threads;
    const std::size_t wp = plan.padded_width, cs = plan.channel_stride, ldc = plan.band_stride;
    const std::size_t bands = (h + plan.rows - 1) / plan.rows;

#pragma omp parallel num_threads(threads)
    {
        float* const slab = thread_scratch(scratch_slot::implicit_slab, c_in * cs);
        float* const band = thread_scratch(scratch_slot::implicit_band, plan.out_padded * ldc);

#pragma omp for schedule(dynamic)
        for (std::ptrdiff_t task = 0; task < std::ptrdiff_t(bands * plan.splits); ++task) {
            const conv3x3_implicit_task at(plan, h, c_out, std::size_t(task));
            const std::size_t r0 = at.r0, nr = at.nr, tiles = at.tiles;

            // Slab: input rows r0-1 .. r0+nr, one zero column each side, zeros past the end.
            for (std::size_t ci = 0; ci < c_in; ++ci) {
                float* s = slab + ci * cs;
                std::memset(s, 0, cs * sizeof(float));
                for (std::size_t yy = 0; yy < nr + 2; ++yy) {
                    const std::ptrdiff_t y = std::ptrdiff_t(r0 + yy) - 1;
                    if (y < 0 || y >= std::ptrdiff_t(h)) continue;
                    std::memcpy(s + yy * wp + 1, in + (ci * h + std::size_t(y)) * w,
                                w * sizeof(float));
                }
            }

            for (std::size_t c0 = 0; c0 < c_in; c0 += plan.channel_block) {
                const std::size_t nc = std::min(plan.channel_block, c_in - c0);
                for (std::size_t t = 0; t < tiles; ++t) {
                    const float* src = slab + c0 * cs + t * plan.tile;
                    for (std::size_t m = at.m0; m < at.m1; ++m)
                        conv3x3_microkernel_rows<MR, NV>(
                            std::min<std::size_t>(MR, c_out - m * MR),
                            packed + (m * c_in + c0) * 9 * MR, src, cs, wp, nc,
                            band + m * MR * ldc + t * plan.tile, ldc, c0 > 0);
                }
            }

            conv3x3_band_epilogue(band, ldc, wp, bias, relu, out, at.m0 * MR,
                                  std::min(c_out, at.m1 * MR), h, w, r0, nr);
        }
    }
}

// As above with the automatic blocking for the current OpenMP thread count.
inline void conv3x3_implicit(const float* in, std::size_t c_in, std::size_t h, std::size_t w,
                             const float* packed, const float* bias, bool relu, float* out,
                             std::size_t c_out) {
    const int threads = num_threads();
    conv3x3_implicit(in, c_in, h, w, packed, bias, relu, out, c_out,
                     conv3x3_implicit_plan(c_in, c_out, h, w, threads));
}

#endif

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
