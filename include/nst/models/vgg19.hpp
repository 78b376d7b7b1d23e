// VGG19's convolutional feature extractor (Simonyan & Zisserman 2014), as one composed type
// with the canonical layer names: conv1_1 relu1_1 conv1_2 relu1_2 pool1 ... conv5_4 relu5_4 pool5.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../layers/conv3x3.hpp"
#include "../layers/pool2x2.hpp"
#include "../layers/relu.hpp"
#include "../layers/sequential.hpp"
#include "layer_aliases.hpp"

namespace nst {

namespace detail {
template <class T, std::size_t In, std::size_t Out> using conv_relu_t = std::tuple<conv3x3<T, In, Out>, relu<T>>;

template <class... Tuples> struct concat;
template <class... A> struct concat<std::tuple<A...>> { using type = std::tuple<A...>; };
template <class... A, class... B, class... Rest>
struct concat<std::tuple<A...>, std::tuple<B...>, Rest...> {
    using type = typename concat<std::tuple<A..., B...>, Rest...>::type;
};

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

template <class T, pooling P>
using vgg19_layers = typename concat<
    conv_relu_t<T, 3, 64>, conv_relu_t<T, 64, 64>, std::tuple<pool2x2<T, P>>,
    conv_relu_t<T, 64, 128>, conv_relu_t<T, 128, 128>, std::tuple<pool2x2<T, P>>,
    conv_relu_t<T, 128, 256>, conv_relu_t<T, 256, 256>, conv_relu_t<T, 256, 256>,
    conv_relu_t<T, 256, 256>, std::tuple<pool2x2<T, P>>,
    conv_relu_t<T, 256, 512>, conv_relu_t<T, 512, 512>, conv_relu_t<T, 512, 512>,
    conv_relu_t<T, 512, 512>, std::tuple<pool2x2<T, P>>,
    conv_relu_t<T, 512, 512>, conv_relu_t<T, 512, 512>, conv_relu_t<T, 512, 512>,
    conv_relu_t<T, 512, 512>, std::tuple<pool2x2<T, P>>>::type;

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

// VGG19 features for scalar T (float for speed, double for gradient checks) and a pooling mode
// (average is the paper's choice for image synthesis; max is what VGG was trained with).
// Input: BGR, 0..255 minus the ImageNet mean (see io/preprocess.hpp), C x H x W.
//
// Everything about the architecture derives from the type list above: the layer names, the
// shapes for an input size (output_shapes, min_input_side) and the parameter counts
// (parameter_counts), all static, so they are known without building a network.
template <class T, pooling P = pooling::average>
class vgg19 : public detail::sequential_of<detail::vgg19_layers<T, P>>::type {
    using base = typename detail::sequential_of<detail::vgg19_layers<T, P>>::type;

public:
    using value_type = T;
    static constexpr pooling pooling_mode = P;
    static_assert(base::size == 37, "VGG19 has 16 conv, 16 relu and 5 pool layers");

    vgg19() : base(layer_names()) {}

    // The 37 names in order: conv1_1 relu1_1 conv1_2 relu1_2 pool1 ... conv5_4 relu5_4 pool5.
    static const std::array<std::string, base::size>& layer_names() {
        static const std::array<std::string, base::size> names = detail::vgg_layer_names<base>();
        return names;
    }
    // Index of a layer by name (canonical, or Keras' alias: block4_conv2 = relu4_2, see
    // layer_aliases.hpp), or nullopt for a name VGG19 does not have.
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
        throw invalid_argument("unknown VGG19 layer '" + std::string(name) + "'; VGG19 has: " +
                               known + " (or Keras' names: block1_conv1 = relu1_1, ..., block1_pool = pool1)");
    }
    // As layer_index; hides sequential::index_of so whatever looks layers up through the
    // network (objective::add, stylize) accepts the aliases too.
    std::size_t index_of(std::string_view name) const { return layer_index(name); }
};

// The 37 layer names in order (the same for every scalar type and pooling mode).
inline std::array<std::string, 37> vgg19_layer_names() { return vgg19<float>::layer_names(); }

}  // namespace nst
