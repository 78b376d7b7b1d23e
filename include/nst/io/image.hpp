// Images in and out of nst: load (stb_image), save as PNG or JPEG atomically (stb_image_write),
// and resize (stb_image_resize). An nst::image is H x W x 3 RGB float in 0..255; values are
// clamped and rounded only when saved, so intermediate results keep their precision.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "detail/atomic_file.hpp"
#include "detail/read_file.hpp"

namespace nst {

// An RGB image, H x W x 3 (row-major, channels interleaved), float values nominally in 0..255.
using image = xt::xtensor<float, 3>;

namespace detail {

inline io_error image_error(const std::string& path, const std::string& reason) {
    return io_error("cannot read image '" + path + "': " + reason);
}

// Converts stb's interleaved samples (1 to 4 channels, `max` = full scale) to RGB 0..255:
// grey is replicated, alpha is composited on white and dropped.
template <class Sample>
image to_rgb(const Sample* pixels, std::size_t height, std::size_t width, int channels,
             float max) {
    image out({height, width, 3});
    const float scale = 255.0f / max;
    const bool has_alpha = channels == 2 || channels == 4;
    const bool grey = channels <= 2;
    float* o = out.data();
    for (std::size_t p = 0; p < height * width; ++p, pixels += channels, o += 3) {
        const float alpha = has_alpha ? float(pixels[channels - 1]) / max : 1.0f;
        for (int c = 0; c < 3; ++c) {
            const float v = float(pixels[grey ? 0 : c]) * scale;
            o[c] = has_alpha ? v * alpha + 255.0f * (1.0f - alpha) : v;
        }
    }
    return out;
}

inline std::string lowercase_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

inline void require_rgb_image(const image& img, const std::string& what) {
    if (img.dimension() != 3 || img.shape(2) != 3 || img.shape(0) == 0 || img.shape(1) == 0)
        throw shape_error(what + ": expected an H x W x 3 image with H, W >= 1, got " +
                          shape_string(img.shape()));
}

}  // namespace detail

/*  Decodes an image held in memory. `name` is only used in error messages.
    requires: nothing (any bytes)
    ensures:  an H x W x 3 RGB image (H, W >= 1), values in 0..255; 16-bit images keep their
              precision (v / 257); grey becomes RGB; alpha is composited on white and dropped;
              an animated GIF gives its first frame. Throws io_error naming `name` and the reason
              for empty, corrupt, truncated or unsupported data. */
inline image decode_image(const unsigned char* data, std::size_t size, const std::string& name) {
    if (size == 0) throw detail::image_error(name, "the file is empty");
    if (size > std::size_t(INT_MAX)) throw detail::image_error(name, "the file is too large");
    const int length = int(size);
    int width = 0, height = 0, channels = 0;
    if (!stbi_info_from_memory(data, length, &width, &height, &channels))
        throw detail::image_error(name, std::string("not a supported image (JPEG, PNG, BMP, TGA, "
                                                    "GIF, PSD, PNM, HDR) or corrupt: ") +
                                            stbi_failure_reason());
    if (width <= 0 || height <= 0)
        throw detail::image_error(name, "zero width or height (" + std::to_string(width) + " x " +
                                            std::to_string(height) + ")");

    const auto fail = [&] {
        return detail::image_error(name, std::string("corrupt or truncated image: ") +
                                             stbi_failure_reason());
    };
    struct stb_free {
        void operator()(void* p) const { stbi_image_free(p); }
    };
    if (stbi_is_16_bit_from_memory(data, length)) {
        std::unique_ptr<stbi_us, stb_free> pixels(
            stbi_load_16_from_memory(data, length, &width, &height, &channels, 0));
        if (!pixels) throw fail();
        return detail::to_rgb(pixels.get(), std::size_t(height), std::size_t(width), channels,
                              65535.0f);
    }
    std::unique_ptr<stbi_uc, stb_free> pixels(
        stbi_load_from_memory(data, length, &width, &height, &channels, 0));
    if (!pixels) throw fail();
    return detail::to_rgb(pixels.get(), std::size_t(height), std::size_t(width), channels, 255.0f);
}

/*  Loads JPEG, PNG (8 or 16 bit), BMP, TGA, GIF (first frame), PSD, PNM or HDR.
    ensures: as decode_image; throws io_error naming the file and the reason (missing file,
             permission denied, a directory, corrupt, truncated, zero size, not an image). */
inline image load_image(const std::string& path) {
    const std::vector<unsigned char> bytes = detail::read_file_bytes(path, "image");
    return decode_image(bytes.data(), bytes.size(), path);
}

/*  Saves as PNG (lossless) or JPEG, chosen by the extension .png / .jpg / .jpeg (any case).
    requires: img is H x W x 3 with H, W >= 1 (else shape_error); the extension is one of the
              above and 1 <= jpeg_quality <= 100 (else invalid_argument).
    ensures:  values are clamped to 0..255 and rounded to the nearest integer (NaN -> 0); the file
              is written to "<path>.tmp-XXXXXX" in the same folder and renamed over `path`, so
              `path` is either the complete new image or untouched. Throws io_error (missing
              folder, permission denied, disk full...) leaving no temporary file behind. */
inline void save_image(const image& img, const std::string& path, int jpeg_quality = 95) {
    const std::string ext = detail::lowercase_extension(path);
    const bool png = ext == ".png";
    if (!png && ext != ".jpg" && ext != ".jpeg")
        throw invalid_argument("cannot save image '" + path + "': unknown extension '" + ext +
                               "' (use .png, .jpg or .jpeg)");
    if (jpeg_quality < 1 || jpeg_quality > 100)
        throw invalid_argument("cannot save image '" + path + "': JPEG quality must be in 1..100, got " +
                               std::to_string(jpeg_quality));
    detail::require_rgb_image(img, "cannot save image '" + path + "'");
    const std::size_t height = img.shape(0), width = img.shape(1);
    const std::size_t max_side = png ? std::size_t(INT_MAX / 3) : 65535;  // JPEG stores 16 bits
    if (height > max_side || width > max_side || height * width > std::size_t(INT_MAX / 3))
        throw invalid_argument("cannot save image '" + path + "': " + shape_string(img.shape()) +
                               " is too large for the " + (png ? "PNG" : "JPEG") + " writer");

    std::vector<unsigned char> bytes(img.size());
    std::transform(img.begin(), img.end(), bytes.begin(), [](float v) {
        return static_cast<unsigned char>(v >= 0.0f ? std::floor(std::min(v, 255.0f) + 0.5f) : 0.0f);
    });

    detail::atomic_file out(path);
    const auto write = [](void* context, void* data, int size) {
        static_cast<detail::atomic_file*>(context)->write(data, std::size_t(size));
    };
    const int w = int(width), h = int(height);
    const int ok = png ? stbi_write_png_to_func(write, &out, w, h, 3, bytes.data(), w * 3)
                       : stbi_write_jpg_to_func(write, &out, w, h, 3, bytes.data(), jpeg_quality);
    if (!ok) throw io_error("cannot save image '" + path + "': the encoder failed");
    out.commit();
}

/*  Resamples to height x width with stb_image_resize on the float values as they are (no sRGB
    conversion; Mitchell filter when shrinking, Catmull-Rom when enlarging; edges clamped).
    requires: img is H x W x 3 with H, W >= 1 (else shape_error); height, width >= 1
              (else invalid_argument).
    ensures:  a height x width x 3 image; the same size returns an exact copy. Values may
              overshoot 0..255 slightly (not clamped). */
inline image resize_image(const image& img, std::size_t height, std::size_t width) {
    detail::require_rgb_image(img, "resize_image");
    if (height == 0 || width == 0 || height > std::size_t(INT_MAX / 12) ||
        width > std::size_t(INT_MAX / 12))
        throw invalid_argument("resize_image: target size " + std::to_string(height) + " x " +
                               std::to_string(width) + " is out of range");
    if (height == img.shape(0) && width == img.shape(1)) return img;
    image out({height, width, 3});  // xtensor is row-major contiguous: stb's interleaved layout
    const int in_w = int(img.shape(1)), in_h = int(img.shape(0));
    if (!stbir_resize_float(img.data(), in_w, in_h, 0, out.data(), int(width), int(height), 0, 3))
        throw error("resize_image: stb_image_resize failed (out of memory?)");
    return out;
}

/*  The size resize_longer_side would produce: the longer side becomes `longer_side`, the other
    keeps the aspect ratio, rounded to the nearest integer (halves up) and at least 1.
    Example: (300, 200, 512) -> {512, 341} (341.33), (200, 300, 512) -> {341, 512}.
    requires: h, w, longer_side >= 1 (else invalid_argument). */
inline std::array<std::size_t, 2> scaled_size(std::size_t h, std::size_t w, std::size_t longer_side) {
    if (h == 0 || w == 0 || longer_side == 0)
        throw invalid_argument("scaled_size: sizes must be >= 1, got " + std::to_string(h) + " x " +
                               std::to_string(w) + " to longer side " + std::to_string(longer_side));
    const auto scale_shorter = [longer_side](std::size_t shorter, std::size_t longer) {
        const double exact = double(shorter) * double(longer_side) / double(longer);
        return std::max<std::size_t>(1, std::size_t(std::floor(exact + 0.5)));
    };
    if (h >= w) return {longer_side, scale_shorter(w, h)};
    return {scale_shorter(h, w), longer_side};
}

/*  Resizes so the longer side equals `longer_side`, keeping the aspect ratio (see scaled_size).
    requires: as resize_image and scaled_size. */
inline image resize_longer_side(const image& img, std::size_t longer_side) {
    detail::require_rgb_image(img, "resize_longer_side");
    const auto size = scaled_size(img.shape(0), img.shape(1), longer_side);
    return resize_image(img, size[0], size[1]);
}

}  // namespace nst
