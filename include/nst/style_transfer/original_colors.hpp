// Keeping the content's colours: the luminance of the stylised image with the content's chroma.
#pragma once

#include <cstddef>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../io/image.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// Luminance-only transfer (Gatys et al. 2016, "Preserving color in neural artistic style
// transfer", the simple variant): the luminance Y of `stylized` with the chroma Cb, Cr of
// `content`, in full-range BT.601 YCbCr (as JPEG uses).
// requires: both H x W x 3 of the same size (else shape_error).
inline nst::image keep_original_colors(const nst::image& stylized, const nst::image& content) {
    if (stylized.shape() != content.shape() || stylized.dimension() != 3 || stylized.shape(2) != 3)
        throw shape_error("keep_original_colors: the stylized image " + shape_string(stylized.shape()) +
                          " and the content " + shape_string(content.shape()) +
                          " must both be H x W x 3 of the same size");
    nst::image out = xt::empty<float>(stylized.shape());
    const std::size_t pixels = stylized.shape(0) * stylized.shape(1);
    const float* s = stylized.data();
    const float* c = content.data();
    float* o = out.data();
    for (std::size_t p = 0; p < pixels; ++p, s += 3, c += 3, o += 3) {
        const double y = 0.299 * s[0] + 0.587 * s[1] + 0.114 * s[2];
        const double cb = -0.168736 * c[0] - 0.331264 * c[1] + 0.5 * c[2];  // centred on 0
        const double cr = 0.5 * c[0] - 0.418688 * c[1] - 0.081312 * c[2];
        o[0] = float(y + 1.402 * cr);
        o[1] = float(y - 0.344136 * cb - 0.714136 * cr);
        o[2] = float(y + 1.772 * cb);
    }
    return out;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
