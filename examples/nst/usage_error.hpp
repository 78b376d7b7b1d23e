// The error of bad input or usage in nst's and nst-batch's command lines (exit code 2).
#pragma once

#include <stdexcept>

namespace nst::cli {

// Bad input or usage: exit code 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace nst::cli
