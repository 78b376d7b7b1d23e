// Which arithmetic a float 3x3 convolution may use: a per-layer setting (conv3x3's
// set_conv_algorithm), set for a whole network with sequential::set_conv_algorithm. No global:
// two networks in two threads can use different algorithms.
#pragma once

#include "../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// double always runs the im2col + BLAS path; float too when compiled without AVX2+FMA or
// AVX-512.
//   fastest: Winograd F(4x4, 3x3) where it is faster (32+ channels in and out, 12+ tiles of
//            4 x 4 pixels), nst's implicit GEMM elsewhere. Rounding ~2e-5 of the largest
//            output, so a near-zero ReLU input can differ in sign from an exact evaluation.
//   direct:  the implicit GEMM everywhere: rounding ~1e-7 of the largest output.
// Default: fastest.
enum class conv_algorithm { fastest, direct };

inline const char* to_string(conv_algorithm a) {
    return a == conv_algorithm::fastest ? "fastest" : "direct";
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
