// Which number format a float 3x3 convolution multiplies in: a per-layer setting (conv3x3's
// set_precision), set for a whole network with sequential::set_precision, like conv_algorithm.
#pragma once

#include "../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// As a layer's setting, which passes multiply in bfloat16 (8 significant bits) with float sums
// (the CPU's VDPBF16PS instruction, twice as many products per instruction as float FMAs); a
// kernel call (conv3x3_engine) takes the format of its one pass, fp32 or bf16 (pass_precision).
//   fp32:     everything in float (the default).
//   bf16:     the backward-to-input pass (the image gradient) in bf16, the forward pass in fp32,
//             so the loss and the optimizer's line search see exact values and only the
//             gradient carries bf16 rounding (~1e-3 of its largest value). A short stylisation
//             then ends as close to the fp32 one as fp32 with another convolution algorithm
//             does (tests/layers/test_conv_precision.cpp).
//   bf16_all: both passes in bf16 (experimental). Rounding the forward pass changes the
//             objective itself (the first layer sees the image rounded to 8 significant bits,
//             steps of 0.25-0.5 pixel levels, and the loss moves by several percent): L-BFGS
//             runs part from fp32 within 2-3 steps.
// The bf16 kernel is the direct (implicit-GEMM) one, about twice as fast as the fp32 direct
// kernel but slower than fp32 Winograd, so a layer keeps fp32 Winograd where it runs it
// (conv3x3_engine) and bf16 replaces only the fp32 direct kernel (conv1_1, and small
// deep layers: under 32 Winograd tiles). Needs AVX512_BF16 at compile time (-march=native on such a CPU,
// or -mavx512bf16); otherwise a bf16 request runs in fp32 (conv_precision_in_use tells which).
enum class conv_precision { fp32, bf16, bf16_all };

inline const char* to_string(conv_precision p) {
    return p == conv_precision::fp32 ? "fp32" : p == conv_precision::bf16 ? "bf16" : "bf16_all";
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

// The format (fp32 or bf16) in which a layer with setting `p` runs its forward pass or its
// backward-to-input pass.
constexpr conv_precision pass_precision(conv_precision p, bool backward) {
    if (p == conv_precision::bf16_all) return conv_precision::bf16;
    return backward ? p : conv_precision::fp32;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
