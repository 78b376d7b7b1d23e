// Tensor aliases used across nst. Activations are stored channel-major (C x H x W), one image
// at a time, so a layer's activations are the C x (H*W) matrix F of the paper without copying.
#pragma once

#include <cstddef>
#include <string>

#include "xtensor.hpp"

namespace nst {

template <class T> using tensor1 = xt::xtensor<T, 1>;
template <class T> using tensor2 = xt::xtensor<T, 2>;
template <class T> using tensor3 = xt::xtensor<T, 3>;  // channels x height x width
template <class T> using tensor4 = xt::xtensor<T, 4>;

// "C x H x W" formatted for messages.
template <class Shape> std::string shape_string(const Shape& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? " x " : "") + std::to_string(s[i]);
    return out.empty() ? "scalar" : out;
}

}  // namespace nst
