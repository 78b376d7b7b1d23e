// 3x3 convolution, stride 1, zero "same" padding, with bias: VGG's only convolution.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "detail/conv3x3_engine.hpp"
#include "layer_shape.hpp"

namespace nst {

// Which arithmetic float 3x3 convolutions may use (double always runs the im2col + BLAS path;
// float too when compiled without AVX2+FMA or AVX-512).
//   fastest: Winograd F(4x4, 3x3) where it is faster (32+ channels in and out, 128+ tiles of
//            4 x 4 pixels, e.g. 48 x 48: about 2x on VGG19's layers), nst's implicit GEMM
//            elsewhere. Rounding ~2e-5 of the largest output, so a near-zero ReLU input can
//            differ in sign from an exact evaluation.
//   direct:  the implicit GEMM everywhere: rounding ~1e-7 of the largest output.
// Applies process-wide to calls that start after it. Default: fastest.
enum class conv_algorithm { fastest, direct };
inline void set_conv_algorithm(conv_algorithm algorithm) {
    detail::conv3x3_winograd_allowed() = algorithm == conv_algorithm::fastest;
}
inline conv_algorithm get_conv_algorithm() {
    return detail::conv3x3_winograd_allowed() ? conv_algorithm::fastest : conv_algorithm::direct;
}
// Sets the algorithm for its lifetime, then restores the previous one.
class scoped_conv_algorithm {
public:
    explicit scoped_conv_algorithm(conv_algorithm algorithm) : previous_(get_conv_algorithm()) {
        set_conv_algorithm(algorithm);
    }
    ~scoped_conv_algorithm() { set_conv_algorithm(previous_); }
    scoped_conv_algorithm(const scoped_conv_algorithm&) = delete;
    scoped_conv_algorithm& operator=(const scoped_conv_algorithm&) = delete;

private:
    conv_algorithm previous_;
};

// A layer is a small value type with:
//   value_type, kind, in_channels/out_channels (0 = any),
//   backward_needs_input / backward_needs_output (which activations the net must keep),
//   output_shape(in), forward(x, y), backward(x, y, dy, in_shape) -> dx.
// Weights are frozen: backward returns only the gradient with respect to the input.
template <class T, std::size_t In, std::size_t Out> class conv3x3 {
    static_assert(In > 0 && Out > 0, "conv3x3 needs positive channel counts");

public:
    using value_type = T;
    static constexpr const char* kind = "conv3x3";
    static constexpr std::size_t in_channels = In;
    static constexpr std::size_t out_channels = Out;
    static constexpr bool backward_needs_input = false;
    static constexpr bool backward_needs_output = false;

    // Zero weights and bias until set_weights is called.
    conv3x3() : weights_({Out, In, std::size_t(3), std::size_t(3)}, T(0)), bias_({Out}, T(0)) {}

    // requires: weights is Out x In x 3 x 3 (PyTorch's order: out, in, row, column), bias has Out
    // elements; throws shape_error naming both shapes otherwise.
    void set_weights(tensor4<T> weights, tensor1<T> bias) {
        const std::array<std::size_t, 4> expected{Out, In, 3, 3};
        if (!std::equal(expected.begin(), expected.end(), weights.shape().begin()))
            throw shape_error("conv3x3: expected weights " + shape_string(expected) + ", got " +
                              shape_string(weights.shape()));
        if (bias.size() != Out)
            throw shape_error("conv3x3: expected bias of " + std::to_string(Out) +
                              " elements, got " + shape_string(bias.shape()));
        weights_ = std::move(weights);
        bias_ = std::move(bias);
    }
    const tensor4<T>& weights() const { return weights_; }
    const tensor1<T>& bias() const { return bias_; }

    static shape3 output_shape(const shape3& in) { return {Out, in[1], in[2]}; }

    void forward(const tensor3<T>& x, tensor3<T>& y) const {
        require_activation(x, In, kind);
        y.resize({Out, x.shape(1), x.shape(2)});
        engine::forward(weights_.data(), In, Out, x.data(), x.shape(1), x.shape(2), bias_.data(),
                        false, y.data());
    }

    // forward followed by ReLU in one pass (the network uses it when the convolution's own
    // output is not read): saves writing and re-reading a whole activation.
    static constexpr bool can_fuse_relu = true;
    void forward_relu(const tensor3<T>& x, tensor3<T>& y) const {
        require_activation(x, In, kind);
        y.resize({Out, x.shape(1), x.shape(2)});
        engine::forward(weights_.data(), In, Out, x.data(), x.shape(1), x.shape(2), bias_.data(),
                        true, y.data());
    }

    tensor3<T> backward(const tensor3<T>&, const tensor3<T>&, tensor3<T>&& dy,
                        const shape3& in_shape) const {
        require_activation(dy, Out, std::string(kind) + " backward");
        auto dx = tensor3<T>::from_shape(in_shape);
        engine::backward(weights_.data(), In, Out, dy.data(), in_shape[1], in_shape[2], dx.data());
        return dx;
    }

private:
    // Computes from the canonical weights only: the layout a kernel reads is made per call
    // (conv3x3_engine.hpp), so no packed copies are kept.
    using engine = detail::conv3x3_engine<T>;

    tensor4<T> weights_;
    tensor1<T> bias_;
};

}  // namespace nst
