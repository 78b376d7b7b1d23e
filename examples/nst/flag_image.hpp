// An input image read for the flag that names it (nst and nst-batch): a failure says which flag
// gave the file ("--style-mask: cannot read image 'm.png': ..."), as the same file may be given
// to several. The mask flags read alpha as coverage (load_flag_mask): a mask painted as
// strokes on a transparent layer is those strokes, not a white page.
#pragma once

#include <string>

#include <nst/nst.hpp>

namespace nst::cli {

namespace detail {
// `read(path, limits)` with a failure naming the flag.
template <class Read>
nst::image read_for_flag(Read&& read, const char* flag, const std::string& path, const nst::image_limits& limits) {
    try {
        return read(path, limits);
    } catch (const nst::image_too_large& e) {
        throw nst::image_too_large(std::string(flag) + ": " + e.what());
    } catch (const nst::io_error& e) {
        throw nst::io_error(std::string(flag) + ": " + e.what());
    }
}
}  // namespace detail

inline nst::image load_flag_image(const char* flag, const std::string& path, const nst::image_limits& limits) {
    return detail::read_for_flag(
        [](const std::string& p, const nst::image_limits& l) { return nst::load_image(p, l); }, flag, path, limits);
}

// A region mask's flag (--style-mask, --content-mask): alpha read as coverage.
inline nst::image load_flag_mask(const char* flag, const std::string& path, const nst::image_limits& limits) {
    return detail::read_for_flag(
        [](const std::string& p, const nst::image_limits& l) { return nst::load_mask_image(p, l); }, flag, path,
        limits);
}

}  // namespace nst::cli
