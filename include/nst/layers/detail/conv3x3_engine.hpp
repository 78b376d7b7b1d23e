// Chooses how a conv3x3 layer computes. At compile time: for float, when the translation unit
// is compiled with AVX-512 or AVX2+FMA, nst's own SIMD kernels; otherwise the portable
// im2col + BLAS routine (conv3x3_gemm.hpp), which also stays the reference the tests compare
// the fast kernels against. At run time, per call, between the two own kernels:
// Winograd F(4x4, 3x3) (conv3x3_winograd.hpp, 4x fewer multiplies, transforms that pay off with
// enough channels and tiles) or the implicit GEMM (conv3x3_implicit.hpp). Both directions use
// the same routines with differently packed weights (forward, and its adjoint for backward).
// The caller passes the conv_algorithm and conv_precision (the layer's settings): no
// process-wide state. bf16 (with AVX512_BF16) swaps the implicit GEMM for its bf16 version
// (conv3x3_bf16.hpp); where Winograd runs, it runs in fp32.
//
// Memory: the layer keeps only its canonical weights (c_out x c_in x 3 x 3). Winograd reads
// them as they are (its filter transform gathers each kernel); for the implicit GEMM they are
// packed per call into a reused buffer of the calling thread (9.4 MB for 512 x 512 channels).
// Packing is 9 c_in c_out copies (about 0.5-1 ms for 512 x 512 channels, from memory) against
// 9 c_in c_out h w multiply-adds, and it saves two packed copies of every layer (160 MB for
// VGG19).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../conv_algorithm.hpp"
#include "../conv_precision.hpp"
#include "conv3x3_bf16.hpp"
#include "conv3x3_gemm.hpp"
#include "conv3x3_implicit.hpp"
#include "conv3x3_winograd.hpp"
#include "thread_scratch.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// Stateless: every call gets the layer's weights, c_out x c_in x 3 x 3 (PyTorch order).
template <class T> class conv3x3_engine {
public:
    // True when this scalar type runs on nst's own kernel (independent of the BLAS's kernels).
    static constexpr bool uses_own_kernel =
        std::is_same_v<T, float> && conv3x3_implicit_available;

    // out (c_out x h x w) = act(conv(in) + bias); bias may be null.
    static void forward(const T* weights, std::size_t c_in, std::size_t c_out, const T* in,
                        std::size_t h, std::size_t w, const T* bias, bool relu, T* out,
                        conv_algorithm algorithm, conv_precision precision = conv_precision::fp32) {
        run(weights, c_in, c_out, false, in, h, w, bias, relu, out, algorithm, precision);
    }

    // dx (c_in x h x w) = gradient of sum(dy * conv(x)) with respect to x.
    static void backward(const T* weights, std::size_t c_in, std::size_t c_out, const T* dy,
                         std::size_t h, std::size_t w, T* dx, conv_algorithm algorithm,
                         conv_precision precision = conv_precision::fp32) {
        run(weights, c_in, c_out, true, dy, h, w, nullptr, false, dx, algorithm, precision);
    }

    // Winograd where it measured faster on a 2-core AVX-512 machine (benchmarks/
    // bench_conv_kernels, single-threaded CPU time): 2-3x on every VGG19 layer with 64+ channels
    // on both sides and 64 x 64 pixels or more; 1.4-1.9x with 256-512 channels at 32 x 24 and
    // 32 x 32 pixels (48-64 tiles: conv5_1 at a 512-pixel input); slower with 3 channels (the
    // transforms dominate). With few tiles (NST_BENCH_INPUT=96/128/256 there, Zen 5, 1 and 2
    // threads): 512 x 512 channels at 16 x 16 pixels (16 tiles: conv4_x at 128 px, conv5_1 at
    // 256 px) 1.6-2x faster (AVX2 code on the same machine 2.5-2.8x), at 12 x 12 (9 tiles)
    // 1.2-1.4x, at 8 x 8 and 6 x 6 (4 tiles) 1.5-3x slower (AVX2: on a par), where
    // transforming the weights on every call is not amortised. From 12 tiles: 16 x 12 pixels
    // (conv4_x of a 128 x 96 image) is in; 12 x 9 (9 tiles covering 12 x 12, a quarter of them
    // padding) is not.
    static bool prefer_winograd(std::size_t c_in, std::size_t c_out, std::size_t h,
                                std::size_t w) {
        return c_in >= 32 && c_out >= 32 && ((h + 3) / 4) * ((w + 3) / 4) >= 12;
    }

private:
    // The convolution layer_in -> layer_out (adjoint: its backward, layer_out -> layer_in).
    static void run(const T* weights, std::size_t layer_in, std::size_t layer_out, bool adjoint,
                    const T* in, std::size_t h, std::size_t w, const T* bias, bool relu, T* out,
                    [[maybe_unused]] conv_algorithm algorithm,
                    [[maybe_unused]] conv_precision precision) {
        const std::size_t c_in = adjoint ? layer_out : layer_in;
        const std::size_t c_out = adjoint ? layer_in : layer_out;
        if constexpr (uses_own_kernel) {
#if NST_SIMD_FLOAT_WIDTH > 0  // (the own kernels exist only then)
            // Winograd stays fp32 where it runs: it does 4x fewer multiplies, and bf16 only
            // doubles the products per instruction, so it beats the bf16 implicit GEMM on every
            // VGG19 shape it is chosen for (1.3-2.1x, benchmarks/bf16_speed.sh; its transforms
            // would also amplify bf16 rounding ~20x). bf16 replaces the fp32 implicit GEMM only.
            const bool winograd =
                algorithm == conv_algorithm::fastest && prefer_winograd(c_in, c_out, h, w);
#ifdef NST_CONV3X3_BF16
            if (precision == conv_precision::bf16 && !winograd) {
                auto* pairs = reinterpret_cast<std::uint32_t*>(thread_scratch(
                    scratch_slot::packed_weights, conv3x3_bf16_packed_size(c_in, c_out)));
                conv3x3_bf16_pack(weights, layer_in, layer_out, adjoint, pairs);
                return conv3x3_implicit_bf16(in, c_in, h, w, pairs, bias, relu, out, c_out);
            }
#endif
            // (Winograd transforms the layer's weights itself: no packed copy)
            if (winograd)
                return conv3x3_winograd(in, c_in, h, w, weights, adjoint, bias, relu, out, c_out);
            float* packed = thread_scratch(scratch_slot::packed_weights,
                                           conv3x3_implicit_packed_size(c_in, c_out));
            conv3x3_implicit_pack(weights, layer_in, layer_out, adjoint, packed);
            conv3x3_implicit(in, c_in, h, w, packed, bias, relu, out, c_out);
#endif
        } else {
            thread_local std::vector<T> packed;
            packed.resize(9 * c_in * c_out);
            conv3x3_gemm_pack(weights, layer_in, layer_out, adjoint, packed.data());
            conv3x3_same(in, c_in, h, w, packed.data(), bias, relu, out, c_out);
        }
    }
};

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
