// The instruction set this translation unit's kernels are compiled for, chosen at compile time
// from the compiler's flags (-mavx512f, or -mavx2 -mfma, or -march=native):
//   NST_SIMD_FLOAT_WIDTH  floats per vector register: 16 (AVX-512), 8 (AVX2 + FMA) or 0 (none:
//                         callers use their portable path);
//   NST_SIMD_NAMESPACE    the inline namespace every CPU-specific kernel lives in.
//
// The inline namespace gives the kernels of each instruction set their own symbols, so two
// translation units of one program compiled with different flags each keep their own kernels
// instead of the linker merging inline functions whose bodies differ (an ODR violation).
// Callers still write nst::detail::simd_float, nst::detail::conv3x3_implicit, ... The layers
// above the kernels (conv3x3, sequential) stay one definition: the linker keeps one copy, which
// calls one instruction set's kernels consistently (tests/odr checks such a program). As with
// any C++ code, every unit's instruction set must be one the running CPU has.
#pragma once

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define NST_SIMD_FLOAT_WIDTH 16
#define NST_SIMD_NAMESPACE isa_avx512
#elif defined(__AVX2__) && defined(__FMA__)
#define NST_SIMD_FLOAT_WIDTH 8
#define NST_SIMD_NAMESPACE isa_avx2
#else
#define NST_SIMD_FLOAT_WIDTH 0
#define NST_SIMD_NAMESPACE isa_generic
#endif
