// Whether a weight file's convolutions are a network's. Loading goes by layer name, and VGG16 and
// VGG19 share their names up to VGG19's extra ones (conv3_4, conv4_4, conv5_4), each of the same
// shape as its neighbours: a VGG19 file would fill a VGG16 network with the wrong layers (its
// conv4_1 from the file's conv4_1, which follows conv3_4, not conv3_3), silently.
#pragma once

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"
#include "../../layers/layer_traits.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// The names of net's convolutions, in its order.
template <class Net> std::vector<std::string> convolution_names(const Net& net) {
    std::vector<std::string> names;
    net.for_each_layer([&](const auto& layer, std::size_t, const std::string& name) {
        if constexpr (is_conv3x3_v<std::decay_t<decltype(layer)>>) names.push_back(name);
    });
    return names;
}

/*  requires: every name in network_convs is in file_convs (checked before, with its own message).
    throws:   io_error naming `path` when a file convolution lies among the network's (before the
              last of them in the file's order) but is not one of the network's. A network cut
              short (conv1_1 .. conv3_1 of a VGG) holds the file's first ones and passes, in
              whatever order the file stores them. */
inline void require_same_network(const std::string& path, const std::string& model,
                                 const std::vector<std::string>& file_convs,
                                 const std::vector<std::string>& network_convs) {
    std::size_t last = 0;  // one past the network's last convolution in the file
    for (std::size_t i = 0; i < file_convs.size(); ++i)
        if (std::find(network_convs.begin(), network_convs.end(), file_convs[i]) != network_convs.end()) last = i + 1;
    for (std::size_t i = 0; i < last; ++i)
        if (std::find(network_convs.begin(), network_convs.end(), file_convs[i]) == network_convs.end())
            throw io_error(path + ": the file's convolution " + file_convs[i] +
                           " lies among the network's but the network has none of that name: the file holds "
                           "another network's weights" + (model.empty() ? std::string() : " (" + model + ")") +
                           ", with " + std::to_string(file_convs.size()) + " convolutions; load it into that network");
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
