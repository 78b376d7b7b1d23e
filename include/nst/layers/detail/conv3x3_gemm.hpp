// The portable path of the 3x3, stride-1, zero-padded ("same") convolution: a tiled im2col +
// BLAS GEMM. It runs double (gradient checks) and float where nst's own SIMD kernels are not
// compiled in, and it is the reference the tests compare those kernels against
// (conv3x3_engine.hpp chooses). Its speed depends on the BLAS's kernels (OpenBLAS core
// detection, OPENBLAS_CORETYPE).
//
// Why this shape: the image is cut into bands of output rows. For each band a thread copies the
// input rows it needs (one halo row above and below) into a zero-bordered slab of width W+2, so
// every one of the nine kernel taps is a plain pointer offset into the slab; the nine shifted
// copies stacked make the im2col matrix, and one GEMM produces the band for all output channels.
// Working in the padded width W+2 computes two junk columns per row (dropped in the epilogue)
// but makes every copy a contiguous memcpy. Buffers are per thread and bounded (see
// band_rows), so memory does not grow with the image: an untiled im2col of conv1_2 at 512x512
// would need 600 MB.
//
// The backward pass to the input is the same operation with the kernel transposed in channels
// and rotated by 180 degrees, so this one routine serves both directions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/threads.hpp"
#include "../../core/blas.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// Packs W (c_out x c_in x 3 x 3, PyTorch order) into the GEMM layout conv3x3_same reads.
// adjoint == false: the forward convolution, c_out x (9 c_in), column tap*c_in+ci = W[co][ci][tap].
// adjoint == true: the backward-to-input convolution, c_in x (9 c_out), column tap*c_out+co =
//   W[co][ci][8-tap] (kernel rotated by 180 degrees, channels swapped: the forward's adjoint).
// packed needs 9 * c_in * c_out elements.
template <class T>
void conv3x3_gemm_pack(const T* weights, std::size_t c_in, std::size_t c_out, bool adjoint,
                       T* packed) {
    for (std::size_t co = 0; co < c_out; ++co)
        for (std::size_t ci = 0; ci < c_in; ++ci)
            for (std::size_t tap = 0; tap < 9; ++tap) {
                const T w = weights[(co * c_in + ci) * 9 + tap];
                if (adjoint)
                    packed[ci * 9 * c_out + (8 - tap) * c_out + co] = w;
                else
                    packed[co * 9 * c_in + tap * c_in + ci] = w;
            }
}

// Rows per band so that one thread's im2col buffer stays near `budget` elements, and the bands
// give every thread work.
inline std::size_t band_rows(std::size_t in_channels, std::size_t height, std::size_t width,
                             int threads, std::size_t budget = std::size_t(1) << 20) {
    const std::size_t per_row = 9 * in_channels * (width + 2);
    std::size_t rows = std::max<std::size_t>(1, budget / per_row);
    const std::size_t fair = (height + 2 * threads - 1) / (2 * std::size_t(threads));
    return std::max<std::size_t>(1, std::min({rows, fair, height}));
}

// out (c_out x h x w) = act(conv(in (c_in x h x w), weights) + bias)
// weights: c_out x (9 * c_in), column (ky * 3 + kx) * c_in + ci holds W[co][ci][ky][kx].
// bias may be null (no bias); relu applies max(0, .) to the result.
template <class T>
void conv3x3_same(const T* in, std::size_t c_in, std::size_t h, std::size_t w, const T* weights,
                  const T* bias, bool relu, T* out, std::size_t c_out) {
    const std::size_t wp = w + 2;
    const int threads = num_threads();
    const std::size_t rows = band_rows(c_in, h, w, threads);
    const std::size_t bands = (h + rows - 1) / rows;
    const std::size_t k = 9 * c_in;
    // A team only for work that repays waking it: a gradient check runs thousands of tiny
    // convolutions, and on a busy machine each wake-up can wait for a descheduled thread.
    [[maybe_unused]] const bool worth_a_team = k * c_out * h * w >= (std::size_t(1) << 20);

#pragma omp parallel num_threads(threads) if (worth_a_team)
    {
        // +2: the taps of the two junk columns of the last row read two elements past the slab.
        std::vector<T> slab(c_in * (rows + 2) * wp + 2);
        std::vector<T> col(k * rows * wp);
        std::vector<T> band(c_out * rows * wp);

#pragma omp for schedule(dynamic)
        for (std::ptrdiff_t b = 0; b < std::ptrdiff_t(bands); ++b) {
            const std::size_t r0 = std::size_t(b) * rows;
            const std::size_t nr = std::min(rows, h - r0);
            const std::size_t slab_stride = (nr + 2) * wp;
            const std::size_t n = nr * wp;

            // Slab: rows r0-1 .. r0+nr of the input with a zero border.
            std::fill(slab.begin(), slab.end(), T(0));
            for (std::size_t ci = 0; ci < c_in; ++ci) {
                for (std::size_t yy = 0; yy < nr + 2; ++yy) {
                    const std::ptrdiff_t y = std::ptrdiff_t(r0 + yy) - 1;
                    if (y < 0 || y >= std::ptrdiff_t(h)) continue;
                    std::memcpy(&slab[ci * slab_stride + yy * wp + 1], in + (ci * h + y) * w,
                                w * sizeof(T));
                }
            }
            // im2col: row (tap, ci) is the slab of channel ci shifted by the tap's offset.
            for (std::size_t tap = 0; tap < 9; ++tap) {
                const std::size_t offset = (tap / 3) * wp + tap % 3;
                for (std::size_t ci = 0; ci < c_in; ++ci)
                    std::memcpy(&col[(tap * c_in + ci) * n], &slab[ci * slab_stride + offset],
                                n * sizeof(T));
            }
            blas::gemm(false, false, int(c_out), int(n), int(k), T(1), weights, int(k),
                       col.data(), int(n), T(0), band.data(), int(n));
            // Epilogue: drop the junk columns, add bias, apply the activation.
            for (std::size_t co = 0; co < c_out; ++co) {
                const T bo = bias ? bias[co] : T(0);
                for (std::size_t y = 0; y < nr; ++y) {
                    const T* src = &band[co * n + y * wp];
                    T* dst = out + (co * h + r0 + y) * w;
                    if (relu)
                        for (std::size_t x = 0; x < w; ++x) dst[x] = std::max(src[x] + bo, T(0));
                    else
                        for (std::size_t x = 0; x < w; ++x) dst[x] = src[x] + bo;
                }
            }
        }
    }
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
