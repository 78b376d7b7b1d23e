// 3x3 convolution, stride 1, zero "same" padding, with bias: VGG's only convolution.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "../core/isa_namespace.hpp"
#include "conv_algorithm.hpp"
#include "conv_precision.hpp"
#include "detail/conv3x3_engine.hpp"
#include "layer_shape.hpp"
#include "layer_traits.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// The layer contract is in layer_abstract.hpp. Weights are frozen: backward returns only the
// gradient with respect to the input. The convolution algorithm is a per-layer setting
// (conv_algorithm.hpp; a network sets all its layers with sequential::set_conv_algorithm).
template <class T, std::size_t In, std::size_t Out> class conv3x3 {
    static_assert(In > 0 && Out > 0, "conv3x3 needs positive channel counts");

public:
    using value_type = T;
    static constexpr std::size_t in_channels = In;
    static constexpr std::size_t out_channels = Out;
    static constexpr bool backward_needs_input = false;
    static constexpr bool backward_needs_output = false;
    static constexpr std::size_t parameter_count = 9 * In * Out + Out;
    static constexpr const char* kind = "conv3x3";  // names the layer in error messages

    // No weights until set_weights: weights() and bias() are empty and the layer computes as
    // with zero weights. Nothing is allocated, so a network made to be loaded holds its weights
    // once (load_model_weights moves them in), not a zero copy first.
    conv3x3() = default;
    bool has_weights() const { return weights_.size() != 0; }

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

    // Winograd where faster (fastest, the default) or the direct kernel everywhere.
    void set_conv_algorithm(conv_algorithm algorithm) { algorithm_ = algorithm; }
    conv_algorithm algorithm() const { return algorithm_; }

    // fp32 (the default), bf16 (the backward pass in bf16 products) or bf16_all
    // (conv_precision.hpp); bf16 applies to float layers compiled with AVX512_BF16 and runs in
    // fp32 otherwise, as precision_in_use() tells, and only where the direct kernel runs
    // (conv3x3_engine: Winograd stays fp32).
    void set_precision(conv_precision precision) { precision_ = precision; }
    conv_precision precision() const { return precision_; }
    conv_precision precision_in_use() const {
        return engine::uses_own_kernel ? conv_precision_in_use(precision_) : conv_precision::fp32;
    }

    static constexpr shape3 output_shape(const shape3& in) { return {Out, in[1], in[2]}; }

    void forward(const tensor3<T>& x, tensor3<T>& y) const { run_forward(x, y, false); }

    // forward followed by ReLU in one pass (the network uses it when the convolution's own
    // output is not read): saves writing and re-reading a whole activation.
    static constexpr bool can_fuse(fusable_activation a) { return a == fusable_activation::relu; }
    void forward_fused(const tensor3<T>& x, tensor3<T>& y, fusable_activation) const {
        run_forward(x, y, true);
    }

    tensor3<T> backward(const tensor3<T>&, const tensor3<T>&, tensor3<T>&& dy,
                        const shape3& in_shape) const {
        // The kernels read dy as Out x H x W and write dx as In x H x W of in_shape.
        if (in_shape[0] != In)
            throw shape_error(std::string(kind) + " backward: an input of " + shape_string(in_shape) +
                              ", but the layer takes " + std::to_string(In) + " channels");
        if (shape_of(dy) != output_shape(in_shape))
            throw shape_error(std::string(kind) + " backward: expected gradient " +
                              shape_string(output_shape(in_shape)) + ", got " + shape_string(dy.shape()));
        auto dx = tensor3<T>::from_shape(in_shape);
        if (!has_weights()) {
            dx.fill(T(0));
            return dx;
        }
        engine::backward(weights_.data(), In, Out, dy.data(), in_shape[1], in_shape[2], dx.data(),
                         algorithm_, pass_precision(precision_in_use(), true));
        return dx;
    }

private:
    void run_forward(const tensor3<T>& x, tensor3<T>& y, bool relu) const {
        require_activation(x, In, kind);
        y.resize({Out, x.shape(1), x.shape(2)});
        if (!has_weights()) {
            y.fill(T(0));
            return;
        }
        engine::forward(weights_.data(), In, Out, x.data(), x.shape(1), x.shape(2), bias_.data(),
                        relu, y.data(), algorithm_, pass_precision(precision_in_use(), false));
    }

    // Computes from the canonical weights only: the layout a kernel reads is made per call
    // (conv3x3_engine.hpp), so no packed copies are kept.
    using engine = detail::conv3x3_engine<T>;

    tensor4<T> weights_ = tensor4<T>::from_shape({0, In, 3, 3});
    tensor1<T> bias_ = tensor1<T>::from_shape({0});
    conv_algorithm algorithm_ = conv_algorithm::fastest;
    conv_precision precision_ = conv_precision::fp32;
};

template <class T, std::size_t In, std::size_t Out>
struct is_conv3x3<conv3x3<T, In, Out>> : std::true_type {};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
