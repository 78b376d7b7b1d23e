// Puts text into a JPEG file as COM (comment, marker 0xFFFE) segments, after the JFIF APP0
// segment (or right after SOI without one), where readers such as exiftool and PIL find it.
// A segment holds at most 65533 bytes, so longer text is split over several in order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "../../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

inline void insert_jpeg_comment(std::vector<unsigned char>& jpeg, const std::string& text) {
    if (text.empty() || jpeg.size() < 4) return;
    std::size_t at = 2;  // after SOI
    if (jpeg[2] == 0xFF && jpeg[3] == 0xE0 && jpeg.size() >= 6)
        at = std::min(jpeg.size(), 4 + (std::size_t(jpeg[4]) << 8 | jpeg[5]));
    std::vector<unsigned char> segments;
    constexpr std::size_t max_payload = 65533;
    for (std::size_t pos = 0; pos < text.size(); pos += max_payload) {
        const std::size_t n = std::min(max_payload, text.size() - pos);
        segments.insert(segments.end(), {0xFF, 0xFE, static_cast<unsigned char>((n + 2) >> 8),
                                         static_cast<unsigned char>((n + 2) & 0xFF)});
        segments.insert(segments.end(), text.begin() + std::ptrdiff_t(pos), text.begin() + std::ptrdiff_t(pos + n));
    }
    jpeg.insert(jpeg.begin() + std::ptrdiff_t(at), segments.begin(), segments.end());
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
