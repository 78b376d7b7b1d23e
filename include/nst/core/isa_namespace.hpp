// NST_SIMD_NAMESPACE: the inline namespace all of nst's code lives in, named after the
// instruction set the translation unit is compiled for (-mavx512f, -mavx2 -mfma, or neither).
//
// nst is header-only, so each translation unit compiles its own copy of every function. Two
// units of one program built with different flags (a project that builds one file with -mavx2
// and another with -mavx512f) would otherwise define the same inline functions with different
// bodies, and the linker would keep one: code using AVX-512 could then run where only the AVX2
// unit was meant to, or one unit's layer could call another's kernels. Inside
// nst::isa_avx512 / isa_avx2 / isa_generic each unit keeps its own code; users still write
// nst::vgg19, nst::stylize, ... Types are distinct per instruction set too, so passing nst
// objects between units built with different flags fails to link instead of running the wrong
// code. What must stay one per process lives outside: the error types (core/error.hpp, so a
// catch works in every unit) and HDF5's lock (io/detail/hdf5.hpp).
#pragma once

#if defined(__AVX512F__)
#define NST_SIMD_NAMESPACE isa_avx512
#elif defined(__AVX2__) && defined(__FMA__)
#define NST_SIMD_NAMESPACE isa_avx2
#else
#define NST_SIMD_NAMESPACE isa_generic
#endif
