// Shape bookkeeping shared by the layers: an activation is C x H x W.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

using shape3 = std::array<std::size_t, 3>;

template <class T> shape3 shape_of(const tensor3<T>& t) {
    return {t.shape(0), t.shape(1), t.shape(2)};
}

// Throws shape_error naming `what` unless x is a non-empty C x H x W tensor with `channels`
// channels (channels == 0 accepts any count).
template <class T>
void require_activation(const tensor3<T>& x, std::size_t channels, const std::string& what) {
    if (x.size() == 0)
        throw shape_error(what + ": expected a non-empty C x H x W tensor, got " +
                          shape_string(x.shape()));
    if (channels != 0 && x.shape(0) != channels)
        throw shape_error(what + ": expected " + std::to_string(channels) +
                          " input channels, got " + std::to_string(x.shape(0)) + " (shape " +
                          shape_string(x.shape()) + ")");
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
