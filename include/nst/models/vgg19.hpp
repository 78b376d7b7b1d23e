// VGG19's convolutional feature extractor (Simonyan & Zisserman 2014), as one composed type
// with the canonical layer names: conv1_1 relu1_1 conv1_2 relu1_2 pool1 ... conv5_4 relu5_4 pool5.
#pragma once

#include <array>
#include <string>

#include "../core/isa_namespace.hpp"
#include "vgg_features.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

namespace detail {
template <class T, pooling P>
using vgg19_layers = typename concat<vgg_block<T, P, 3, 64, 2>, vgg_block<T, P, 64, 128, 2>, vgg_block<T, P, 128, 256, 4>,
                                     vgg_block<T, P, 256, 512, 4>, vgg_block<T, P, 512, 512, 4>>::type;
}  // namespace detail

// VGG19 features for scalar T (float for speed, double for gradient checks) and a pooling mode
// (average is the paper's choice for image synthesis; max is what VGG was trained with).
// Input: BGR, 0..255 minus the ImageNet mean (see io/preprocess.hpp), C x H x W.
// The static API (layer_names, find_layer, layer_index, output_shapes, min_input_side,
// parameter_counts) is vgg_features' (models/vgg_features.hpp).
template <class T, pooling P = pooling::average>
class vgg19 : public vgg_features<vgg19<T, P>, T, P, detail::vgg19_layers<T, P>> {
public:
    static constexpr const char* display_name = "VGG19";
    static_assert(detail::sequential_of<detail::vgg19_layers<T, P>>::type::size == 37,
                  "VGG19 has 16 conv, 16 relu and 5 pool layers");
};

// The 37 layer names in order (the same for every scalar type and pooling mode).
inline std::array<std::string, 37> vgg19_layer_names() { return vgg19<float>::layer_names(); }

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
