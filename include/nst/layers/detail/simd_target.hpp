// The instruction set this translation unit's kernels are compiled for, chosen at compile time
// from the compiler's flags (-mavx512f, or -mavx2 -mfma, or -march=native):
//   NST_SIMD_FLOAT_WIDTH  floats per vector register: 16 (AVX-512), 8 (AVX2 + FMA) or 0 (none:
//                         callers use their portable path).
// (The namespace all of nst lives in follows the same choice: core/isa_namespace.hpp).
// As with any C++ code, every unit's instruction set must be one the running CPU has.
#pragma once

#include "../../core/isa_namespace.hpp"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define NST_SIMD_FLOAT_WIDTH 16
#elif defined(__AVX2__) && defined(__FMA__)
#define NST_SIMD_FLOAT_WIDTH 8
#else
#define NST_SIMD_FLOAT_WIDTH 0
#endif
