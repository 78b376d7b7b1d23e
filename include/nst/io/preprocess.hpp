// Conversion between an nst::image (H x W x 3 RGB, 0..255) and a VGG's input, 3 x H x W, in the
// convention its weights were trained with (model_weights.hpp: input_convention):
//   caffe (Keras, Caffe, neural-style-pt; the one-argument forms): B, G, R minus the ImageNet
//         mean (103.939, 116.779, 123.68), in pixel levels;
//   torchvision: R, G, B scaled to 0..1, minus (0.485, 0.456, 0.406), divided by (0.229, 0.224, 0.225).
// The convention is applied exactly here, not folded into the first convolution: with zero
// padding a fold differs at the image border.
#pragma once

#include <cstddef>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "image.hpp"
#include "model_weights.hpp"

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

// torchvision's normalisation per R, G, B channel (of values in 0..1).
inline constexpr double torchvision_mean_rgb[3] = {0.485, 0.456, 0.406};
inline constexpr double torchvision_sd_rgb[3] = {0.229, 0.224, 0.225};

/*  The size of one pixel level (1/255 of the range) in a convention's input units, averaged over
    the channels: 1 for caffe, about 1 / 57.6 for torchvision. stylize uses it to keep quantities
    given in pixel levels (TV weight, Adam's step, noise) meaning the same under both. */
inline double pixel_level_in_input_units(input_convention convention) {
    if (convention == input_convention::caffe) return 1.0;
    return (1.0 / torchvision_sd_rgb[0] + 1.0 / torchvision_sd_rgb[1] + 1.0 / torchvision_sd_rgb[2]) / (3.0 * 255.0);
}

/*  requires: img is H x W x 3 with H, W >= 1 (else shape_error)
    ensures:  caffe: to_vgg_input<T>(img); torchvision: x(c, y, x) = (img(y, x, c) / 255 - mean[c]) / sd[c]
              for c = R, G, B; no clamping. */
template <class T> tensor3<T> to_vgg_input(const image& img, input_convention convention) {
    if (convention == input_convention::caffe) return to_vgg_input<T>(img);
    detail::require_rgb_image(img, "to_vgg_input");
    const std::size_t height = img.shape(0), width = img.shape(1);
    auto x = tensor3<T>::from_shape({3, height, width});
    const std::ptrdiff_t rows = std::ptrdiff_t(3 * height);
#pragma omp parallel for schedule(static) if (img.size() > (1 << 15))
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
        const std::size_t c = std::size_t(r) / height, y = std::size_t(r) % height;
        const double mean = torchvision_mean_rgb[c], sd = torchvision_sd_rgb[c];
        for (std::size_t col = 0; col < width; ++col) x(c, y, col) = T((double(img(y, col, c)) / 255.0 - mean) / sd);
    }
    return x;
}

/*  The inverse of to_vgg_input(img, convention).
    requires: x is 3 x H x W with H, W >= 1 (else shape_error)
    ensures:  an H x W x 3 RGB image in 0..255 units; no clamping. */
template <class T> image from_vgg_input(const tensor3<T>& x, input_convention convention) {
    if (convention == input_convention::caffe) return from_vgg_input(x);
    if (x.shape(0) != 3 || x.shape(1) == 0 || x.shape(2) == 0)
        throw shape_error("from_vgg_input: expected 3 x H x W with H, W >= 1, got " + shape_string(x.shape()));
    const std::size_t height = x.shape(1), width = x.shape(2);
    image img({height, width, 3});
    const std::ptrdiff_t rows = std::ptrdiff_t(height);
#pragma omp parallel for schedule(static) if (x.size() > (1 << 15))
    for (std::ptrdiff_t y = 0; y < rows; ++y)
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t col = 0; col < width; ++col)
                img(std::size_t(y), col, c) = float(255.0 * (double(x(c, std::size_t(y), col)) * torchvision_sd_rgb[c] +
                                                             torchvision_mean_rgb[c]));
    return img;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
