// Name lookups in VGG19's layer list that stylize needs before a network exists (option checks,
// the memory estimate, the smallest image side).
#pragma once

#include <cstddef>
#include <string>

#include "../../core/error.hpp"
#include "../../models/vgg19.hpp"

namespace nst::detail {

inline bool is_vgg19_layer(const std::string& name) {
    for (const auto& n : vgg19_layer_names())
        if (n == name) return true;
    return false;
}

inline std::size_t vgg19_index(const std::string& name) {
    const auto names = vgg19_layer_names();
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return i;
    throw invalid_argument("unknown VGG19 layer '" + name + "'");
}

// Pooling layers between the input and layer `index` (an image side must be >= 2^pools).
inline std::size_t pools_before(std::size_t index) {
    const auto names = vgg19_layer_names();
    std::size_t pools = 0;
    for (std::size_t i = 0; i < index; ++i)
        if (names[i].compare(0, 4, "pool") == 0) ++pools;
    return pools;
}

}  // namespace nst::detail
