// Region masks for stylize: images (H x W x 3, as load_mask_image reads any file, alpha as
// coverage; the mean of the channels: white = 1, black = 0, soft values between) that say
// where each style applies (stylize_options::style_masks) and where the content loss applies
// (stylize_options::content_mask). They are resized to the content's working size, overlaps are
// normalised there, and each layer sees the mask average-pooled to its own resolution with the
// network's own 2x2 rule (odd last rows and columns dropped), so a mask pixel covers exactly the
// positions its image pixels feed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../io/image.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// The aspect ratios (width / height) of a mask and the content may differ by at most this factor:
// a mask is stretched to the content's size, so a wildly different shape is most likely the
// wrong file.
inline constexpr double max_mask_aspect_ratio = 1.5;

/*  Checks a mask image before any work: H x W x 3 (as load_mask_image returns), an aspect ratio
    within max_mask_aspect_ratio of the content's, and some pixel above black.
    throws: shape_error / invalid_argument naming `what`. */
inline void check_mask_image(const nst::image& mask, const nst::image& content, const std::string& what) {
    detail::require_rgb_image(mask, what);
    detail::require_finite_pixels(mask, what);
    const double mask_aspect = double(mask.shape(1)) / double(mask.shape(0));
    const double content_aspect = double(content.shape(1)) / double(content.shape(0));
    const double ratio = std::max(mask_aspect, content_aspect) / std::min(mask_aspect, content_aspect);
    if (ratio > max_mask_aspect_ratio)
        throw invalid_argument(what + " is " + std::to_string(mask.shape(1)) + " x " + std::to_string(mask.shape(0)) +
                               ", a shape too different from the content's " + std::to_string(content.shape(1)) +
                               " x " + std::to_string(content.shape(0)) + " (it is stretched to the content's size)");
    if (std::all_of(mask.begin(), mask.end(), [](float v) { return !(v > 0.0f); }))
        throw invalid_argument(what + " is all black: its region is empty");
}

// The mask image as weights 0..1 at h x w: the mean of its channels / 255, clamped.
inline tensor2<float> mask_weights(const nst::image& mask, std::size_t h, std::size_t w,
                                   const image_limits& limits = {}) {
    const nst::image resized = resize_image(mask, h, w, limits);
    tensor2<float> m = tensor2<float>::from_shape({h, w});
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            const float v = (resized(y, x, 0) + resized(y, x, 1) + resized(y, x, 2)) / (3.0f * 255.0f);
            m(y, x) = std::clamp(v, 0.0f, 1.0f);
        }
    return m;
}

/*  Where masks overlap (their sum above 1 at a pixel) they are divided by that sum, so the styles
    share the pixel; elsewhere (sum <= 1) they are kept, so a single soft mask stays soft.
    requires: all masks of the same shape. */
inline void normalise_overlaps(std::vector<tensor2<float>>& masks) {
    if (masks.empty()) return;
    const std::size_t n = masks[0].size();
    for (const auto& m : masks)
        if (m.size() != n) throw shape_error("normalise_overlaps: masks of different sizes");
    for (std::size_t p = 0; p < n; ++p) {
        float sum = 0;
        for (const auto& m : masks) sum += m.data()[p];
        if (sum > 1.0f)
            for (auto& m : masks) m.data()[p] /= sum;
    }
}

/*  The mask at a layer's h x w: repeated 2x2 averages (floor sizes, as pool2x2) of `mask`.
    throws: shape_error when h x w is not on the mask's pooling pyramid. */
inline tensor2<float> pool_mask(const tensor2<float>& mask, std::size_t h, std::size_t w) {
    tensor2<float> m = mask;
    while (m.shape(0) != h || m.shape(1) != w) {
        const std::size_t ph = m.shape(0) / 2, pw = m.shape(1) / 2;
        if (ph < h || pw < w || ph == 0 || pw == 0)
            throw shape_error("pool_mask: " + std::to_string(h) + " x " + std::to_string(w) +
                              " is not a pooled size of the mask " + shape_string(mask.shape()));
        tensor2<float> next = tensor2<float>::from_shape({ph, pw});
        for (std::size_t y = 0; y < ph; ++y)
            for (std::size_t x = 0; x < pw; ++x)
                next(y, x) = 0.25f * (m(2 * y, 2 * x) + m(2 * y, 2 * x + 1) + m(2 * y + 1, 2 * x) +
                                      m(2 * y + 1, 2 * x + 1));
        m = std::move(next);
    }
    return m;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
