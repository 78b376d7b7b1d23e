// What nst reads from image files itself, because stb_image ignores it or trusts it blindly:
// the EXIF orientation (JPEG APP1 "Exif", PNG eXIf), a JPEG's colour space (SOF component
// count, Adobe APP14 transform) and a PNG's compressed pixel data (to bound what it inflates to).
// Every reader is bounded by the buffer it is given and treats malformed data as "absent":
// decoding then goes on and stb reports any real damage.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <stb_image.h>

#include "../../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// A bounds-checked view of bytes; reads past the end give 0 and set `ok` to false.
struct byte_reader {
    const unsigned char* data = nullptr;
    std::size_t size = 0;
    bool big_endian = true;
    bool ok = true;

    bool has(std::size_t offset, std::size_t count) const {
        return offset <= size && count <= size - offset;
    }
    std::uint32_t get(std::size_t offset, std::size_t count) {
        if (!has(offset, count)) {
            ok = false;
            return 0;
        }
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint32_t byte = data[offset + (big_endian ? i : count - 1 - i)];
            v = (v << 8) | byte;
        }
        return v;
    }
    std::uint32_t u16(std::size_t offset) { return get(offset, 2); }
    std::uint32_t u32(std::size_t offset) { return get(offset, 4); }
};

// The orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block ("II*\0" or "MM\0*"
// header): 1..8, or 1 when it is absent, malformed or out of range.
inline int tiff_orientation(const unsigned char* tiff, std::size_t size) {
    byte_reader r{tiff, size};
    if (!r.has(0, 8)) return 1;
    if (tiff[0] == 'I' && tiff[1] == 'I') r.big_endian = false;
    else if (!(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
    if (r.u16(2) != 42) return 1;
    const std::size_t ifd = r.u32(4);
    const std::size_t entries = r.u16(ifd);
    if (!r.ok || !r.has(ifd + 2, 12 * entries)) return 1;  // the whole IFD must be there
    for (std::size_t i = 0; i < entries; ++i) {
        const std::size_t entry = ifd + 2 + 12 * i;
        if (r.u16(entry) != 0x0112) continue;
        const std::uint32_t type = r.u16(entry + 2), count = r.u32(entry + 4);
        // SHORT as the standard says; a few writers use LONG.
        const std::uint32_t value = type == 3 ? r.u16(entry + 8) : type == 4 ? r.u32(entry + 8) : 0;
        return count == 1 && value >= 1 && value <= 8 ? int(value) : 1;
    }
    return 1;
}

// What a JPEG's header segments (up to the first SOS) say beyond what stb reports.
struct jpeg_facts {
    int components = 0;        // of the first SOF; 0 when none was found
    int adobe_transform = -1;  // Adobe APP14 colour transform (0 none/CMYK, 1 YCbCr, 2 YCCK)
    int orientation = 1;       // EXIF orientation of the first APP1 Exif segment
};

inline jpeg_facts read_jpeg_facts(const unsigned char* data, std::size_t size) {
    jpeg_facts facts;
    byte_reader r{data, size};
    if (r.u16(0) != 0xFFD8) return facts;
    bool seen_exif = false;
    for (std::size_t at = 2; r.has(at, 4);) {
        if (data[at] != 0xFF) return facts;
        const unsigned marker = data[at + 1];
        if (marker == 0xFF) {  // fill byte
            ++at;
            continue;
        }
        if (marker == 0xD9 || marker == 0xDA) return facts;  // EOI, SOS: no more header
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
            at += 2;
            continue;
        }
        const std::size_t length = r.u16(at + 2), body = at + 4;
        if (length < 2 || !r.has(at + 2, length)) return facts;
        const std::size_t n = length - 2;
        const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                         marker != 0xCC;
        if (sof && facts.components == 0 && n >= 6) facts.components = data[body + 5];
        if (marker == 0xE1 && !seen_exif && n >= 6 && std::memcmp(data + body, "Exif\0\0", 6) == 0) {
            seen_exif = true;
            facts.orientation = tiff_orientation(data + body + 6, n - 6);
        }
        if (marker == 0xEE && n >= 12 && std::memcmp(data + body, "Adobe\0", 6) == 0)
            facts.adobe_transform = data[body + 11];
        at += 2 + length;
    }
    return facts;
}

// What a PNG's chunks say beyond what stb reports.
struct png_facts {
    std::uint32_t width = 0, height = 0;
    int depth = 0, color_type = 0, interlace = 0;
    bool apple_cgbi = false;  // Apple's variant: raw deflate without the zlib header
    int orientation = 1;      // EXIF orientation of the eXIf chunk
    std::vector<std::pair<std::size_t, std::size_t>> idat;  // (offset, length) of IDAT data
    std::string cut_chunk;    // a chunk whose declared length runs past the end, described
};

inline png_facts read_png_facts(const unsigned char* data, std::size_t size) {
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    png_facts facts;
    byte_reader r{data, size};
    if (!r.has(0, 8) || std::memcmp(data, signature, 8) != 0) return facts;
    for (std::size_t at = 8; r.has(at, 8);) {  // a chunk's length and type: stb acts on them alone
        const std::size_t length = r.u32(at), body = at + 8;
        const unsigned char* type = data + at + 4;
        if (!r.has(body, length)) {  // stb would reserve `length` bytes for an IDAT first
            facts.cut_chunk = "chunk '" + std::string(type, type + 4) + "' declares " +
                              std::to_string(length) + " bytes, the file has " +
                              std::to_string(size - body) + " left";
            return facts;
        }
        if (std::memcmp(type, "IHDR", 4) == 0 && length >= 13) {
            facts.width = r.u32(body);
            facts.height = r.u32(body + 4);
            facts.depth = data[body + 8];
            facts.color_type = data[body + 9];
            facts.interlace = data[body + 12];
        } else if (std::memcmp(type, "CgBI", 4) == 0) {
            facts.apple_cgbi = true;
        } else if (std::memcmp(type, "eXIf", 4) == 0) {
            facts.orientation = tiff_orientation(data + body, length);
        } else if (std::memcmp(type, "IDAT", 4) == 0) {
            facts.idat.emplace_back(body, length);
        } else if (std::memcmp(type, "IEND", 4) == 0) {
            break;
        }
        at = body + length + 4;  // + CRC
    }
    return facts;
}

// A PNG's header alone: the signature, the IHDR chunk and its CRC (its first 33 bytes) give the
// declared size without the rest of the file; width 0 when the data starts no PNG.
inline png_facts read_png_header(const unsigned char* data, std::size_t size) {
    return read_png_facts(data, std::min<std::size_t>(size, 8 + 8 + 13 + 4));
}

// The exact size of a PNG's filtered pixel data (what its zlib stream must inflate to),
// Adam7 passes included; 0 for an invalid header.
inline std::size_t png_raw_size(const png_facts& f) {
    const int channels[7] = {1, 0, 3, 1, 2, 0, 4};
    if (f.width > (1u << 24) || f.height > (1u << 24)) return 0;  // stb refuses these
    if (f.color_type < 0 || f.color_type > 6 || channels[f.color_type] == 0) return 0;
    const std::size_t bits = std::size_t(channels[f.color_type]) * std::size_t(f.depth);
    const auto pass = [&](std::size_t x0, std::size_t y0, std::size_t dx, std::size_t dy) {
        const std::size_t w = (f.width + dx - 1 - x0) / dx, h = (f.height + dy - 1 - y0) / dy;
        return f.width > x0 && f.height > y0 ? h * (1 + (w * bits + 7) / 8) : 0;
    };
    if (f.interlace == 0) return pass(0, 0, 1, 1);
    return pass(0, 0, 8, 8) + pass(4, 0, 8, 8) + pass(0, 4, 4, 8) + pass(2, 0, 4, 4) +
           pass(0, 2, 2, 4) + pass(1, 0, 2, 2) + pass(0, 1, 1, 2);
}

// False when the PNG's compressed data inflates to far more than its header allows. stb_image
// grows its output buffer without bound (a few MB of zlib can demand gigabytes), so the
// stream is first inflated into a buffer of the allowed size (the exact size plus a little
// slack for sloppy encoders). Other damage is left to stb to report.
inline bool png_inflates_within_header(const unsigned char* data, const png_facts& f) {
    const int d = f.depth;
    if (d != 1 && d != 2 && d != 4 && d != 8 && d != 16) return true;  // stb rejects it
    const std::size_t raw = png_raw_size(f), allowed = raw + raw / 4 + 4096;
    const std::size_t int_max = std::size_t(std::numeric_limits<int>::max());
    std::size_t compressed = 0;
    for (const auto& chunk : f.idat) compressed += chunk.second;
    if (raw == 0 || allowed >= int_max || compressed == 0 || compressed > int_max) return true;
    std::vector<char> in(compressed);
    std::size_t at = 0;
    for (const auto& chunk : f.idat) {
        std::memcpy(in.data() + at, data + chunk.first, chunk.second);
        at += chunk.second;
    }
    std::vector<char> out(allowed + 1);  // one spare byte: filling it means too long
    const int n = f.apple_cgbi
        ? stbi_zlib_decode_noheader_buffer(out.data(), int(out.size()), in.data(), int(compressed))
        : stbi_zlib_decode_buffer(out.data(), int(out.size()), in.data(), int(compressed));
    return !(n < 0 && std::strcmp(stbi_failure_reason(), "output buffer limit") == 0) &&
           n <= int(allowed);
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
