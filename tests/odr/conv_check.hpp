// The checks each translation unit of test_odr runs (conv_check.cpp, compiled once per
// instruction set under a different function name).
#pragma once

#include <cstddef>
#include <cstdint>

struct conv_check_result {
    int simd_width;         // NST_SIMD_FLOAT_WIDTH the unit was compiled with
    // The unit's own CPU-specific functions, as the linker resolved them: distinct per unit
    // unless the program merged kernels of different instruction sets.
    std::uint64_t (*positive_bits)(const float*);
    std::size_t (*conv_packed_size)(std::size_t, std::size_t);
    // The mangled name of the unit's network type (conv3x3 + ReLU in nst::sequential): names
    // the instruction set's namespace, so each unit runs its own layers, not only its kernels.
    const char* network_type;
    double forward_error;   // max |nst - reference| / max |reference|, worst case
    double backward_error;  // the same for the input gradient
};

conv_check_result conv_check_generic();
conv_check_result conv_check_avx2();
conv_check_result conv_check_avx512();
