// Rectified linear unit, max(0, x).
//
// Its backward needs only where the output was positive: one bit per element. A network that
// does not otherwise keep a ReLU's output keeps that bit mask instead (32x smaller in float; see
// "compact saved state" in sequential.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "layer_shape.hpp"
#include "layer_traits.hpp"
#include "positive_mask.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

template <class T> class relu {
public:
    using value_type = T;
    static constexpr const char* kind = "relu";
    static constexpr std::size_t in_channels = 0;
    static constexpr std::size_t out_channels = 0;
    static constexpr bool backward_needs_input = false;
    static constexpr bool backward_needs_output = true;  // y > 0 is the mask
    // A producing layer (conv3x3) may compute this ReLU in its own forward pass.
    static constexpr fusable_activation fusable = fusable_activation::relu;

    static constexpr shape3 output_shape(const shape3& in) { return in; }

    void forward(const tensor3<T>& x, tensor3<T>& y) const {
        require_activation(x, 0, kind);
        y.resize(x.shape());
        const T* in = x.data();
        T* out = y.data();
        const std::ptrdiff_t n = std::ptrdiff_t(x.size());
#pragma omp parallel for schedule(static) if (n > (1 << 16))
        for (std::ptrdiff_t i = 0; i < n; ++i) out[i] = std::max(in[i], T(0));
    }

    // dx = dy where y > 0, else 0 (the subgradient 0 at x == 0). Reuses dy's storage.
    tensor3<T> backward(const tensor3<T>&, const tensor3<T>& y, tensor3<T>&& dy,
                        const shape3&) const {
        if (y.shape() != dy.shape())
            throw shape_error(std::string("relu backward: gradient ") + shape_string(dy.shape()) +
                              " does not match output " + shape_string(y.shape()));
        T* g = dy.data();
        const T* out = y.data();
        const std::ptrdiff_t n = std::ptrdiff_t(dy.size());
#pragma omp parallel for schedule(static) if (n > (1 << 16))
        for (std::ptrdiff_t i = 0; i < n; ++i)
            if (!(out[i] > T(0))) g[i] = T(0);
        return std::move(dy);
    }

    // Compact saved state (sequential.hpp): what backward needs of the output y, y > 0.
    using saved_state = positive_mask;
    void save_for_backward(const tensor3<T>& y, saved_state& state) const { state.assign(y); }

    // As backward, from the saved mask instead of the output. Same result, bit for bit.
    tensor3<T> backward(const saved_state& positive, tensor3<T>&& dy, const shape3&) const {
        if (positive.shape() != shape_of(dy))
            throw shape_error(std::string("relu backward: gradient ") + shape_string(dy.shape()) +
                              " does not match output " + shape_string(positive.shape()));
        positive.zero_where_clear(dy);
        return std::move(dy);
    }
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
