// The weights of a VGG network read from any supported file (Keras HDF5, PyTorch .pth, Caffe
// .caffemodel, safetensors), in nst's layout and names, together with the input convention the
// network was trained with. Readers of each format produce a model_weights; load_model_weights
// puts it into a network by layer name.
#pragma once

#include <algorithm>  // std::copy
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../layers/layer_traits.hpp"
#include "detail/network_match.hpp"
#include "weights_identity.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// How a network expects its input image; the readers know it from the file's origin.
enum class input_convention {
    caffe,        // B, G, R in 0..255 minus the ImageNet mean (103.939, 116.779, 123.68):
                  // Keras, Caffe, neural-style-pt
    torchvision,  // R, G, B in 0..1, minus (0.485, 0.456, 0.406), divided by (0.229, 0.224, 0.225)
};

// One 3x3 convolution: weights C_out x C_in x 3 x 3 (cross-correlation, like the layer), bias C_out.
struct named_conv_weights {
    std::string name;  // nst's name: conv1_1 ... conv5_4
    tensor4<float> weights;
    tensor1<float> bias;
};

struct model_weights {
    std::string format;  // e.g. "Keras HDF5", "PyTorch legacy", "PyTorch zip", "Caffe V1", "safetensors"
    std::string model;   // "vgg19" or "vgg16" when the file tells; "" when it does not
    input_convention convention = input_convention::caffe;
    weights_info info;                     // path, SHA-256, known published name
    std::vector<named_conv_weights> convs;  // in network order

    const named_conv_weights* find(const std::string& name) const {
        for (const auto& c : convs)
            if (c.name == name) return &c;
        return nullptr;
    }
    named_conv_weights* find(const std::string& name) {
        return const_cast<named_conv_weights*>(static_cast<const model_weights&>(*this).find(name));
    }
};

namespace detail {

// Calls set(layer, c) for every conv3x3 layer of net with w's convolution c of the same name,
// after checking that it exists and has the layer's shape, and that w is this network's
// (require_same_network); returns the number of layers.
template <class Net, class Weights, class Set> std::size_t set_conv_weights(Net& net, Weights& w, Set&& set) {
    const std::vector<std::string> network_convs = convolution_names(net);
    for (const std::string& name : network_convs)
        if (w.find(name) == nullptr)
            throw io_error(w.info.path + ": no weights for layer " + name + " (" + w.format + " file)");
    std::vector<std::string> file_convs;
    for (const named_conv_weights& c : w.convs) file_convs.push_back(c.name);
    require_same_network(w.info.path, w.model, file_convs, network_convs);
    std::size_t loaded = 0;
    net.for_each_layer([&](auto& layer, std::size_t, const std::string& name) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (is_conv3x3_v<L>) {
            auto* found = w.find(name);
            const std::vector<std::size_t> expected{L::out_channels, L::in_channels, 3, 3};
            const std::vector<std::size_t> actual(found->weights.shape().begin(), found->weights.shape().end());
            if (actual != expected || found->bias.size() != L::out_channels)
                throw io_error(w.info.path + ": layer " + name + ": expected weights " +
                               shape_string(expected) + " and bias (" + std::to_string(L::out_channels) +
                               "), got " + shape_string(actual) + " and (" + std::to_string(found->bias.size()) + ")");
            set(layer, *found);
            ++loaded;
        }
    });
    return loaded;
}

}  // namespace detail

/*  Sets every conv3x3 layer of `net` from `w`, by name (copies).
    ensures: returns the number of layers set (all of net's convolutions).
    throws:  io_error naming the file and layer when a convolution is missing from `w` or has
             another shape than the layer (expected and actual shapes in the message), or when
             `w` is another network's (require_same_network: VGG19's into nst::vgg16). */
template <class Net> std::size_t load_model_weights(Net& net, const model_weights& w) {
    return detail::set_conv_weights(net, w, [](auto& layer, const named_conv_weights& c) {
        using T = typename std::decay_t<decltype(layer)>::value_type;
        auto weights = tensor4<T>::from_shape(c.weights.shape());
        auto bias = tensor1<T>::from_shape(c.bias.shape());
        std::copy(c.weights.begin(), c.weights.end(), weights.begin());
        std::copy(c.bias.begin(), c.bias.end(), bias.begin());
        layer.set_weights(std::move(weights), std::move(bias));
    });
}

/*  The same, taking the weights over: a float network's layers take w's tensors as they are, so
    the weights are held once, not twice while loading (a file's convolutions are 80 MB for
    VGG19). w's convolutions are left empty. */
template <class Net> std::size_t load_model_weights(Net& net, model_weights&& w) {
    if constexpr (!std::is_same_v<typename Net::value_type, float>) {
        return load_model_weights(net, static_cast<const model_weights&>(w));
    } else {
        return detail::set_conv_weights(net, w, [](auto& layer, named_conv_weights& c) {
            layer.set_weights(std::move(c.weights), std::move(c.bias));
        });
    }
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
