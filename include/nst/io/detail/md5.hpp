// MD5 (RFC 1321), streamed: feed bytes in any pieces, then take the hex digest. Not for security:
// Keras publishes the MD5 of its weight files (and its downloader checks it), so nst computes it
// to recognise those files (io/weights_identity.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "../../core/isa_namespace.hpp"
#include "block_stream.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

class md5 : public block_stream<md5> {
public:
    // The digest as 32 lowercase hex digits. Ends the stream: call once.
    std::string hex_digest() {
        finish(length_order::little_endian);
        static const char digits[] = "0123456789abcdef";
        std::string hex;
        for (const std::uint32_t word : state_)
            for (int byte = 0; byte < 4; ++byte) {  // each word's bytes, low-order first (3.5)
                const unsigned value = (word >> (8 * byte)) & 0xFF;
                hex += digits[value >> 4];
                hex += digits[value & 0xF];
            }
        return hex;
    }

private:
    friend class block_stream<md5>;

    static std::uint32_t rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

    void compress(const unsigned char* p) {
        // T[i] = floor(2^32 |sin(i + 1)|) (RFC 1321 3.4).
        static const std::uint32_t t[64] = {
            0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
            0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
            0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
            0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
            0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
            0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
            0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
            0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
            0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
            0xeb86d391};
        // The left rotations of each round's four steps.
        static const int s[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
        std::uint32_t x[16];
        for (int i = 0; i < 16; ++i)
            x[i] = std::uint32_t(p[4 * i]) | std::uint32_t(p[4 * i + 1]) << 8 |
                   std::uint32_t(p[4 * i + 2]) << 16 | std::uint32_t(p[4 * i + 3]) << 24;
        std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
        // One step: a = b + ((a + f + X[k] + T[i]) <<< s), then (a, b, c, d) = (d, a, b, c).
        const auto step = [&](std::uint32_t f, int k, int i, int shift) {
            const std::uint32_t sum = a + f + x[k] + t[i];
            a = d, d = c, c = b;
            b = b + rotl(sum, shift);
        };
        // The four rounds, each with its own function and message-word order.
        for (int i = 0; i < 16; ++i) step((b & c) | (~b & d), i, i, s[0][i % 4]);
        for (int i = 16; i < 32; ++i) step((b & d) | (c & ~d), (5 * i + 1) % 16, i, s[1][i % 4]);
        for (int i = 32; i < 48; ++i) step(b ^ c ^ d, (3 * i + 5) % 16, i, s[2][i % 4]);
        for (int i = 48; i < 64; ++i) step(c ^ (b | ~d), (7 * i) % 16, i, s[3][i % 4]);
        state_[0] += a, state_[1] += b, state_[2] += c, state_[3] += d;
    }

    std::array<std::uint32_t, 4> state_ = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
};

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
