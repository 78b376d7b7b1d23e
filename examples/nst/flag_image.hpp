// An input image read for the flag that names it (nst and nst-batch): a failure says which flag
// gave the file ("--style-mask: cannot read image 'm.png': ..."), as the same file may be given
// to several.
#pragma once

#include <string>

#include <nst/nst.hpp>

namespace nst::cli {

inline nst::image load_flag_image(const char* flag, const std::string& path, const nst::image_limits& limits) {
    try {
        return nst::load_image(path, limits);
    } catch (const nst::image_too_large& e) {
        throw nst::image_too_large(std::string(flag) + ": " + e.what());
    } catch (const nst::io_error& e) {
        throw nst::io_error(std::string(flag) + ": " + e.what());
    }
}

}  // namespace nst::cli
