// libFuzzer target: any bytes through nst::decode_image (every format stb_image reads, the
// pixel limit, the PNG inflate bound, EXIF orientation, JPEG colour-space checks) and through
// the header readers on their own. A clean nst::error is the expected outcome for bad input;
// anything else (a crash, a sanitizer report, another exception, a huge allocation) is a bug.
#include <cstddef>
#include <cstdint>

#include <nst/io/image.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The header readers see every input, not only those stb accepts.
    (void)nst::detail::tiff_orientation(data, size);
    (void)nst::detail::read_jpeg_facts(data, size);
    (void)nst::detail::read_png_facts(data, size);
    try {
        // A small limit keeps each run fast; allocations beyond its proportion are findings.
        const nst::image img = nst::decode_image(data, size, "fuzz", nst::image_limits{1 << 20});
        if (img.dimension() != 3 || img.shape(2) != 3 || img.size() == 0) __builtin_trap();
    } catch (const nst::error&) {
    }
    return 0;
}
