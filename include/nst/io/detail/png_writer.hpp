// A PNG encoder for 8- and 16-bit RGB with a text chunk: stb_image_write writes only 8-bit
// PNGs and no text. The chunks are the PNG specification's (ISO/IEC 15948): signature, IHDR,
// iTXt (UTF-8 text under a keyword), IDAT, IEND, each with its CRC-32. Each row takes the
// filter (none, sub, up, average, Paeth) with the smallest sum of absolute filtered bytes, the
// specification's suggested heuristic; the filtered rows are deflated by stb_image_write's
// zlib compressor (part of libstb, the same one its own PNG writer uses).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"

// libstb exports its zlib compressor, which its header declares only in the implementation
// part (stb_image_write.h, STBIW_ZLIB_COMPRESS); the result is malloc'ed.
extern "C" unsigned char* stbi_zlib_compress(unsigned char* data, int data_len, int* out_len, int quality);

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

inline std::uint32_t png_crc32(const unsigned char* data, std::size_t size, std::uint32_t crc = 0) {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t n = 0; n < 256; ++n) {
            std::uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    crc = ~crc;
    for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

inline void put_u32_be(std::vector<unsigned char>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

// Appends one chunk: length, type, data, CRC of type and data.
inline void put_png_chunk(std::vector<unsigned char>& out, const char (&type)[5], const unsigned char* data,
                          std::size_t size) {
    put_u32_be(out, std::uint32_t(size));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data, data + size);
    put_u32_be(out, png_crc32(out.data() + start, size + 4));
}

inline unsigned char paeth(int a, int b, int c) {
    const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
    return static_cast<unsigned char>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// Filters `row` (previous row `up`, all zeros for the first) with the cheapest of the five
// filters into out = filter type byte + filtered bytes; bpp = bytes per pixel.
inline void filter_png_row(const unsigned char* row, const unsigned char* up, std::size_t bytes, std::size_t bpp,
                           std::vector<unsigned char>& out) {
    std::array<std::vector<unsigned char>, 5> trial;
    std::size_t best = 0;
    long best_cost = -1;
    for (std::size_t f = 0; f < 5; ++f) {
        std::vector<unsigned char>& t = trial[f];
        t.resize(bytes);
        long cost = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            const int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
            const int predictor = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : paeth(a, b, c);
            t[i] = static_cast<unsigned char>(row[i] - predictor);
            cost += std::abs(int(static_cast<signed char>(t[i])));
        }
        if (best_cost < 0 || cost < best_cost) best_cost = cost, best = f;
    }
    out.push_back(static_cast<unsigned char>(best));
    out.insert(out.end(), trial[best].begin(), trial[best].end());
}

/*  Encodes an RGB image as PNG.
    requires: samples holds height x width x 3 samples, row-major: bytes for bit_depth 8,
              big-endian byte pairs for bit_depth 16; width, height >= 1; the keyword is 1..79
              Latin-1 characters without NUL (else invalid_argument).
    ensures:  the complete file; text (UTF-8, any length) goes into an iTXt chunk under
              `keyword` before the image data, none when text is empty. */
inline std::vector<unsigned char> encode_png(const unsigned char* samples, std::size_t width, std::size_t height,
                                             int bit_depth, const std::string& keyword, const std::string& text) {
    if (bit_depth != 8 && bit_depth != 16)
        throw invalid_argument("PNG bit depth must be 8 or 16, got " + std::to_string(bit_depth));
    if (!text.empty() && (keyword.empty() || keyword.size() > 79 || keyword.find('\0') != std::string::npos))
        throw invalid_argument("PNG text keyword must be 1 to 79 characters without NUL, got '" + keyword + "'");
    const std::size_t bpp = std::size_t(3 * bit_depth / 8), row_bytes = width * bpp;
    std::vector<unsigned char> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    std::vector<unsigned char> header;
    put_u32_be(header, std::uint32_t(width));
    put_u32_be(header, std::uint32_t(height));
    header.insert(header.end(), {static_cast<unsigned char>(bit_depth), 2, 0, 0, 0});  // RGB, deflate, no interlace
    put_png_chunk(out, "IHDR", header.data(), header.size());

    if (!text.empty()) {
        std::vector<unsigned char> itxt(keyword.begin(), keyword.end());
        itxt.insert(itxt.end(), {0, 0, 0, 0, 0});  // NUL, uncompressed, method 0, no language, no translation
        itxt.insert(itxt.end(), text.begin(), text.end());
        put_png_chunk(out, "iTXt", itxt.data(), itxt.size());
    }

    std::vector<unsigned char> filtered;
    filtered.reserve((row_bytes + 1) * height);
    const std::vector<unsigned char> zeros(row_bytes, 0);
    for (std::size_t y = 0; y < height; ++y)
        filter_png_row(samples + y * row_bytes, y ? samples + (y - 1) * row_bytes : zeros.data(), row_bytes, bpp,
                       filtered);
    if (filtered.size() > std::size_t(INT32_MAX)) throw invalid_argument("image too large for the PNG writer");
    int compressed_size = 0;
    const std::unique_ptr<unsigned char, void (*)(void*)> compressed(
        stbi_zlib_compress(filtered.data(), int(filtered.size()), &compressed_size, 8), std::free);
    if (!compressed) throw error("PNG writer: the compressor failed (out of memory?)");
    put_png_chunk(out, "IDAT", compressed.get(), std::size_t(compressed_size));
    put_png_chunk(out, "IEND", nullptr, 0);
    return out;
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
