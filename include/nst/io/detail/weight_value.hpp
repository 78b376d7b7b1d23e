// The check every weight reader (Keras HDF5, PyTorch, Caffe) applies to each value it decodes: a
// NaN, an infinity or a magnitude no trained network has (weights_options::max_abs_weight) means
// a damaged file, refused naming the tensor, the element and the value.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../core/error.hpp"
#include "../../core/isa_namespace.hpp"
#include "../../core/number_text.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

/*  throws: io_error "<what>: value <v> at element <index> is not finite (damaged file?)" or
    "... exceeds the plausible magnitude <max_abs> of a trained weight (damaged file?)"; `what`
    names the file, the layer and the tensor. */
template <class T> void check_weight_value(T v, std::uint64_t index, double max_abs, const std::string& what) {
    if (std::abs(double(v)) <= max_abs) return;  // false for a NaN
    throw io_error(what + ": value " + number_text(v) + " at element " + std::to_string(index) +
                   (std::isfinite(v) ? " exceeds the plausible magnitude " + number_text(max_abs) + " of a trained weight"
                                     : std::string(" is not finite")) +
                   " (damaged file?)");
}

template <class T> void check_weight_values(const T* values, std::size_t count, double max_abs, const std::string& what) {
    for (std::size_t i = 0; i < count; ++i) check_weight_value(values[i], i, max_abs, what);
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
