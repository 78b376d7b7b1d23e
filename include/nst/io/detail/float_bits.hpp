// Little-endian float16, bfloat16, float32 and float64 bit patterns to numbers: the element types
// PyTorch .pth and safetensors weight files store (both readers decode with these).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// IEEE half (1 sign, 5 exponent, 10 mantissa bits) to float, subnormals, infinities and NaN included.
inline float half_to_float(std::uint16_t h) {
    const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float v = exponent == 0    ? std::ldexp(float(mantissa), -24)
              : exponent == 31 ? (mantissa ? std::nanf("") : INFINITY)
                               : std::ldexp(float(mantissa + 1024), exponent - 25);
    return (h & 0x8000) ? -v : v;
}
// bfloat16 is a float's upper 16 bits.
inline float bfloat16_to_float(std::uint16_t b) {
    const std::uint32_t bits = std::uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}
/*  The element of `element_size` bytes (2: half or, when `bfloat`, bfloat16; 4: float; 8: double)
    stored little-endian at p. */
inline double decode_element(const unsigned char* p, std::size_t element_size, bool bfloat) {
    std::uint64_t u = 0;
    for (std::size_t i = element_size; i-- > 0;) u = (u << 8) | p[i];
    if (element_size == 2) return bfloat ? bfloat16_to_float(std::uint16_t(u)) : half_to_float(std::uint16_t(u));
    if (element_size == 4) {
        const std::uint32_t bits = std::uint32_t(u);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return f;
    }
    double d;
    std::memcpy(&d, &u, sizeof d);
    return d;
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
