// Which number format a float 3x3 convolution multiplies in: a per-layer setting (conv3x3's
// set_precision), set for a whole network with sequential::set_precision, like conv_algorithm.
#pragma once

#include "../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

//   fp32: float inputs, float products and sums (the default).
//   bf16: activations and weights rounded to bfloat16 (8 significant bits), products summed in
//         float by the CPU's VDPBF16PS instruction, twice as many per instruction as float
//         FMAs. Rounding ~1e-3 of the largest output. Runs on the direct (implicit-GEMM)
//         kernel: Winograd's transforms would amplify bf16 rounding far beyond that.
//         Needs AVX512_BF16 at compile time (-march=native on such a CPU, or -mavx512bf16);
//         otherwise a bf16 request runs in fp32 (conv_precision_in_use tells which).
enum class conv_precision { fp32, bf16 };

inline const char* to_string(conv_precision p) {
    return p == conv_precision::fp32 ? "fp32" : "bf16";
}

// True when this translation unit was compiled with the bf16 kernel (AVX512_BF16).
inline constexpr bool conv_bf16_available =
#if defined(__AVX512BF16__) && defined(__AVX512F__)
    true;
#else
    false;
#endif

// The precision a float convolution asked for `requested` computes in.
constexpr conv_precision conv_precision_in_use(conv_precision requested) {
    return conv_bf16_available ? requested : conv_precision::fp32;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
