// The layer contract: what a type must provide to be a layer of nst::sequential (and so of any
// network built from it, e.g. nst::vgg19). This header only documents; layer_traits.hpp checks
// the required part at compile time (nst::is_layer), and nst::test_layer (test_layer.hpp) checks
// a layer's backward against finite differences of its forward.
//
// nst's own layers (conv3x3.hpp, relu.hpp, pool2x2.hpp) follow it, and so does the leaky ReLU of
// examples/teach_custom_layer.cpp, a complete user layer.
#pragma once

#include "../core/isa_namespace.hpp"

#if 0  // documentation only (dlib's *_abstract.h style): EXAMPLE_LAYER is not a real type

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

class EXAMPLE_LAYER {
    /*  WHAT THIS OBJECT REPRESENTS
            One step of a feed-forward network on C x H x W activations (nst::tensor3<T>): a
            function y = f(x) with frozen parameters, and the gradient of a scalar loss with
            respect to its input. Parameters are never trained: backward returns dL/dx only.

            A layer is a small value type: sequential default-constructs it, holds it by value
            and calls forward/backward on a const reference, from one thread at a time per
            network (the layer may run OpenMP inside). Different networks, and so different layer
            objects, may be used from different threads at once: keep no global mutable state.

        ---------------------------------------------------------------- required members */
public:
    using value_type = float;  // the scalar type T; all layers of one network share it

    // Channels of the input and output; 0 means "any" (then the layer keeps the channel count
    // unless output_shape says otherwise). sequential checks each layer's input against its
    // in_channels before calling forward (shape_error naming the layer).
    static constexpr std::size_t in_channels = 0;
    static constexpr std::size_t out_channels = 0;

    // Which values the backward pass reads: the network keeps an activation only when some
    // layer's backward needs it (or the caller reads it), so say false whenever you can.
    static constexpr bool backward_needs_input = false;
    static constexpr bool backward_needs_output = false;

    EXAMPLE_LAYER();  // default-constructible (parameters, if any, are set afterwards)

    static constexpr shape3 output_shape(const shape3& in);
    /*  ensures: the shape forward gives for an input of shape `in` (may contain zeros when the
                 input is too small; forward then throws). A pure function of the types: the
                 network derives every activation shape, its memory estimate and its minimum
                 input size from it without running anything. */

    void forward(const tensor3<value_type>& x, tensor3<value_type>& y) const;
    /*  requires: x is C x H x W with C == in_channels (or any C when in_channels == 0).
        ensures:  y holds f(x) with shape output_shape(shape_of(x)); y's storage may be reused
                  (resize it, do not assume its old contents). sequential checks y's shape and
                  names the layer when it is not output_shape's.
        throws:   nst::shape_error naming the layer, the expected and the actual shape, when x
                  does not fit. */

    tensor3<value_type> backward(const tensor3<value_type>& x, const tensor3<value_type>& y,
                                 tensor3<value_type>&& dy, const shape3& in_shape) const;
    /*  requires: dy = dL/dy, of shape output_shape(in_shape); x is the forward input when
                  backward_needs_input (else it may be empty), y the forward output when
                  backward_needs_output (else it may be empty); in_shape = shape of x.
        ensures:  returns dL/dx, of shape in_shape (sequential checks it). May reuse dy's storage
                  (return it moved).
        throws:   nst::shape_error when dy does not have the expected shape. */

    /*  ---------------------------------------------------------------- optional members
        sequential detects each by its presence (layer_traits.hpp); leave out what you lack. */

    // Compact saved state: when backward needs only a function of y (relu: one bit per
    // element), the network keeps that instead of y once the next layer has read y.
    struct saved_state {
        std::size_t bytes() const;  // memory held, for held_bytes()
    };  // default-constructible; reused from one forward to the next
    void save_for_backward(const tensor3<value_type>& y, saved_state& state) const;
    tensor3<value_type> backward(const saved_state& state, tensor3<value_type>&& dy,
                                 const shape3& in_shape) const;
    /*  requires: state was filled by save_for_backward(y) from this forward's output.
        ensures:  the same result as backward(x, y, dy, in_shape). */

    // Fusion of a following element-wise activation into this layer's forward (conv + ReLU in
    // one pass saves writing and re-reading a whole activation). The network fuses layer i
    // with layer i + 1 when layer i + 1 declares `fusable` (below), layer i's can_fuse accepts
    // it, and nobody reads layer i's own output.
    static constexpr bool can_fuse(fusable_activation a);
    void forward_fused(const tensor3<value_type>& x, tensor3<value_type>& y,
                       fusable_activation a) const;
    /*  requires: can_fuse(a).
        ensures:  y holds activation a applied to forward(x), exactly as the two layers give. */

    // Declared by an element-wise activation layer that a producer may fuse: its forward is
    // exactly that activation (fusable_activation::relu: y = max(x, 0)).
    static constexpr fusable_activation fusable = fusable_activation::relu;

    // Number of parameters (for memory estimates); 0 when absent.
    static constexpr std::size_t parameter_count = 0;

    // Convolution algorithm (conv_algorithm.hpp): sequential::set_conv_algorithm(a) calls this
    // on every layer that has it.
    void set_conv_algorithm(conv_algorithm a);

    // Convolution precision (conv_precision.hpp): sequential::set_precision(p) calls this on
    // every layer that has it.
    void set_precision(conv_precision p);

    // 3x3 convolution weights (Out x In x 3 x 3 and Out biases, PyTorch order) that the weight
    // loaders fill: a layer with these says so by specializing nst::is_conv3x3 (layer_traits.hpp).
    // Until they are set it holds none (has_weights() is false) and computes as zero weights
    // would, so a network built to be loaded never holds a second, zero copy.
    void set_weights(tensor4<value_type> weights, tensor1<value_type> bias);
    bool has_weights() const;
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst

#endif
