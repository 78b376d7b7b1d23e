// Tensor aliases used across nst. Activations are stored channel-major (C x H x W), one image
// at a time, so a layer's activations are the C x (H*W) matrix F of the paper without copying.
// Storage comes from the buffer pool (buffer_pool.hpp), so the large tensors of one evaluation
// reuse the memory of the previous one instead of mapping fresh pages. Build new tensors of these
// types directly (tensor3<T>::from_shape(s), tensor3<T>(s, value)): assigning xt::empty/xt::zeros
// (plain xt::xtensor) to them allocates twice and copies.
#pragma once

#include <cstddef>
#include <string>

#include "isa_namespace.hpp"
#include "buffer_pool.hpp"
#include "xtensor.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

template <class T, std::size_t N>
using pooled_tensor = xt::xtensor<T, N, XTENSOR_DEFAULT_LAYOUT, pooled_allocator<T>>;

template <class T> using tensor1 = pooled_tensor<T, 1>;
template <class T> using tensor2 = pooled_tensor<T, 2>;
template <class T> using tensor3 = pooled_tensor<T, 3>;  // channels x height x width
template <class T> using tensor4 = pooled_tensor<T, 4>;

// "C x H x W" formatted for messages.
template <class Shape> std::string shape_string(const Shape& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? " x " : "") + std::to_string(s[i]);
    return out.empty() ? "scalar" : out;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
