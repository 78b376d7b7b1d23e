// What VGG16 and VGG19 share (Simonyan & Zisserman 2014): blocks of 3x3 convolutions with ReLU,
// each ended by 2x2 pooling, composed into one sequential type; canonical layer names derived
// from the type list; and the static API (layer_names, find_layer, layer_index, plus
// sequential's output_shapes, min_input_side, parameter_counts). models/vgg19.hpp and
// models/vgg16.hpp are each their block list and nothing else.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../layers/conv3x3.hpp"
#include "../layers/pool2x2.hpp"
#include "../layers/relu.hpp"
#include "../layers/sequential.hpp"
#include "layer_aliases.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

namespace detail {
template <class T, std::size_t In, std::size_t Out> using conv_relu_t = std::tuple<conv3x3<T, In, Out>, relu<T>>;

template <class... Tuples> struct concat;
template <class... A> struct concat<std::tuple<A...>> { using type = std::tuple<A...>; };
template <class... A, class... B, class... Rest>
struct concat<std::tuple<A...>, std::tuple<B...>, Rest...> {
    using type = typename concat<std::tuple<A..., B...>, Rest...>::type;
};

// N conv+ReLU pairs of C -> C channels.
template <class T, std::size_t C, std::size_t N> struct repeated_conv_relu {
    using type = typename concat<conv_relu_t<T, C, C>, typename repeated_conv_relu<T, C, N - 1>::type>::type;
};
template <class T, std::size_t C> struct repeated_conv_relu<T, C, 0> { using type = std::tuple<>; };

// One VGG block: Convs 3x3 convolutions (In -> Out, then Out -> Out), each with its ReLU, then pooling.
template <class T, pooling P, std::size_t In, std::size_t Out, std::size_t Convs>
using vgg_block = typename concat<conv_relu_t<T, In, Out>, typename repeated_conv_relu<T, Out, Convs - 1>::type,
                                  std::tuple<pool2x2<T, P>>>::type;

template <class L> struct is_relu : std::false_type {};
template <class T> struct is_relu<relu<T>> : std::true_type {};
template <class L> struct is_pool2x2 : std::false_type {};
template <class T, pooling P> struct is_pool2x2<pool2x2<T, P>> : std::true_type {};

// f(std::integral_constant<size_t, i>) for each layer index i of Net, in order.
template <class Net, class F, std::size_t... I>
void for_each_type_index(F&& f, std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}), ...);
}
template <class Net, class F> void for_each_type_index(F&& f) {
    for_each_type_index<Net>(f, std::make_index_sequence<Net::size>{});
}

template <class Tuple> struct sequential_of;
template <class... L> struct sequential_of<std::tuple<L...>> { using type = sequential<L...>; };

// Canonical names derived from a VGG-style type list: per block (ended by a pooling layer),
// conv<block>_<n> and relu<block>_<n> for its n-th convolution and ReLU, then pool<block>.
template <class Net> std::array<std::string, Net::size> vgg_layer_names() {
    std::array<std::string, Net::size> names;
    std::size_t block = 1, conv = 0;
    for_each_type_index<Net>([&](auto i) {
        using L = typename Net::template layer_type<decltype(i)::value>;
        if constexpr (is_conv3x3_v<L>) {
            names[i] = "conv" + std::to_string(block) + "_" + std::to_string(++conv);
        } else if constexpr (is_relu<L>::value) {
            names[i] = "relu" + std::to_string(block) + "_" + std::to_string(conv);
        } else {
            static_assert(is_pool2x2<L>::value, "a VGG block is convolutions, ReLUs and a pool");
            names[i] = "pool" + std::to_string(block++);
            conv = 0;
        }
    });
    return names;
}
}  // namespace detail

// A VGG feature network over the type list Layers; Derived (vgg19<T, P>, vgg16<T, P>) provides
// `static constexpr const char* display_name` ("VGG19") for messages.
// Everything about the architecture derives from the type list: the layer names, the shapes for
// an input size (output_shapes, min_input_side) and the parameter counts (parameter_counts), all
// static, so they are known without building a network.
template <class Derived, class T, pooling P, class Layers>
class vgg_features : public detail::sequential_of<Layers>::type {
    using base = typename detail::sequential_of<Layers>::type;

public:
    using value_type = T;
    static constexpr pooling pooling_mode = P;
    using network_type = base;  // the sequential network it is (its passes: sequential_passes)

    vgg_features() : base(layer_names()) {}

    // The names in order: conv1_1 relu1_1 conv1_2 relu1_2 pool1 ... pool5.
    static const std::array<std::string, base::size>& layer_names() {
        static const std::array<std::string, base::size> names = detail::vgg_layer_names<base>();
        return names;
    }
    // Index of a layer by name or Keras alias (block4_conv2 = relu4_2, layer_aliases.hpp), or
    // nullopt for a name this network does not have.
    static std::optional<std::size_t> find_layer(std::string_view name) {
        const std::string canonical = canonical_layer_name(name);
        const auto& names = layer_names();
        for (std::size_t i = 0; i < names.size(); ++i)
            if (names[i] == canonical) return i;
        return std::nullopt;
    }
    // Index of a layer by name or alias; throws invalid_argument listing the valid names.
    static std::size_t layer_index(std::string_view name) {
        if (const auto i = find_layer(name)) return *i;
        std::string known;
        for (const auto& n : layer_names()) known += (known.empty() ? "" : ", ") + n;
        throw invalid_argument("unknown " + std::string(Derived::display_name) + " layer '" + std::string(name) +
                               "'; " + Derived::display_name + " has: " + known +
                               " (or Keras' names: block1_conv1 = relu1_1, ..., block1_pool = pool1)");
    }
    // As layer_index; hides sequential::index_of so whatever looks layers up through the
    // network (objective::add, stylize) accepts the aliases too.
    std::size_t index_of(std::string_view name) const { return layer_index(name); }
    // "conv1_1, relu1_1, ..., conv5_4, relu5_4, pool1..pool5": the valid names in short, for messages.
    static std::string layer_names_summary() {
        const auto& n = layer_names();
        return n[0] + ", " + n[1] + ", ..., " + n[base::size - 3] + ", " + n[base::size - 2] + ", pool1.." +
               n[base::size - 1];
    }
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
