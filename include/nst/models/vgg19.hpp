// VGG19's convolutional feature extractor (Simonyan & Zisserman 2014), as one composed type
// with the canonical layer names: conv1_1 relu1_1 conv1_2 relu1_2 pool1 ... conv5_4 relu5_4 pool5.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "../layers/conv3x3.hpp"
#include "../layers/pool2x2.hpp"
#include "../layers/relu.hpp"
#include "../layers/sequential.hpp"

namespace nst {

namespace detail {
template <class T, std::size_t In, std::size_t Out> using conv_relu_t = std::tuple<conv3x3<T, In, Out>, relu<T>>;

template <class... Tuples> struct concat;
template <class... A> struct concat<std::tuple<A...>> { using type = std::tuple<A...>; };
template <class... A, class... B, class... Rest>
struct concat<std::tuple<A...>, std::tuple<B...>, Rest...> {
    using type = typename concat<std::tuple<A..., B...>, Rest...>::type;
};

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
}  // namespace detail

// The 37 layer names in order.
inline std::array<std::string, 37> vgg19_layer_names() {
    std::array<std::string, 37> names;
    const std::size_t convs_per_block[5] = {2, 2, 4, 4, 4};
    std::size_t i = 0;
    for (std::size_t block = 1; block <= 5; ++block) {
        for (std::size_t c = 1; c <= convs_per_block[block - 1]; ++c) {
            const std::string id = std::to_string(block) + "_" + std::to_string(c);
            names[i++] = "conv" + id;
            names[i++] = "relu" + id;
        }
        names[i++] = "pool" + std::to_string(block);
    }
    return names;
}

// VGG19 features for scalar T (float for speed, double for gradient checks) and a pooling mode
// (average is the paper's choice for image synthesis; max is what VGG was trained with).
// Input: BGR, 0..255 minus the ImageNet mean (see io/preprocess.hpp), C x H x W.
template <class T, pooling P = pooling::average>
class vgg19 : public detail::sequential_of<detail::vgg19_layers<T, P>>::type {
    using base = typename detail::sequential_of<detail::vgg19_layers<T, P>>::type;

public:
    using value_type = T;
    static constexpr pooling pooling_mode = P;
    static_assert(base::size == 37, "VGG19 has 16 conv, 16 relu and 5 pool layers");

    vgg19() : base(vgg19_layer_names()) {}
};

}  // namespace nst
