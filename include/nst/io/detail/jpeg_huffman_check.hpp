// A check of a JPEG's Huffman tables before stb_image decodes it. Debian's stb_image (2022)
// trusts them: a table declaring more than 256 symbols overruns its arrays, a scan may use a
// table no DHT segment defined (stb then reads uninitialised memory), and a code that matches no
// symbol makes its decoder index outside the table and fail an assertion, which aborts the
// process (nothings/stb #1289, fixed upstream after that copy). Such files are refused here.
// The check rebuilds each table exactly as stb does and tries every 16-bit code prefix.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../core/isa_namespace.hpp"
#include "image_headers.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// counts[i]: how many codes of length i + 1. Returns "" when every code prefix stb's decoder can
// meet leads to a symbol of the table or to stb's own "bad code" error; else what is wrong.
inline std::string check_huffman_table(const unsigned char* counts) {
    constexpr int fast_bits = 9;  // stb's FAST_BITS
    std::array<unsigned char, 257> size{};
    int n = 0;
    for (int i = 0; i < 16; ++i)
        for (int j = 0; j < counts[i]; ++j) {
            if (n == 256) return "a Huffman table with more than 256 symbols";
            size[std::size_t(n++)] = static_cast<unsigned char>(i + 1);
        }
    std::array<std::uint32_t, 257> code{};
    std::array<std::uint32_t, 18> maxcode{};
    std::array<int, 17> delta{};
    std::uint32_t next = 0;
    int k = 0;
    for (int len = 1; len <= 16; ++len) {
        delta[std::size_t(len)] = k - int(next);
        while (k < n && size[std::size_t(k)] == len) code[std::size_t(k++)] = next++;
        if (next > 0 && next - 1 >= (1u << len)) return "";  // stb rejects it: "bad code lengths"
        maxcode[std::size_t(len)] = next << (16 - len);
        next <<= 1;
    }
    maxcode[17] = 0xffffffffu;
    std::array<bool, 1u << fast_bits> fast{};
    for (int i = 0; i < n; ++i)
        if (size[std::size_t(i)] <= fast_bits) {
            const int s = size[std::size_t(i)];
            const std::uint32_t first = code[std::size_t(i)] << (fast_bits - s);
            for (std::uint32_t j = 0; j < (1u << (fast_bits - s)); ++j) fast[first + j] = true;
        }
    for (std::uint32_t prefix = 0; prefix < (1u << 16); ++prefix) {
        if (fast[prefix >> (16 - fast_bits)]) continue;
        int len = fast_bits + 1;
        while (len < 17 && prefix >= maxcode[std::size_t(len)]) ++len;
        if (len == 17) continue;  // stb: "code not found", a clean error
        const int c = int(prefix >> (16 - len)) + delta[std::size_t(len)];
        if (c < 0 || c >= n || size[std::size_t(c)] != len)
            return "a Huffman table with codes that match no symbol";
    }
    return "";
}

// Reads a JPEG's markers the way stb does (bytes between segments skipped, fill bytes too,
// entropy-coded data skipped up to the next marker) and returns what is wrong with its Huffman
// tables for stb, or "" when nothing is (also for data that is not a JPEG or that stb rejects
// by itself with a clean error, such as a DHT segment whose tables overrun its length).
inline std::string check_jpeg_huffman_tables(const unsigned char* data, std::size_t size) {
    byte_reader r{data, size};
    if (r.u16(0) != 0xFFD8) return "";
    std::array<bool, 8> defined{};  // DC tables 0-3, then AC tables 0-3
    bool progressive = false;
    for (std::size_t at = 2;;) {
        while (at < size && data[at] != 0xFF) ++at;
        while (at < size && data[at] == 0xFF) ++at;
        if (at + 2 >= size) return "";
        const unsigned marker = data[at++];
        if (marker == 0xD9) return "";
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
        const std::size_t length = r.u16(at), body = at + 2;
        if (length < 2) return "";
        const std::size_t end = at + length;
        if (marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE) progressive = true;
        if (marker == 0xC4) {  // DHT: tables read on from the stream, as stb does, until L <= 0
            std::ptrdiff_t left = std::ptrdiff_t(length) - 2;
            for (std::size_t t = body; left > 0;) {
                if (!r.has(t, 17)) return "";
                const unsigned cls = data[t] >> 4, id = data[t] & 15;
                if (cls > 1 || id > 3) return "";  // stb rejects it: "bad DHT header"
                const std::string problem = check_huffman_table(data + t + 1);
                if (!problem.empty()) return problem;
                std::size_t symbols = 0;
                for (std::size_t i = 0; i < 16; ++i) symbols += data[t + 1 + i];
                defined[cls * 4 + id] = true;
                left -= std::ptrdiff_t(17 + symbols);
                t += 17 + symbols;
            }
            if (left != 0) return "";  // stb stops decoding: "bad DHT header"
        }
        if (marker == 0xDA) {  // SOS: the tables its components use must exist
            const std::size_t components = r.get(body, 1);
            if (!r.has(body, 1 + 2 * components + 3)) return "";
            const unsigned spectral_start = data[body + 1 + 2 * components];
            const bool dc = !progressive || spectral_start == 0, ac = !progressive || spectral_start != 0;
            for (std::size_t c = 0; c < components; ++c) {
                const unsigned tables = data[body + 2 + 2 * c];
                if ((dc && ((tables >> 4) > 3 || !defined[tables >> 4])) ||
                    (ac && ((tables & 15) > 3 || !defined[4 + (tables & 15)])))
                    return "a scan that uses a Huffman table the file never defines";
            }
            at = end;  // the entropy-coded data runs to the next marker
            while (at + 1 < size && !(data[at] == 0xFF && data[at + 1] != 0 &&
                                      !(data[at + 1] >= 0xD0 && data[at + 1] <= 0xD7)))
                ++at;
            continue;
        }
        at = end;
    }
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
