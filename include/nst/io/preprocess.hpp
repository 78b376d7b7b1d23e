// Conversion between an nst::image (H x W x 3 RGB, 0..255) and VGG19's input in the convention
// of the Caffe/Keras weights: 3 x H x W, channels in B, G, R order, ImageNet mean subtracted.
#pragma once

#include <cstddef>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "image.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// The ImageNet mean per channel in the network's B, G, R order (Caffe "caffe" mode).
inline constexpr double vgg_mean_bgr[3] = {103.939, 116.779, 123.68};

/*  requires: img is H x W x 3 with H, W >= 1 (else shape_error)
    ensures:  x(0, y, c) = img(y, c, 2) - 103.939 (blue), x(1, ...) = G - 116.779,
              x(2, ...) = R - 123.68; no clamping. */
template <class T> tensor3<T> to_vgg_input(const image& img) {
    detail::require_rgb_image(img, "to_vgg_input");
    const std::size_t height = img.shape(0), width = img.shape(1);
    auto x = tensor3<T>::from_shape({3, height, width});
    const std::ptrdiff_t rows = std::ptrdiff_t(3 * height);  // (channel, y) pairs
#pragma omp parallel for schedule(static) if (img.size() > (1 << 15))
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
        const std::size_t bgr = std::size_t(r) / height, y = std::size_t(r) % height;
        const std::size_t rgb = 2 - bgr;
        const T mean = T(vgg_mean_bgr[bgr]);
        for (std::size_t c = 0; c < width; ++c) x(bgr, y, c) = T(img(y, c, rgb)) - mean;
    }
    return x;
}

/*  The inverse of to_vgg_input.
    requires: x is 3 x H x W with H, W >= 1 (else shape_error)
    ensures:  an H x W x 3 RGB image; no clamping (save_image clamps). */
template <class T> image from_vgg_input(const tensor3<T>& x) {
    if (x.shape(0) != 3 || x.shape(1) == 0 || x.shape(2) == 0)
        throw shape_error("from_vgg_input: expected 3 x H x W with H, W >= 1, got " +
                          shape_string(x.shape()));
    const std::size_t height = x.shape(1), width = x.shape(2);
    image img({height, width, 3});
    const std::ptrdiff_t rows = std::ptrdiff_t(height);
#pragma omp parallel for schedule(static) if (x.size() > (1 << 15))
    for (std::ptrdiff_t y = 0; y < rows; ++y)
        for (std::size_t bgr = 0; bgr < 3; ++bgr) {
            const std::size_t rgb = 2 - bgr;
            const double mean = vgg_mean_bgr[bgr];
            for (std::size_t c = 0; c < width; ++c)
                img(std::size_t(y), c, rgb) = float(double(x(bgr, std::size_t(y), c)) + mean);
        }
    return img;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
