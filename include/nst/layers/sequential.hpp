// Composition: a list of layer types becomes one network type, fixed at compile time.
//
//   using tiny = nst::sequential<nst::conv3x3<float, 3, 8>, nst::relu<float>>;
//   tiny net({"conv", "relu"});
//   net.forward(image);                    // runs every layer (or up to a given one)
//   const auto& f = net.output("relu");    // any kept layer's output, by name or index
//   net.add_gradient("relu", dloss_df);    // inject dL/d(output) at any number of layers;
//   auto dimage = net.backward();          //   they accumulate into one reverse pass
//
// Memory: by default every layer's output is kept so it can be read after forward. A caller
// that knows which outputs it reads (a loss objective) calls keep_only(...): then an output is
// kept only when read or when a backward pass needs it, and then only in the form backward
// needs (compact saved state, below). A caller done reading a kept output calls
// release_output(...); backward(on_layer) lets it compute a layer's gradient only when the
// reverse pass reaches that layer, so term gradients need not all exist at once.
//
// Compact saved state: a layer whose backward needs only a function of its output (relu: one
// bit per element) may declare
//   using saved_state = ...;        default-constructible, with std::size_t bytes() const
//   void save_for_backward(const tensor3<T>& y, saved_state&) const;
//   tensor3<T> backward(const saved_state&, tensor3<T>&& dy, const shape3& in_shape) const;
// Its output is then turned into that state as soon as the next layer has read it, unless the
// output is kept or the next layer's backward needs it as input (e.g. relu before max pooling).
// The state's storage is reused from one forward to the next. A layer after a ReLU may make
// that ReLU's positive_mask itself while it reads the output, and apply it in its backward
// (`records_relu_mask`, `forward_recording`, `backward_through_relu`: average pooling does),
// so neither the mask nor the ReLU's backward takes a pass over memory of its own.
//
// Every layer type must meet the layer contract (layer_abstract.hpp): a type that does not
// stops compilation with one message naming the missing member. What the types cannot show is
// checked as the passes run: each layer gets its in_channels (unless 0), forward gives the shape
// output_shape says and backward the input's shape, or a shape_error names the layer and the
// shapes. Layer names must be non-empty and distinct. Optional members are found by
// what a layer declares (layer_traits.hpp): conv + ReLU fusion, the convolution algorithm,
// parameter counts. Shapes follow from the types alone: output_shapes({3, 512, 512}) gives every
// layer's output shape without an instance.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/elementwise.hpp"
#include "conv_algorithm.hpp"
#include "conv_precision.hpp"
#include "layer_shape.hpp"
#include "layer_traits.hpp"
#include "positive_mask.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

namespace detail {
// Contract members read at class scope, with harmless values for a type that breaks the layer
// contract (so that the contract's static_assert is the only error).
template <class L, class = void> struct value_type_or_float { using type = float; };
template <class L> struct value_type_or_float<L, std::void_t<typename L::value_type>> {
    using type = typename L::value_type;
};
template <class L> constexpr std::size_t in_channels_of() {
    if constexpr (is_layer_v<L>) return L::in_channels; else return 0;
}
template <class L> constexpr bool needs_input_of() {
    if constexpr (is_layer_v<L>) return L::backward_needs_input; else return false;
}
template <class L> constexpr bool needs_output_of() {
    if constexpr (is_layer_v<L>) return L::backward_needs_output; else return false;
}

// A non-owning reference to what backward calls at each layer (on_layer): the reverse pass is
// then one function whatever the caller passes, which a program can compile once per network.
class layer_visitor {
public:
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, layer_visitor>>>
    explicit layer_visitor(F&& f)  // f must outlive the visitor
        : callable_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* c, std::size_t index) { (*static_cast<std::remove_reference_t<F>*>(c))(index); }) {}
    void operator()(std::size_t index) const { call_(callable_, index); }

private:
    void* callable_;
    void (*call_)(void*, std::size_t);
};

// A sequential network's forward and reverse passes as function templates of their own, not
// inline: a program may compile them once for a network type (an explicit instantiation) and
// declare them extern in its other units, which then do not compile every layer's kernels again
// (the project's own programs do so for VGG19 and VGG16: stylize.hpp, NST_EXTERN_STYLIZE_NET).
struct sequential_passes {
    template <class Net>
    static const typename Net::tensor& forward(Net& net, const typename Net::tensor& x, std::size_t last);
    template <class Net> static typename Net::tensor backward(Net& net, layer_visitor on_layer);
};
template <class Net>
const typename Net::tensor& sequential_passes::forward(Net& net, const typename Net::tensor& x,
                                                       std::size_t last) {
    return net.run_forward(x, last);
}
template <class Net> typename Net::tensor sequential_passes::backward(Net& net, layer_visitor on_layer) {
    return net.run_backward(on_layer);
}
}  // namespace detail

template <class First, class... Rest> class sequential {
    // One readable error per broken layer type (layer_traits.hpp); everything below reaches
    // into a layer only when all layers are valid.
    static constexpr bool layers_ok = (check_layer<First>() && ... && check_layer<Rest>());

public:
    using value_type = typename detail::value_type_or_float<First>::type;
    static_assert(!layers_ok ||
                      (std::is_same_v<value_type,
                                      typename detail::value_type_or_float<Rest>::type> && ...),
                  "all layers of a sequential network must share one scalar type");
    static constexpr std::size_t size = 1 + sizeof...(Rest);
    using layers_tuple = std::tuple<First, Rest...>;
    template <std::size_t I> using layer_type = std::tuple_element_t<I, layers_tuple>;
    using tensor = tensor3<value_type>;

    // Layer names default to "layer0", "layer1", ...
    sequential() {
        for (std::size_t i = 0; i < size; ++i) names_[i] = "layer" + std::to_string(i);
        keep_.fill(true);
    }
    // throws invalid_argument when a name is empty (a braced list shorter than the layers
    // leaves the rest "") or repeated (index_of and add_gradient would reach only the first).
    explicit sequential(const std::array<std::string, size>& names) : names_(names) {
        keep_.fill(true);
        for (std::size_t i = 0; i < size; ++i) {
            if (names_[i].empty())
                throw invalid_argument("sequential: layer " + std::to_string(i) + " has no name (" +
                                       std::to_string(size) + " layers: give one name each)");
            for (std::size_t j = 0; j < i; ++j)
                if (names_[j] == names_[i])
                    throw invalid_argument("sequential: the name '" + names_[i] + "' is given to layers " +
                                           std::to_string(j) + " and " + std::to_string(i));
        }
    }

    template <std::size_t I> layer_type<I>& layer() { return std::get<I>(layers_); }
    template <std::size_t I> const layer_type<I>& layer() const { return std::get<I>(layers_); }

    // Calls f(layer, index, name) for every layer, in order.
    template <class F> void for_each_layer(F&& f) {
        for_each_index([&](auto i) { f(std::get<i>(layers_), std::size_t(i), names_[i]); });
    }
    template <class F> void for_each_layer(F&& f) const {
        for_each_index([&](auto i) { f(std::get<i>(layers_), std::size_t(i), names_[i]); });
    }

    // Output shape of every layer for an input of shape `in`, from the layers' static
    // output_shape rules (no instance, no computation). A zero height or width means the input
    // is too small for that layer.
    static constexpr std::array<shape3, size> output_shapes(shape3 in) {
        std::array<shape3, size> out{};
        if constexpr (layers_ok) {
            in = First::output_shape(in);
            out[0] = in;
            std::size_t k = 1;
            ((in = Rest::output_shape(in), out[k++] = in), ...);
        }
        return out;
    }
    // Output shape of the whole network for an input of shape `in`.
    static constexpr shape3 output_shape(const shape3& in) { return output_shapes(in)[size - 1]; }

    // Smallest side s such that an s x s input gives a non-empty output at every layer up to
    // `last` (2^pools for 2x2 pooling); 0 if there is none up to 65536.
    static constexpr std::size_t min_input_side(std::size_t last = size - 1) {
        for (std::size_t side = 1; side <= 65536; ++side) {
            const auto shapes = output_shapes({detail::in_channels_of<First>(), side, side});
            bool empty = false;
            for (std::size_t i = 0; i <= last && i < size; ++i)
                empty = empty || shapes[i][1] == 0 || shapes[i][2] == 0;
            if (!empty) return side;
        }
        return 0;
    }

    // Parameters of each layer (L::parameter_count, 0 for layers without).
    static constexpr std::array<std::size_t, size> parameter_counts() {
        return {parameter_count_v<First>, parameter_count_v<Rest>...};
    }

    // Whether layer i's backward reads its input / its output (the network keeps those).
    static constexpr bool layer_backward_needs_input(std::size_t i) { return needs_input_[i]; }
    static constexpr bool layer_backward_needs_output(std::size_t i) { return needs_output_[i]; }

    // Sets the convolution algorithm of every layer that has one (set_conv_algorithm), e.g.
    // conv_algorithm::direct for results closest to exact arithmetic. A per-network setting:
    // other networks, in this thread or others, are unaffected.
    void set_conv_algorithm(conv_algorithm algorithm) {
        for_each_layer([&](auto& layer, std::size_t, const std::string&) {
            if constexpr (has_conv_algorithm_v<std::decay_t<decltype(layer)>>)
                layer.set_conv_algorithm(algorithm);
        });
    }

    // Sets the convolution precision of every layer that has one (set_precision):
    // conv_precision::bf16 for the backward pass in bf16 products with float sums where the CPU
    // has them (conv_precision.hpp). A per-network setting, like the algorithm.
    void set_precision(conv_precision precision) {
        for_each_layer([&](auto& layer, std::size_t, const std::string&) {
            if constexpr (has_conv_precision_v<std::decay_t<decltype(layer)>>)
                layer.set_precision(precision);
        });
    }

    const std::array<std::string, size>& names() const { return names_; }
    const std::string& name(std::size_t index) const { return names_.at(index); }

    // Index of a layer by name; throws invalid_argument listing the valid names.
    std::size_t index_of(std::string_view name) const {
        for (std::size_t i = 0; i < size; ++i)
            if (names_[i] == name) return i;
        std::string known;
        for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
        throw invalid_argument("unknown layer name '" + std::string(name) +
                               "'; this network has: " + known);
    }

    // Keep (after the next forward) only the outputs of these layers plus what backward needs.
    void keep_only(const std::vector<std::size_t>& indices) {
        keep_.fill(false);
        for (std::size_t i : indices) keep_.at(i) = true;
    }
    void keep_all() { keep_.fill(true); }

    // Runs layers 0..last on x (C x H x W) and returns the output of layer `last`.
    // Layers after `last` are not computed. Clears gradients injected before.
    const tensor& forward(const tensor& x, std::size_t last = size - 1) {
        return detail::sequential_passes::forward(*this, x, last);
    }

    // Output of a layer computed by the last forward.
    const tensor& output(std::size_t index) const {
        if (index >= size)
            throw invalid_argument("output: layer index " + std::to_string(index) +
                                   " out of range");
        if (std::ptrdiff_t(index) > last_ || outputs_[index].size() == 0) {
            const std::string why =
                last_ < 0 ? "no forward pass has been run"
                : std::ptrdiff_t(index) > last_
                    ? "the last forward stopped at layer '" + names_[std::size_t(last_)] + "'"
                : released_[index] ? "it was released (release_output; an objective's evaluation releases "
                                     "what its terms read): run forward again"
                : keep_[index]     ? "the last forward did not complete"
                                   : "it was not kept: keep it with keep_all() or keep_only(...) before "
                                     "forward (an objective's evaluation keeps only what its terms read)";
            throw invalid_argument("output of layer '" + names_[index] + "' is not available: " + why);
        }
        return outputs_[index];
    }
    const tensor& output(std::string_view name) const { return output(index_of(name)); }
    template <std::size_t I> const tensor& output() const { return output(I); }

    // Adds dL/d(output of layer index) for the next backward; several calls accumulate.
    void add_gradient(std::size_t index, const tensor& gradient) {
        if (index >= size || std::ptrdiff_t(index) > last_)
            throw invalid_argument("add_gradient: layer " +
                                   (index < size ? "'" + names_[index] + "'"
                                                 : "index " + std::to_string(index)) +
                                   " was not computed by the last forward");
        const shape3 expected = output_shape_at(index);
        if (shape_of(gradient) != expected)
            throw shape_error("add_gradient at layer '" + names_[index] + "': expected " +
                              shape_string(expected) + ", got " +
                              shape_string(gradient.shape()));
        if (injected_[index].size() == 0)
            assign_copy(injected_[index], gradient);
        else
            add_to(injected_[index], gradient);
    }
    void add_gradient(std::string_view name, const tensor& gradient) {
        add_gradient(index_of(name), gradient);
    }
    // As above, taking over the gradient's storage (no copy) when none was injected there yet.
    void add_gradient(std::size_t index, tensor&& gradient) {
        if (index < size && std::ptrdiff_t(index) <= last_ && injected_[index].size() == 0 &&
            shape_of(gradient) == output_shape_at(index)) {
            injected_[index] = std::move(gradient);
            return;
        }
        add_gradient(index, static_cast<const tensor&>(gradient));
    }
    void add_gradient(std::string_view name, tensor&& gradient) {
        add_gradient(index_of(name), std::move(gradient));
    }

    // The caller no longer reads the output of this layer (until the next forward): frees it,
    // keeping what backward still needs (the compact saved state, or the output itself when
    // the layer or the next one needs it whole). No effect if the output is not held.
    void release_output(std::size_t index) {
        if (index >= size)
            throw invalid_argument("release_output: layer index " + std::to_string(index) +
                                   " out of range");
        if (outputs_[index].size() == 0) return;
        for_each_index([&](auto i) {
            if (i != index) return;
            released_[i] = true;
            if (needs_value_for_backward(i)) return;
            if constexpr (has_saved_state<i>()) {
                if (needs_output_[i]) save_state<i>();
            }
            outputs_[i] = tensor();
        });
    }
    void release_output(std::string_view name) { release_output(index_of(name)); }

    // Bytes held for the backward pass and kept outputs (values, compact states, injected
    // gradients) after the last forward: a measure for tests and tuning.
    std::size_t held_bytes() const {
        std::size_t bytes = input_.size() * sizeof(value_type);
        for (std::size_t i = 0; i < size; ++i)
            bytes += (outputs_[i].size() + injected_[i].size()) * sizeof(value_type);
        for_each_index([&](auto i) {
            if constexpr (has_saved_state<i>())
                if (saved_valid_[i]) bytes += std::get<i>(saved_).bytes();
        });
        return bytes;
    }

    // Reverse pass from the deepest injected gradient to the input. Returns dL/dx for the x of
    // the last forward (zeros if nothing was injected) and consumes the injected gradients.
    tensor backward() {
        return backward([](std::size_t) {});
    }

    // As above, calling on_layer(index) when the reverse pass reaches each layer of the last
    // forward (deepest first), before that layer's backward: it may add_gradient at that
    // layer (or shallower ones) and release_output. Lets a caller create each gradient only
    // when it is needed.
    template <class OnLayer> tensor backward(OnLayer&& on_layer) {
        return detail::sequential_passes::backward(*this, detail::layer_visitor(on_layer));
    }

    // Called from on_layer(index) during backward(on_layer): the gradient with respect to the
    // output of layer index gathered so far from the deeper layers, which the caller may add to
    // in place (the same as add_gradient with those values, without a tensor of its own, a
    // copy or a sum); null when no gradient has reached that layer yet, and outside on_layer.
    tensor* pending_gradient(std::size_t index) {
        if (!pending_ || index != pending_index_ || pending_->size() == 0) return nullptr;
        pending_taken_ = true;  // the caller may have added to it
        return pending_;
    }

private:
    // The passes themselves (forward, backward above reach them through sequential_passes).
    friend struct detail::sequential_passes;
    const tensor& run_forward(const tensor& x, std::size_t last) {
        if (last >= size)
            throw invalid_argument("forward: layer index " + std::to_string(last) +
                                   " is past the last layer (" + std::to_string(size - 1) + ")");
        require_activation(x, detail::in_channels_of<First>(),
                           "input to layer '" + names_[0] + "'");
        last_ = std::ptrdiff_t(last);
        for (auto& o : outputs_) o = tensor();
        for (auto& g : injected_) g = tensor();
        saved_valid_.fill(false);
        released_.fill(false);
        input_shape_ = shape_of(x);
        if (needs_input_[0]) input_ = x;
        bool fused_into_this = false;  // the previous layer already computed this one
        for_each_index([&](auto i) {
            if (i > last) return;
            const tensor& in = i == 0 ? x : outputs_[i - 1];
            shapes_in_[i] = i == 0 ? shape_of(x) : output_shape_at(i - 1);
            if (fused_into_this) {
                fused_into_this = false;
                return;
            }
            if constexpr (i > 0) require_channels<i>();
            try {
                if constexpr (!layers_ok) {
                    // (the contract's static_assert has reported the broken layer)
                } else if constexpr (records_previous_mask<i>()) {
                    // e.g. average pooling after a ReLU whose output is not kept: the pooling
                    // records the ReLU's mask as it reads it (no pass of its own in settle).
                    if (!keep_[i - 1] &&
                        !needs_value_for_backward(std::integral_constant<std::size_t, i - 1>{})) {
                        std::get<i>(layers_).forward_recording(in, outputs_[i],
                                                               std::get<i - 1>(saved_));
                        saved_valid_[i - 1] = true;
                    } else {
                        std::get<i>(layers_).forward(in, outputs_[i]);
                    }
                } else if constexpr (fuses_next<i>()) {
                    // e.g. conv + relu in one pass when nobody reads the conv's own output.
                    if (i + 1 <= last && !needed(i)) {
                        std::get<i>(layers_).forward_fused(in, outputs_[i + 1],
                                                           layer_type<i + 1>::fusable);
                        fused_into_this = true;
                    } else {
                        std::get<i>(layers_).forward(in, outputs_[i]);
                    }
                } else {
                    std::get<i>(layers_).forward(in, outputs_[i]);
                }
            } catch (const shape_error& e) {
                throw shape_error("layer '" + names_[i] + "': " + e.what());
            }
            if constexpr (layers_ok) require_forward_shape<i>(fused_into_this);
            if constexpr (i > 0) settle<i - 1>();
        });
        return outputs_[last];
    }

    tensor run_backward(detail::layer_visitor on_layer) {
        if (last_ < 0) throw invalid_argument("backward: no forward pass has been run");
        tensor g;
        // pending_gradient's view of g while on_layer runs (and never after it).
        struct pending_scope {
            sequential& net;
            ~pending_scope() { net.pending_ = nullptr; }
        } scope{*this};
        masked_for_ = none;
        for_each_index_reverse([&](auto i) {
            if (std::ptrdiff_t(i) > last_) return;
            pending_ = &g;
            pending_index_ = std::size_t(i);
            pending_taken_ = false;
            on_layer(std::size_t(i));
            pending_ = nullptr;
            bool added = pending_taken_;
            if (injected_[i].size() != 0) {
                if (g.size() == 0)
                    g = std::move(injected_[i]);
                else
                    add_to(g, injected_[i]);
                injected_[i] = tensor();
                added = true;
            }
            if (g.size() == 0) return;  // nothing injected at or above this layer
            // The layer above applied this ReLU's mask (backward_through_relu): its backward
            // would change nothing, unless gradients were added here since.
            const bool masked = masked_for_ == std::size_t(i) && !added;
            masked_for_ = none;
            if (masked) return;
            try {
                g = backward_at<i>(std::move(g));
            } catch (const shape_error& e) {
                throw shape_error("layer '" + names_[i] + "': " + e.what());
            }
            if (shape_of(g) != shapes_in_[i])
                throw shape_error("layer '" + names_[i] + "': backward gave " + shape_string(g.shape()) +
                                  " for an input of " + shape_string(shapes_in_[i]) +
                                  " (the layer contract, layer_abstract.hpp: dL/dx has the input's shape)");
        });
        if (g.size() == 0) return tensor(input_shape_, value_type(0));
        return g;
    }

    // The layer contract, where a broken layer would otherwise go unnoticed: layer I (I > 0) gets
    // the channels it declares (in_channels, unless 0), and forward gives output_shape's shape
    // (every later shape, each gradient's and the reverse pass follow output_shape). `fused`:
    // layer I computed layer I + 1 too.
    template <std::size_t I> void require_channels() const {
        constexpr std::size_t channels = detail::in_channels_of<layer_type<I>>();
        if (channels != 0 && shapes_in_[I][0] != channels)
            throw shape_error("layer '" + names_[I] + "' has in_channels " + std::to_string(channels) +
                              ", but layer '" + names_[I - 1] + "' gives it " + shape_string(shapes_in_[I]));
    }
    template <std::size_t I> void require_forward_shape(bool fused) const {
        const shape3 expected = layer_type<I>::output_shape(shapes_in_[I]);
        if (!fused) {
            require_output_shape(I, expected, shapes_in_[I]);
        } else if constexpr (I + 1 < size) {
            require_output_shape(I + 1, layer_type<I + 1>::output_shape(expected), expected);
        }
    }
    void require_output_shape(std::size_t index, const shape3& expected, const shape3& in) const {
        if (shape_of(outputs_[index]) != expected)
            throw shape_error("layer '" + names_[index] + "': forward gave " +
                              shape_string(outputs_[index].shape()) + " for an input of " + shape_string(in) +
                              ", but its output_shape says " + shape_string(expected) +
                              " (the layer contract, layer_abstract.hpp)");
    }

    // Whether layer I can compute itself and the (activation) layer after it in one pass.
    template <std::size_t I> static constexpr bool fuses_next() {
        if constexpr (I + 1 < size)
            return can_fuse_v<layer_type<I>, layer_type<I + 1>>;
        else
            return false;
    }

    // Compact saved state support (see the header comment).
    template <class L, class = void> struct saved_state_of {
        struct none {};
        using type = none;
        static constexpr bool value = false;
    };
    template <class L> struct saved_state_of<L, std::void_t<typename L::saved_state>> {
        using type = typename L::saved_state;
        static constexpr bool value = true;
    };
    template <std::size_t I> static constexpr bool has_saved_state() {
        return saved_state_of<layer_type<I>>::value;
    }
    // Whether layer I records the mask of the ReLU before it (layer I-1: declares itself a
    // fusable ReLU, saves a positive_mask) in its forward and applies it in its backward.
    template <class L, class = void> struct records_relu_mask : std::false_type {};
    template <class L>
    struct records_relu_mask<L, std::enable_if_t<L::records_relu_mask>> : std::true_type {};
    template <std::size_t I> static constexpr bool records_previous_mask() {
        if constexpr (I > 0 && layers_ok) {
            using previous = layer_type<I - 1>;
            if constexpr (records_relu_mask<layer_type<I>>::value &&
                          detail::declares_fusable<previous>::value &&
                          std::is_same_v<typename saved_state_of<previous>::type, positive_mask>)
                return previous::fusable == fusable_activation::relu;
            else
                return false;
        } else {
            return false;
        }
    }

    // Whether output i must survive the forward pass (in some form).
    bool needed(std::size_t i) const {
        return keep_[i] || needs_output_[i] || (i + 1 < size && needs_input_[i + 1]);
    }
    // Whether backward needs output i itself (not just its compact saved state).
    template <std::size_t I>
    bool needs_value_for_backward(std::integral_constant<std::size_t, I>) const {
        return (I + 1 < size && needs_input_[I + 1]) ||
               (needs_output_[I] && !has_saved_state<I>());
    }
    // After layer I+1 has read output I: keep it, shrink it to its saved state, or drop it.
    template <std::size_t I> void settle() {
        if (outputs_[I].size() == 0 || keep_[I] ||
            needs_value_for_backward(std::integral_constant<std::size_t, I>{}))
            return;
        if constexpr (has_saved_state<I>()) {
            if (needs_output_[I] && !saved_valid_[I]) save_state<I>();  // (or recorded above)
        }
        outputs_[I] = tensor();
    }
    template <std::size_t I> void save_state() {
        std::get<I>(layers_).save_for_backward(outputs_[I], std::get<I>(saved_));
        saved_valid_[I] = true;
    }
    // Layer I's backward from its output (or its saved state when the output was dropped).
    template <std::size_t I> tensor backward_at(tensor&& g) {
        const tensor& in = I == 0 ? input_ : outputs_[I - 1];
        if constexpr (!layers_ok) {
            return std::move(g);  // (the contract's static_assert has reported the layer)
        } else {
            if constexpr (records_previous_mask<I>()) {
                if (saved_valid_[I - 1] && outputs_[I - 1].size() == 0) {
                    masked_for_ = I - 1;
                    return std::get<I>(layers_).backward_through_relu(std::get<I - 1>(saved_),
                                                                      std::move(g), shapes_in_[I]);
                }
            }
            if constexpr (has_saved_state<I>()) {
                if (saved_valid_[I] && outputs_[I].size() == 0)
                    return std::get<I>(layers_).backward(std::get<I>(saved_), std::move(g),
                                                         shapes_in_[I]);
            }
            return std::get<I>(layers_).backward(in, outputs_[I], std::move(g), shapes_in_[I]);
        }
    }
    shape3 output_shape_at(std::size_t i) const {
        shape3 s{};
        for_each_index([&](auto j) {
            if constexpr (layers_ok)
                if (j == i) s = std::tuple_element_t<j, layers_tuple>::output_shape(shapes_in_[j]);
        });
        return s;
    }

    // f(std::integral_constant<size_t, i>) for i = 0..size-1 (or reversed): the index is a
    // constant expression, so f can reach the layer of that index with std::get.
    template <class F, std::size_t... I>
    static void for_each_index(F&& f, std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, I>{}), ...);
    }
    template <class F> static void for_each_index(F&& f) {
        for_each_index(f, std::make_index_sequence<size>{});
    }
    template <class F, std::size_t... I>
    static void for_each_index_reverse(F&& f, std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, size - 1 - I>{}), ...);
    }
    template <class F> static void for_each_index_reverse(F&& f) {
        for_each_index_reverse(f, std::make_index_sequence<size>{});
    }

    static constexpr std::array<bool, size> needs_input_{detail::needs_input_of<First>(),
                                                         detail::needs_input_of<Rest>()...};
    static constexpr std::array<bool, size> needs_output_{detail::needs_output_of<First>(),
                                                          detail::needs_output_of<Rest>()...};

    layers_tuple layers_;
    std::array<std::string, size> names_;
    std::array<bool, size> keep_{};
    std::array<tensor, size> outputs_;
    std::tuple<typename saved_state_of<First>::type, typename saved_state_of<Rest>::type...>
        saved_;                                // compact states, reused across forwards
    std::array<bool, size> saved_valid_{};     // saved_[i] holds the last forward's state
    std::array<bool, size> released_{};        // release_output(i) since the last forward
    std::array<tensor, size> injected_;
    std::array<shape3, size> shapes_in_{};
    shape3 input_shape_{};
    tensor input_;
    std::ptrdiff_t last_ = -1;  // deepest layer of the last forward; -1 before any
    tensor* pending_ = nullptr;   // backward's running gradient while on_layer runs
    std::size_t pending_index_ = 0;
    bool pending_taken_ = false;  // pending_gradient handed it out
    static constexpr std::size_t none = std::size_t(-1);
    std::size_t masked_for_ = none;  // the ReLU whose mask the last backward step applied
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
