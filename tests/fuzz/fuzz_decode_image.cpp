// libFuzzer target: any bytes through nst::decode_image (every format stb_image reads, the
// pixel limit, the PNG inflate bound, EXIF orientation, JPEG colour-space checks), through
// nst::decode_mask_image (the same decoding, alpha composited on black: --style-mask,
// --content-mask and nst-batch's mask cells) and through the header readers on their own. A
// clean nst::error is the expected outcome for bad input; anything else (a crash, a sanitizer
// report, another exception, a huge allocation, a broken promise of image.hpp) is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include <nst/io/image.hpp>

namespace {

// What decode_image and decode_mask_image both promise: H x W x 3 (H, W >= 1), values in 0..255.
void check_image(const nst::image& img) {
    if (img.dimension() != 3 || img.shape(2) != 3 || img.size() == 0) __builtin_trap();
    for (const float v : img)
        if (!(v >= 0.0f && v <= 255.0f)) __builtin_trap();  // (NaN fails too)
}

// Formats that have no alpha channel, known by their first bytes (stb's order of tests gives no
// other reader a chance at them): JPEG, binary PGM / PPM, Radiance HDR.
bool format_without_alpha(const std::uint8_t* data, std::size_t size) {
    const auto starts = [&](const char* magic) {
        const std::size_t n = std::strlen(magic);
        return size >= n && std::memcmp(data, magic, n) == 0;
    };
    return starts("\xFF\xD8") || starts("P5") || starts("P6") || starts("#?");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The header readers see every input, not only those stb accepts.
    (void)nst::detail::tiff_orientation(data, size);
    (void)nst::detail::read_jpeg_facts(data, size);
    (void)nst::detail::read_png_facts(data, size);
    // A small limit keeps each run fast; allocations beyond its proportion are findings.
    const nst::image_limits limits{1 << 20};
    std::optional<nst::image> picture, mask;
    std::string picture_error, mask_error;
    try {
        picture = nst::decode_image(data, size, "fuzz", limits);
        check_image(*picture);
    } catch (const nst::error& e) {
        picture_error = e.what();
    }
    try {
        mask = nst::decode_mask_image(data, size, "fuzz", limits);
        check_image(*mask);
    } catch (const nst::error& e) {
        mask_error = e.what();
    }
    // "As decode_image, but alpha is composited on black": the same bytes are refused alike, and
    // a decoded mask has the picture's size, with every value at most the picture's (v x alpha
    // against v x alpha + 255 x (1 - alpha)), and equal to it where there is no alpha.
    if (picture.has_value() != mask.has_value() || picture_error != mask_error) __builtin_trap();
    if (!picture) return 0;
    if (picture->shape() != mask->shape()) __builtin_trap();
    const bool no_alpha = format_without_alpha(data, size);
    for (std::size_t i = 0; i < picture->size(); ++i) {
        const float p = picture->data()[i], m = mask->data()[i];
        if (m > p || (no_alpha && m != p)) __builtin_trap();
    }
    return 0;
}
