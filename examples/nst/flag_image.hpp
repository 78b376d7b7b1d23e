// An input image read for the flag that names it (nst and nst-batch): a failure says which flag
// gave the file ("--style-mask: cannot read image 'm.png': ..."), as the same file may be given
// to several. The mask flags read alpha as coverage (nst::load_mask_image): a mask painted as
// strokes on a transparent layer is those strokes, not a white page.
#pragma once

#include <string>

#include <nst/nst.hpp>

namespace nst::cli {

// The flags whose image is a region mask.
inline bool is_mask_flag(const std::string& flag) { return flag == "--style-mask" || flag == "--content-mask"; }

inline nst::image load_flag_image(const char* flag, const std::string& path, const nst::image_limits& limits) {
    try {
        return is_mask_flag(flag) ? nst::load_mask_image(path, limits) : nst::load_image(path, limits);
    } catch (const nst::image_too_large& e) {
        throw nst::image_too_large(std::string(flag) + ": " + e.what());
    } catch (const nst::io_error& e) {
        throw nst::io_error(std::string(flag) + ": " + e.what());
    }
}

}  // namespace nst::cli
