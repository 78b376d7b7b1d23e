// Images in and out of nst: load (stb_image), save as PNG or JPEG atomically (stb_image_write),
// and resize (stb_image_resize). An nst::image is H x W x 3 RGB float in 0..255; values are
// clamped and rounded only when saved, so intermediate results keep their precision. Masks
// (load_mask_image) read alpha as coverage: a transparent pixel is black, not white.
//
// Untrusted files: the declared size is checked against nst::image_limits before decoding, a
// PNG's compressed data may not inflate beyond its declared size, EXIF orientation is applied,
// and every failure is an nst::io_error naming the file (see decode_image).
// Thread safety: all functions here may run concurrently on different data (stb_image keeps its
// failure reason per thread, and nst never changes stb's global settings).
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

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "detail/atomic_file.hpp"
#include "detail/bmp_palette_check.hpp"
#include "detail/image_headers.hpp"
#include "detail/jpeg_comment.hpp"
#include "detail/jpeg_table_check.hpp"
#include "detail/png_writer.hpp"
#include "detail/pixel_data_bound.hpp"
#include "detail/read_file.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// An RGB image, H x W x 3 (row-major, channels interleaved), float values nominally in 0..255.
using image = xt::xtensor<float, 3>;

// Limits on what decoding may cost. The pixel count is checked from the file's header before
// anything is decoded, so a small file declaring a huge image (a decompression bomb) is refused
// quickly and cheaply. Decoding needs about 21 bytes per pixel while it runs (the decoder's
// buffer plus the float image), so the default admits 100-megapixel camera files.
struct image_limits {
    static constexpr std::size_t default_max_pixels = 100'000'000;
    std::size_t max_pixels = default_max_pixels;  // width x height as declared by the file
};

// An image (or a resize target) larger than image_limits allows. An io_error, so programs that
// treat unreadable input alike need no new case; catch it to tell the user how to raise the limit.
class image_too_large : public io_error {
public:
    using io_error::io_error;
};

namespace detail {

inline io_error image_error(const std::string& path, const std::string& reason) {
    return io_error("cannot read image '" + path + "': " + reason);
}

// Where stored pixel (y, x) of an h x w image is shown under EXIF orientation 1..8, as a flat
// pixel index into the upright image (w x h for orientations 5..8). The EXIF definitions:
// 1 as stored, 2 mirrored left-right, 3 rotated 180 degrees, 4 mirrored top-bottom,
// 5 transposed, 6 rotated 90 degrees clockwise, 7 transverse, 8 rotated 90 counter-clockwise.
struct orientation_map {
    std::size_t h, w;
    int orientation;

    bool swaps_sides() const { return orientation >= 5 && orientation <= 8; }
    std::size_t operator()(std::size_t y, std::size_t x) const {
        const std::size_t fy = h - 1 - y, fx = w - 1 - x;
        switch (orientation) {
        case 2: return y * w + fx;
        case 3: return fy * w + fx;
        case 4: return fy * w + x;
        case 5: return x * h + y;
        case 6: return x * h + fy;
        case 7: return fx * h + fy;
        case 8: return fx * h + y;
        default: return y * w + x;
        }
    }
};

// Converts stb's interleaved samples (1 to 4 channels, `max` = full scale) to RGB 0..255,
// placing each pixel where `place` shows it: grey is replicated, alpha is composited on
// `background` (0..255 in every channel) and dropped.
template <class Sample>
image to_rgb(const Sample* pixels, const orientation_map& place, int channels, float max, float background) {
    const std::size_t height = place.h, width = place.w;
    image out = place.swaps_sides() ? image({width, height, 3}) : image({height, width, 3});
    const float scale = 255.0f / max;
    const bool has_alpha = channels == 2 || channels == 4;
    const bool grey = channels <= 2;
    for (std::size_t y = 0; y < height; ++y)
        for (std::size_t x = 0; x < width; ++x, pixels += channels) {
            float* o = out.data() + 3 * place(y, x);
            const float alpha = has_alpha ? float(pixels[channels - 1]) / max : 1.0f;
            for (int c = 0; c < 3; ++c) {
                const float v = float(pixels[grey ? 0 : c]) * scale;
                o[c] = has_alpha ? v * alpha + background * (1.0f - alpha) : v;
            }
        }
    return out;
}

// Refuses a declared size above the limit. The second test catches extreme aspect ratios
// (1 x 100 million): decoders pad each side to whole blocks of up to 32 pixels, which matters
// only beyond a megapixel of padding.
inline void check_pixel_limit(const std::string& name, std::size_t width, std::size_t height,
                              const image_limits& limits) {
    const auto padded = [](std::size_t side) { return double((side + 31) / 32 * 32); };
    const double padding_slack = 1 << 20;
    const std::string size = std::to_string(width) + " x " + std::to_string(height);
    const std::string raise = " (raise nst::image_limits::max_pixels to accept it)";
    if (double(width) * double(height) > double(limits.max_pixels))
        throw image_too_large("cannot read image '" + name + "': it declares " + size + " = " +
                              std::to_string(width * height) + " pixels, more than the limit of " +
                              std::to_string(limits.max_pixels) + raise);
    if (padded(width) * padded(height) > 2.0 * double(limits.max_pixels) + padding_slack)
        throw image_too_large("cannot read image '" + name + "': " + size +
                              " is too elongated: decoding it pads it beyond twice the limit of " +
                              std::to_string(limits.max_pixels) + " pixels" + raise);
}

// Checks what stb would get wrong or pay too much for, and returns the EXIF orientation.
// JPEG: 4 channels are CMYK only with Adobe's APP14 marker (transform 0: Adobe's inverted CMYK,
// 2: YCCK), which stb converts; without it the channels' meaning is unknown.
// BMP: a palette lacking an entry a pixel uses (stb would show uninitialised memory there).
// PNG: a chunk longer than the file is refused (stb would reserve its declared size first);
// compressed data inflating far beyond the declared size is a decompression bomb.
inline int check_format_details(const unsigned char* data, std::size_t size,
                                const std::string& name) {
    if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8) {
        const std::string tables = check_jpeg_tables(data, size);
        if (!tables.empty()) throw image_error(name, "corrupt JPEG: " + tables);
        const jpeg_facts jpeg = read_jpeg_facts(data, size);
        if (jpeg.components == 4 && jpeg.adobe_transform != 0 && jpeg.adobe_transform != 2)
            throw image_error(name, "a 4-channel (CMYK) JPEG " +
                                        std::string(jpeg.adobe_transform < 0
                                                        ? "without Adobe's APP14 marker"
                                                        : "with Adobe colour transform " +
                                                              std::to_string(jpeg.adobe_transform)) +
                                        ": its colour space is ambiguous, so its colours would be "
                                        "wrong; convert it to RGB first");
        return jpeg.orientation;
    }
    if (size >= 2 && data[0] == 'B' && data[1] == 'M') {
        const std::string palette = check_bmp_palette(data, size);
        if (!palette.empty()) throw image_error(name, "corrupt BMP: " + palette);
        return 1;
    }
    const png_facts png = read_png_facts(data, size);
    if (png.width == 0) return 1;  // not a PNG
    if (!png.cut_chunk.empty()) throw image_error(name, "truncated or corrupt PNG: " + png.cut_chunk);
    if (!png_inflates_within_header(data, png))
        throw image_too_large("cannot read image '" + name + "': its compressed pixel data "
                              "inflates to far more than its declared " + std::to_string(png.width) +
                              " x " + std::to_string(png.height) + " pixels (a decompression bomb?)");
    return png.orientation;
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

// Every pixel a number (a NaN or infinity from the caller's own processing would otherwise pass
// through the network and surface as a loss that "overflows" with any weights).
inline void require_finite_pixels(const image& img, const std::string& what) {
    const float* p = img.data();
    const float* bad = std::find_if(p, p + img.size(), [](float v) { return !std::isfinite(v); });
    if (bad == p + img.size()) return;
    const std::size_t i = std::size_t(bad - p), channels = img.shape(2), width = img.shape(1);
    throw invalid_argument(what + ": pixel (row " + std::to_string(i / channels / width) + ", column " +
                           std::to_string(i / channels % width) + ", channel " + std::to_string(i % channels) +
                           ") is " + (std::isnan(*bad) ? "NaN" : "infinite") + ": pixels must be finite (0..255)");
}

inline io_error not_a_supported_image(const std::string& name) {
    return image_error(name, std::string("not a supported image (JPEG, PNG, BMP, TGA, GIF, PSD, PNM, HDR) or "
                                         "corrupt: ") + stbi_failure_reason());
}

// The first bytes of a file (up to 64 KiB) must start an image stb reads: a header its info
// accepts (every format's fits; TGA, which has no signature, is known by it), or a JPEG's
// start marker (its header may come after APP segments longer than that). So a large file that
// is no image is refused without reading it all.
inline void require_image_start(const unsigned char* start, std::size_t size, const std::string& name) {
    if (size >= 2 && start[0] == 0xFF && start[1] == 0xD8) return;
    if (read_png_header(start, size).width != 0) return;  // its size is decode_image's to check
    int width = 0, height = 0, channels = 0;
    if (size == 0 || !stbi_info_from_memory(start, int(size), &width, &height, &channels))
        throw size == 0 ? image_error(name, "the file is empty") : not_a_supported_image(name);
}

// A file's bytes for decoding, refused early when its start is no image's (see above).
inline std::vector<unsigned char> read_image_file(const std::string& path) {
    return read_file_bytes(path, "image", std::size_t(INT_MAX), [&](const unsigned char* start, std::size_t n) {
        require_image_start(start, n, path);
    });
}

}  // namespace detail

namespace detail {
// decode_image with alpha composited on `background` (255 white: pictures; 0 black: masks).
inline image decode_on_background(const unsigned char* data, std::size_t size, const std::string& name,
                                  const image_limits& limits, float background) {
    if (size == 0) throw detail::image_error(name, "the file is empty");
    if (size > std::size_t(INT_MAX)) throw detail::image_error(name, "the file is too large");
    const int length = int(size);
    int width = 0, height = 0, channels = 0;
    // A PNG's declared size first: stb's header check refuses one past ~350 megapixels as an
    // "unknown image type" (20000 x 20000), where the pixel limit has the clearer word.
    if (const detail::png_facts png = detail::read_png_header(data, size); png.width != 0)
        detail::check_pixel_limit(name, png.width, png.height, limits);
    if (!stbi_info_from_memory(data, length, &width, &height, &channels)) throw detail::not_a_supported_image(name);
    if (width <= 0 || height <= 0)
        throw detail::image_error(name, "zero width or height (" + std::to_string(width) + " x " +
                                            std::to_string(height) + ")");
    detail::check_pixel_limit(name, std::size_t(width), std::size_t(height), limits);
    const int orientation = detail::check_format_details(data, size, name);
    // stb decodes missing data as zeros: a header alone would cost a whole decode.
    const detail::pixel_data_need need = detail::pixel_data_needed(
        data, size, std::uint64_t(width), std::uint64_t(height), channels);
    if (need.bytes > size)
        throw detail::image_error(name, "truncated or forged: it declares " + std::to_string(width) + " x " +
                                            std::to_string(height) + " pixels, which need at least " +
                                            std::to_string(need.bytes) + " bytes (" + need.reason +
                                            "), but the file has " + std::to_string(size));

    const auto fail = [&] {
        return detail::image_error(name, std::string("corrupt or truncated image: ") +
                                             stbi_failure_reason());
    };
    struct stb_free {
        void operator()(void* p) const { stbi_image_free(p); }
    };
    const auto place = [&] {
        return detail::orientation_map{std::size_t(height), std::size_t(width), orientation};
    };
    if (stbi_is_16_bit_from_memory(data, length)) {
        std::unique_ptr<stbi_us, stb_free> pixels(
            stbi_load_16_from_memory(data, length, &width, &height, &channels, 0));
        if (!pixels) throw fail();
        return detail::to_rgb(pixels.get(), place(), channels, 65535.0f, background);
    }
    std::unique_ptr<stbi_uc, stb_free> pixels(
        stbi_load_from_memory(data, length, &width, &height, &channels, 0));
    if (!pixels) throw fail();
    return detail::to_rgb(pixels.get(), place(), channels, 255.0f, background);
}
}  // namespace detail

/*  Decodes an image held in memory. `name` is only used in error messages.
    requires: nothing (any bytes)
    ensures:  an H x W x 3 RGB image (H, W >= 1), values in 0..255, shown upright: a JPEG's EXIF
              or a PNG's eXIf orientation (1..8) is applied as image viewers do, so a phone photo
              tagged "rotated 90 degrees" comes out with the upright size. 16-bit images keep
              their precision (v / 257); grey becomes RGB; alpha is composited on white and
              dropped; an animated GIF gives its first frame; Adobe CMYK/YCCK JPEGs are
              converted to RGB.
              Throws image_too_large (an io_error) when the header declares more than
              limits.max_pixels pixels or a PNG's data inflates beyond its declared size, before
              decoding; io_error naming `name` and the reason for empty, corrupt, truncated or
              unsupported data (including a CMYK JPEG of unknown convention), and, before
              decoding, for a file too small for the pixels it declares (io/detail/
              pixel_data_bound.hpp: so a few bytes cannot cost a whole decode). */
inline image decode_image(const unsigned char* data, std::size_t size, const std::string& name,
                          const image_limits& limits = {}) {
    return detail::decode_on_background(data, size, name, limits, 255.0f);
}

/*  Loads JPEG, PNG (8 or 16 bit), BMP, TGA, GIF (first frame), PSD, PNM or HDR, upright.
    ensures: as decode_image; throws io_error naming the file and the reason (missing file,
             permission denied, a directory, corrupt, truncated, zero size, not an image), and
             image_too_large for a declared size above `limits`. A file over 2 GiB (stb's limit)
             is refused with io_error after reading no further than that, and a file whose
             first 64 KiB are no image's start (a video given by mistake, /dev/zero) after
             reading those. */
inline image load_image(const std::string& path, const image_limits& limits = {}) {
    const std::vector<unsigned char> bytes = detail::read_image_file(path);
    return decode_image(bytes.data(), bytes.size(), path, limits);
}

/*  Decodes a region mask (stylize_options::style_masks, content_mask: white = in the region,
    black = out, soft values between). As decode_image, but alpha is composited on black: a
    pixel counts value x alpha, so a transparent pixel is outside the region. White strokes
    painted on a transparent layer (an image editor's usual export) are the region, where
    decode_image would read the whole image as white. Images without alpha read alike. */
inline image decode_mask_image(const unsigned char* data, std::size_t size, const std::string& name,
                               const image_limits& limits = {}) {
    return detail::decode_on_background(data, size, name, limits, 0.0f);
}

/*  Loads a region mask: the file as load_image reads it, its alpha as decode_mask_image. */
inline image load_mask_image(const std::string& path, const image_limits& limits = {}) {
    const std::vector<unsigned char> bytes = detail::read_image_file(path);
    return decode_mask_image(bytes.data(), bytes.size(), path, limits);
}

// How save_image writes a file.
struct image_save_options {
    int jpeg_quality = 95;  // 1..100, JPEG only
    int png_bit_depth = 8;  // 8 or 16 bits per sample, PNG only (16: print workflows)
    // Text recorded in the file, e.g. how the image was made: an iTXt chunk under
    // `metadata_keyword` in a PNG, COM segments in a JPEG. Empty: none.
    std::string metadata;
    std::string metadata_keyword = "nst-parameters";
};

namespace detail {
// Clamped to 0..255, rounded (NaN -> 0) and scaled to 0..max (255 or 65535: v * 257).
inline std::vector<unsigned char> quantize_samples(const image& img, int bit_depth) {
    const std::size_t bytes_per_sample = bit_depth == 16 ? 2 : 1;
    std::vector<unsigned char> out(img.size() * bytes_per_sample);
    const float scale = bit_depth == 16 ? 257.0f : 1.0f;
    std::size_t i = 0;
    for (const float v : img) {
        const float clamped = v >= 0.0f ? std::min(v, 255.0f) : 0.0f;
        const unsigned value = unsigned(std::floor(clamped * scale + 0.5f));
        if (bytes_per_sample == 2) out[i++] = static_cast<unsigned char>(value >> 8);
        out[i++] = static_cast<unsigned char>(value & 0xFF);
    }
    return out;
}
}  // namespace detail

/*  Saves as PNG (lossless, 8 or 16 bits) or JPEG, chosen by the extension .png / .jpg / .jpeg
    (any case).
    requires: img is H x W x 3 with H, W >= 1 (else shape_error); the extension is one of the
              above, 1 <= jpeg_quality <= 100 and png_bit_depth is 8 or 16 (else invalid_argument).
    ensures:  values are clamped to 0..255 and rounded to the nearest integer (NaN -> 0); 16-bit
              PNGs store round(v * 257), so an image loaded back (v / 257) keeps 1/257-level
              precision; options.metadata is recorded as described above; the file is written
              to "<path>.tmp-XXXXXX" in the same folder and renamed over `path`, so `path` is
              either the complete new image or untouched. Throws io_error (missing folder,
              permission denied, disk full...) leaving no temporary file behind. */
inline void save_image(const image& img, const std::string& path, const image_save_options& options) {
    const std::string ext = detail::lowercase_extension(path);
    const bool png = ext == ".png";
    const auto refuse = [&](const std::string& why) { return invalid_argument("cannot save image '" + path + "': " + why); };
    if (!png && ext != ".jpg" && ext != ".jpeg")
        throw refuse("unknown extension '" + ext + "' (use .png, .jpg or .jpeg)");
    if (options.jpeg_quality < 1 || options.jpeg_quality > 100)
        throw refuse("JPEG quality must be in 1..100, got " + std::to_string(options.jpeg_quality));
    if (options.png_bit_depth != 8 && options.png_bit_depth != 16)
        throw refuse("PNG bit depth must be 8 or 16, got " + std::to_string(options.png_bit_depth));
    detail::require_rgb_image(img, "cannot save image '" + path + "'");
    const std::size_t height = img.shape(0), width = img.shape(1);
    const std::size_t max_side = png ? std::size_t(INT_MAX / 6) : 65535;  // JPEG stores 16 bits
    if (height > max_side || width > max_side || height * width > std::size_t(INT_MAX / 6))
        throw refuse(shape_string(img.shape()) + " is too large for the " + (png ? "PNG" : "JPEG") + " writer");

    std::vector<unsigned char> file;
    if (png) {
        const std::vector<unsigned char> samples = detail::quantize_samples(img, options.png_bit_depth);
        file = detail::encode_png(samples.data(), width, height, options.png_bit_depth, options.metadata_keyword,
                                  options.metadata);
    } else {
        const std::vector<unsigned char> samples = detail::quantize_samples(img, 8);
        const auto append = [](void* context, void* data, int size) {
            auto* bytes = static_cast<std::vector<unsigned char>*>(context);
            bytes->insert(bytes->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
        };
        if (!stbi_write_jpg_to_func(append, &file, int(width), int(height), 3, samples.data(), options.jpeg_quality))
            throw io_error("cannot save image '" + path + "': the encoder failed");
        detail::insert_jpeg_comment(file, options.metadata);
    }
    detail::atomic_file out(path);
    out.write(file.data(), file.size());
    out.commit();
}

/*  As above with default options but the JPEG quality. */
inline void save_image(const image& img, const std::string& path, int jpeg_quality = 95) {
    image_save_options options;
    options.jpeg_quality = jpeg_quality;
    save_image(img, path, options);
}

/*  Resamples to height x width with stb_image_resize on the float values as they are (no sRGB
    conversion; Mitchell filter when shrinking, Catmull-Rom when enlarging; edges clamped).
    requires: img is H x W x 3 with H, W >= 1 (else shape_error); height, width >= 1
              (else invalid_argument); height x width <= limits.max_pixels (else
              image_too_large: the output needs 12 bytes per pixel).
    ensures:  a height x width x 3 image; the same size returns an exact copy. Values may
              overshoot 0..255 slightly (not clamped). */
inline image resize_image(const image& img, std::size_t height, std::size_t width,
                          const image_limits& limits = {}) {
    detail::require_rgb_image(img, "resize_image");
    const std::string target = std::to_string(width) + " x " + std::to_string(height);  // as messages give sizes
    if (height == 0 || width == 0 || height > std::size_t(INT_MAX / 12) ||
        width > std::size_t(INT_MAX / 12))
        throw invalid_argument("resize_image: target size " + target + " is out of range");
    if (double(height) * double(width) > double(limits.max_pixels))
        throw image_too_large("resize_image: target size " + target + " is more than the limit of " +
                              std::to_string(limits.max_pixels) +
                              " pixels (raise nst::image_limits::max_pixels to allow it)");
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
inline image resize_longer_side(const image& img, std::size_t longer_side,
                                const image_limits& limits = {}) {
    detail::require_rgb_image(img, "resize_longer_side");
    const auto size = scaled_size(img.shape(0), img.shape(1), longer_side);
    return resize_image(img, size[0], size[1], limits);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
