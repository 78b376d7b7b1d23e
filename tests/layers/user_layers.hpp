// Layers written the way a user would, outside nst, for the tests of the layer contract
// (layer_abstract.hpp, layer_traits.hpp), the public checker (test_layer.hpp) and fusion.
#pragma once

#include <cstddef>
#include <utility>

#include <nst/nst.hpp>

namespace nst::test {

// A ReLU written outside nst: declares itself fusable, counts its own forward calls.
template <class T> struct counting_relu {
    using value_type = T;
    static constexpr std::size_t in_channels = 0, out_channels = 0;
    static constexpr bool backward_needs_input = false, backward_needs_output = true;
    static constexpr fusable_activation fusable = fusable_activation::relu;
    static inline int forward_calls = 0;
    static constexpr shape3 output_shape(const shape3& in) { return in; }
    void forward(const tensor3<T>& x, tensor3<T>& y) const {
        ++forward_calls;
        y = xt::maximum(x, T(0));
    }
    tensor3<T> backward(const tensor3<T>&, const tensor3<T>& y, tensor3<T>&& dy,
                        const shape3&) const {
        return xt::where(y > T(0), dy, T(0));
    }
};

// Wrong on purpose: backward forgets the factor 2 of y = 2x.
template <class T> struct doubling_with_wrong_backward {
    using value_type = T;
    static constexpr std::size_t in_channels = 0, out_channels = 0;
    static constexpr bool backward_needs_input = false, backward_needs_output = false;
    static constexpr shape3 output_shape(const shape3& in) { return in; }
    void forward(const tensor3<T>& x, tensor3<T>& y) const { y = T(2) * x; }
    tensor3<T> backward(const tensor3<T>&, const tensor3<T>&, tensor3<T>&& dy,
                        const shape3&) const {
        return std::move(dy);
    }
};

// Breaks the contract: forward's shape is not what output_shape says.
template <class T> struct lying_shape : doubling_with_wrong_backward<T> {
    static constexpr shape3 output_shape(const shape3& in) { return {in[0], in[1] / 2, in[2]}; }
};

// Breaks the contract: declares C input channels, then takes whatever it is given unchecked.
template <class T, std::size_t C> struct trusting_channels {
    using value_type = T;
    static constexpr std::size_t in_channels = C, out_channels = C;
    static constexpr bool backward_needs_input = false, backward_needs_output = false;
    static constexpr shape3 output_shape(const shape3& in) { return {C, in[1], in[2]}; }
    void forward(const tensor3<T>& x, tensor3<T>& y) const { y = x; }
    tensor3<T> backward(const tensor3<T>&, const tensor3<T>&, tensor3<T>&& dy, const shape3&) const {
        return std::move(dy);
    }
};

// Breaks the contract: sums the channels into one, and its backward returns dy (1 channel) as if
// it were dL/dx (the input's channels).
template <class T> struct channel_sum_short_backward {
    using value_type = T;
    static constexpr std::size_t in_channels = 0, out_channels = 1;
    static constexpr bool backward_needs_input = false, backward_needs_output = false;
    static constexpr shape3 output_shape(const shape3& in) { return {1, in[1], in[2]}; }
    void forward(const tensor3<T>& x, tensor3<T>& y) const {
        y.resize({std::size_t(1), x.shape(1), x.shape(2)});
        xt::view(y, 0) = xt::sum(x, {0});
    }
    tensor3<T> backward(const tensor3<T>&, const tensor3<T>&, tensor3<T>&& dy, const shape3&) const {
        return std::move(dy);
    }
};

struct missing_backward {
    using value_type = double;
    static constexpr std::size_t in_channels = 0, out_channels = 0;
    static constexpr bool backward_needs_input = false, backward_needs_output = false;
    static constexpr shape3 output_shape(const shape3& in) { return in; }
    void forward(const tensor3<double>& x, tensor3<double>& y) const { y = x; }
};

}  // namespace nst::test
