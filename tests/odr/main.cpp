// One program, three translation units with nst's kernels compiled for different instruction
// sets (generic, AVX2 + FMA, AVX-512; tests/odr/CMakeLists.txt). Each unit's kernels must stay
// its own functions (without a namespace per instruction set the linker merges same-named
// inline kernels with different bodies, an ODR violation: one unit then runs another's
// packing, tile sizes or register types); so must its layers (their types carry the unit's
// instruction-set namespace, core/isa_namespace.hpp); and each unit's convolutions must be
// correct.
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "conv_check.hpp"

namespace {

// Winograd F(4x4, 3x3) amplifies float rounding (tests/layers/test_conv3x3_kernels.cpp bounds it
// alike).
constexpr double tolerance = 1e-4;

std::set<const void*> kernels_seen;
std::set<std::string> layers_seen;

// True when the unit's kernels and layers are not those of a unit checked before, and its
// layers are in the namespace of its instruction set (isa_generic, isa_avx2, isa_avx512).
bool own_code(const conv_check_result& r, const char* name) {
    const void* bits = reinterpret_cast<const void*>(r.positive_bits);
    const void* conv = reinterpret_cast<const void*>(r.conv_packed_size);
    const bool own_kernels = kernels_seen.insert(bits).second && kernels_seen.insert(conv).second;
    const bool own_layers = layers_seen.insert(r.network_type).second &&
                            std::strstr(r.network_type, (std::string("isa_") + name).c_str()) != nullptr;
    return own_kernels && own_layers;
}

bool report(const char* name, int expected_width, conv_check_result (*run)()) {
    const conv_check_result r = run();
    const bool own = own_code(r, name);
    const bool ok = own && r.simd_width == expected_width && r.forward_error < tolerance &&
                    r.backward_error < tolerance;
    std::printf("%-8s width %2d (expected %2d)  %s kernels and layers  forward error %.2e  "
                "backward error %.2e  %s\n",
                name, r.simd_width, expected_width, own ? "own" : "SHARED", r.forward_error,
                r.backward_error, ok ? "ok" : "FAILED");
    return ok;
}

}  // namespace

int main() {
    __builtin_cpu_init();
    bool ok = report("generic", 0, conv_check_generic);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        ok = report("avx2", 8, conv_check_avx2) && ok;
    else
        std::printf("avx2     skipped: this CPU has no AVX2 + FMA\n");
    if (__builtin_cpu_supports("avx512f"))
        ok = report("avx512", 16, conv_check_avx512) && ok;
    else
        std::printf("avx512   skipped: this CPU has no AVX-512\n");
    return ok ? 0 : 1;
}
