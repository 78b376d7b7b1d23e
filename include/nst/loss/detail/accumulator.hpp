// The check every term's accumulate form makes before adding into a gradient (objective.hpp).
#pragma once

#include <string>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"
#include "../../core/tensor.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// requires df (the gradient added to) to have the activations f's shape; never resizes it.
template <class T>
void require_accumulator(const char* what, const tensor3<T>& f, const tensor3<T>& df) {
    if (df.shape() != f.shape())
        throw shape_error(std::string(what) + ": the gradient to add to is " + shape_string(df.shape()) +
                          ", the activations " + shape_string(f.shape()));
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
