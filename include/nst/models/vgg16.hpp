// VGG16's convolutional feature extractor (Simonyan & Zisserman 2014, configuration D), as one
// composed type with the canonical layer names: conv1_1 relu1_1 conv1_2 relu1_2 pool1 ...
// conv5_3 relu5_3 pool5. It is VGG19 with one convolution fewer in each of blocks 3, 4 and 5
// (13 convolutions); the names it has mean the same positions as VGG19's, but the weights differ.
// Weights: Keras' vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, torchvision's
// vgg16-397923af.pth, Caffe's VGG_ILSVRC_16_layers.caffemodel (io/).
#pragma once

#include <array>
#include <string>

#include "../core/isa_namespace.hpp"
#include "vgg_features.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

namespace detail {
template <class T, pooling P>
using vgg16_layers = typename concat<vgg_block<T, P, 3, 64, 2>, vgg_block<T, P, 64, 128, 2>, vgg_block<T, P, 128, 256, 3>,
                                     vgg_block<T, P, 256, 512, 3>, vgg_block<T, P, 512, 512, 3>>::type;
}  // namespace detail

// VGG16 features for scalar T and a pooling mode; input and static API as vgg19's.
template <class T, pooling P = pooling::average>
class vgg16 : public vgg_features<vgg16<T, P>, T, P, detail::vgg16_layers<T, P>> {
public:
    static constexpr const char* display_name = "VGG16";
    static_assert(detail::sequential_of<detail::vgg16_layers<T, P>>::type::size == 31,
                  "VGG16 has 13 conv, 13 relu and 5 pool layers");
};

// The 31 layer names in order (the same for every scalar type and pooling mode).
inline std::array<std::string, 31> vgg16_layer_names() { return vgg16<float>::layer_names(); }

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
