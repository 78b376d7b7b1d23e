// The fewest bytes an image file declaring W x H pixels can hold, format by format. stb_image
// decodes whatever is missing at the end of a file as zeros, so without this bound a header alone
// costs a whole decode: an 18-byte TGA or a 19-byte PNM declaring 10000 x 10000 took ~4 s of CPU
// and 1.5 GB, a 68-byte GIF as much, a 632-byte JPEG 0.8 s (found by tests/fuzz). With it, the
// work a file can cause is bounded by its size times the densest packing its format allows:
//   BMP, PNM, TGA types 1-3 store pixels raw: the whole raster (truncated files are refused);
//   TGA types 9-11: a run-length packet (1 byte + 1 pixel) covers at most 128 pixels;
//   JPEG: even a flat image needs a Huffman code of >= 1 bit per 8 x 8 block;
//   PSD: PackBits rows (2 bytes per 128 pixels at best) plus a 2-byte length per row;
//   HDR: 4 bytes a pixel, or run-length rows (2 bytes per 127 pixels of each of 4 components);
//   PIC: a mixed run-length packet (4 bytes at least) covers at most 65535 pixels of a row;
//   GIF: the canvas may be larger than the frames; nst accepts at most 8192 pixels per byte
//        (LZW codes of 12 bits decode to at most 8192 pixels; larger canvases are empty space);
//   PNG: not here (detail::png_inflates_within_header bounds it by its zlib stream).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "../../core/isa_namespace.hpp"
#include "image_headers.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// The fewest bytes a file needs for its declared size, and why.
struct pixel_data_need {
    std::uint64_t bytes = 0;
    std::string reason;  // e.g. "a raw 24-bit TGA stores 3 bytes per pixel"; empty: no bound
};

inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// TGA has no signature: stb takes a file for TGA when no other format claims it and the header
// is plausible. Here: image type 1-3 or 9-11 and the width and height stb reported.
inline pixel_data_need tga_need(const unsigned char* data, std::size_t size, std::uint64_t w,
                                std::uint64_t h) {
    byte_reader r{data, size, false};
    const std::uint32_t type = r.get(2, 1), bits = r.get(16, 1);
    if (!r.ok || r.u16(12) != w || r.u16(14) != h || bits == 0) return {};
    if (type != 1 && type != 2 && type != 3 && type != 9 && type != 10 && type != 11) return {};
    const std::uint64_t pixel_bytes = ceil_div(bits, 8), pixels = w * h;
    if (type < 9)
        return {pixels * pixel_bytes,
                "a raw TGA stores " + std::to_string(pixel_bytes) + " bytes per pixel"};
    return {ceil_div(pixels, 128) * (1 + pixel_bytes),
            "a run-length TGA packet of " + std::to_string(1 + pixel_bytes) +
                " bytes covers at most 128 pixels"};
}

// BMP: the rows of the raster, each padded to 4 bytes (stb reads no compressed BMP).
inline pixel_data_need bmp_need(const unsigned char* data, std::size_t size, std::uint64_t w,
                                std::uint64_t h) {
    byte_reader r{data, size, false};
    const std::uint32_t header = r.u32(14);
    const std::uint32_t bits = header == 12 ? r.u16(24) : r.u16(28);
    if (!r.ok || bits == 0) return {};
    const std::uint64_t row = ceil_div(w * bits, 8), stride = ceil_div(row, 4) * 4;
    return {(h - 1) * stride + row,
            "a BMP of " + std::to_string(bits) + " bits per pixel stores " + std::to_string(row) +
                " bytes per row"};
}

/*  The fewest bytes a well-formed file of this format (told by its first bytes, as stb does)
    needs for w x h pixels with `channels` channels; bytes 0 when there is no bound (PNG, or
    a format not told). w, h >= 1 and at most 2^32 each (stb's int sizes). */
inline pixel_data_need pixel_data_needed(const unsigned char* data, std::size_t size,
                                         std::uint64_t w, std::uint64_t h, int channels) {
    const auto starts = [&](const char* magic) {
        const std::size_t n = std::strlen(magic);
        return size >= n && std::memcmp(data, magic, n) == 0;
    };
    const std::uint64_t pixels = w * h;
    if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8)
        return {ceil_div(pixels, 512), "a JPEG codes each 8 x 8 block in at least 1 bit"};
    if (starts("\x89PNG")) return {};
    if (starts("GIF8"))
        return {ceil_div(pixels, 8192), "nst reads at most 8192 GIF pixels per byte of the file"};
    if (starts("BM")) return bmp_need(data, size, w, h);
    if (starts("8BPS"))
        return {h * 2 + h * 2 * ceil_div(w, 128), "a PSD row takes 2 bytes per 128 pixels at least"};
    if (starts("\x53\x80\xF6\x34"))
        return {h * 4 * ceil_div(w, 65535), "a PIC row takes 4 bytes per 65535 pixels at least"};
    if (starts("P5") || starts("P6"))
        return {pixels * std::uint64_t(std::max(channels, 1)),
                "a binary PNM stores " + std::to_string(std::max(channels, 1)) + " bytes per pixel"};
    if (starts("#?RADIANCE") || starts("#?RGBE"))
        return {h * std::min(4 * w, 8 * ceil_div(w, 127)),
                "an HDR row takes 8 bytes per 127 pixels at least"};
    return tga_need(data, size, w, h);
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
