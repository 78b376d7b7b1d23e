// Other programs' names for VGG layers, resolved to nst's canonical names (conv4_2, relu4_2,
// pool1 ...), so scripts written for Keras-based style transfer run unchanged.
//
// Keras names a convolution with its activation built in: its `block4_conv2` outputs the
// ReLU'd features, i.e. nst's relu4_2 (nst's conv4_2 is before the ReLU). `block1_pool` is pool1.
// The mapping is by pattern, so it serves every VGG (VGG16's block3_conv3 -> relu3_3).
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

namespace detail {
// The digits of `text` from `pos` as a number and the position after them; {0, pos} if none.
inline std::pair<std::size_t, std::size_t> read_layer_number(std::string_view text, std::size_t pos) {
    std::size_t value = 0, end = pos;
    while (end < text.size() && end - pos < 3 && std::isdigit(static_cast<unsigned char>(text[end])))
        value = value * 10 + std::size_t(text[end++] - '0');
    return {end == pos ? 0 : value, end};
}
}  // namespace detail

/*  nst's name for a VGG layer name: Keras' `blockB_convI` -> `reluB_I` (Keras' conv includes its
    ReLU), `blockB_pool` -> `poolB`; any other name is returned unchanged (canonical names, and
    unknown names that the model's lookup then rejects). */
inline std::string canonical_layer_name(std::string_view name) {
    constexpr std::string_view block = "block";
    if (name.substr(0, block.size()) != block) return std::string(name);
    const auto [b, after_block] = detail::read_layer_number(name, block.size());
    if (b == 0 || after_block >= name.size() || name[after_block] != '_') return std::string(name);
    const std::string_view rest = name.substr(after_block + 1);
    if (rest == "pool") return "pool" + std::to_string(b);
    constexpr std::string_view conv = "conv";
    if (rest.substr(0, conv.size()) != conv) return std::string(name);
    const auto [i, end] = detail::read_layer_number(rest, conv.size());
    if (i == 0 || end != rest.size()) return std::string(name);
    return "relu" + std::to_string(b) + "_" + std::to_string(i);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
