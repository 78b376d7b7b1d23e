// Palette BMPs that Debian's stb_image would decode from uninitialised memory. stb reads a
// palette BMP's colours into a local table of 256 entries that it never clears, and only as many
// entries as the header's pixel-data offset leaves room for; a pixel whose index is past them
// takes whatever the stack held. An offset pointing inside the header even gives a negative count,
// which passes stb's own check (it refuses 0 and more than 256), so no entry is read at all
// (found by fuzz_decode_image: two decodes of one file differed). Refused here, before stb.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../../core/isa_namespace.hpp"
#include "image_headers.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

/*  "" for anything but a palette BMP (1, 4 or 8 bits per pixel, uncompressed) that stb would
    decode, else what is wrong: no palette entries, or the first pixel using an entry the palette
    lacks. Reads the pixel indices as stb does: from the data offset, rows padded to 4 bytes,
    missing bytes as 0. What stb refuses itself (other header sizes, compression, bit depths,
    more than 256 entries) is left to it. */
inline std::string check_bmp_palette(const unsigned char* data, std::size_t size) {
    if (size < 30 || data[0] != 'B' || data[1] != 'M') return "";
    byte_reader in{data, size, false};  // little-endian; past the end reads 0, as stb's
    // As stb reads them: signed 32-bit offset and header size.
    const std::int64_t offset = std::int32_t(in.u32(10)), header = std::int32_t(in.u32(14));
    if (offset < 0) return "";
    std::uint64_t width = 0, height = 0;
    std::uint32_t bpp = 0;
    std::int64_t entries = 0;  // the palette entries stb reads (its psize)
    if (header == 12) {
        width = in.u16(18);
        height = in.u16(20);
        bpp = in.u16(24);
        entries = (offset - 14 - 24) / 3;  // stb's count for this header (C division)
    } else if (header == 40 || header == 56 || header == 108 || header == 124) {
        // Compression as stb reads it, a signed int: it refuses 1 to 3 (with a palette) and 4 up,
        // and decodes any other value, a negative one too, as uncompressed.
        if (size < 34 || std::int32_t(in.u32(30)) > 0) return "";
        width = in.u32(18);
        height = std::uint64_t(std::llabs(std::int32_t(in.u32(22))));  // negative: top-down rows
        bpp = in.u16(28);
        const std::int64_t room = offset - 14 - header;
        entries = room >= 0 ? room / 4 : -((-room + 3) / 4);  // stb shifts right: rounds down
    } else {
        return "";
    }
    if (bpp != 1 && bpp != 4 && bpp != 8) return "";
    if (width == 0 || height == 0 || entries > 256) return "";
    if (entries < 1)
        return "a " + std::to_string(bpp) + "-bit palette BMP without palette entries (its pixel data starts at byte " +
               std::to_string(offset) + ", inside its " + std::to_string(14 + header) + "-byte header)";

    const std::uint64_t row_bytes = bpp == 1 ? (width + 7) / 8 : bpp == 4 ? (width + 1) / 2 : width;
    const std::uint64_t stride = (row_bytes + 3) / 4 * 4;
    for (std::uint64_t y = 0; y < height; ++y) {
        const std::uint64_t row = std::uint64_t(offset) + y * stride;
        if (row >= size) break;  // the rest reads as index 0, which the palette has
        for (std::uint64_t x = 0; x < width; ++x) {
            const unsigned b = in.get(std::size_t(row + x * bpp / 8), 1);  // the byte holding pixel x
            const unsigned index = bpp == 8 ? b : bpp == 4 ? (x % 2 ? b & 15u : b >> 4) : (b >> (7 - x % 8)) & 1u;
            if (index >= std::uint64_t(entries))
                return "pixel " + std::to_string(x) + " of row " + std::to_string(y) + " (in file order) uses palette entry " +
                       std::to_string(index) + ", past its " + std::to_string(entries);
        }
    }
    return "";
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
