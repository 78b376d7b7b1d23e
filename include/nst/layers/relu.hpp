// Rectified linear unit, max(0, x).
#pragma once

#include <algorithm>
#include <cstddef>

#include "layer_shape.hpp"

namespace nst {

template <class T> class relu {
public:
    using value_type = T;
    static constexpr const char* kind = "relu";
    static constexpr std::size_t in_channels = 0;
    static constexpr std::size_t out_channels = 0;
    static constexpr bool backward_needs_input = false;
    static constexpr bool backward_needs_output = true;  // y > 0 is the mask

    static shape3 output_shape(const shape3& in) { return in; }

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
};

}  // namespace nst
