// torchvision's VGG state-dict layout (`features.N.weight`, `features.N.bias`) mapped to nst's
// convolutions. PyTorch .pth and safetensors files of VGG19/VGG16 both use it; their readers
// list the tensors they hold and decode values, and this file finds, names and checks the
// convolutions.
//
// VGG19's convolutions are features.N for N = 0,2,5,7,10,12,14,16,19,21,23,25,28,30,32,34,
// VGG16's for N = 0,2,5,7,10,12,14,17,19,21,24,26,28; the indices present tell the model (a
// prefix of either list is a truncated network; model "" when the prefix is common to both).
// The weights are (C_out, C_in, 3, 3) cross-correlation kernels, nst's layout.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"
#include "../../core/tensor.hpp"
#include "../model_weights.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail::torchvision_vgg {

// A VGG variant's convolutions: their index in torchvision's `features` and channel counts.
struct vgg_layout {
    const char* model;
    std::vector<std::size_t> indices;
    std::vector<std::size_t> block_sizes;  // convolutions per block
};
inline const vgg_layout& vgg19_layout() {
    static const vgg_layout l{"vgg19", {0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34}, {2, 2, 4, 4, 4}};
    return l;
}
inline const vgg_layout& vgg16_layout() {
    static const vgg_layout l{"vgg16", {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28}, {2, 2, 3, 3, 3}};
    return l;
}
// nst's name and canonical output channels of the n-th convolution of a layout.
inline std::string conv_name(const vgg_layout& l, std::size_t n) {
    for (std::size_t b = 0; b < l.block_sizes.size(); n -= l.block_sizes[b++])
        if (n < l.block_sizes[b]) return "conv" + std::to_string(b + 1) + "_" + std::to_string(n + 1);
    return "conv?";
}
inline std::size_t conv_channels(const vgg_layout& l, std::size_t n) {
    std::size_t block = 0;
    for (; block + 1 < l.block_sizes.size() && n >= l.block_sizes[block]; n -= l.block_sizes[block++]) {}
    return std::size_t(64) << std::min<std::size_t>(block, 3);
}

inline bool is_prefix_of(const std::vector<std::size_t>& present, const std::vector<std::size_t>& all) {
    return present.size() <= all.size() && std::equal(present.begin(), present.end(), all.begin());
}

// The VGG layout of the `features.N` indices present, with its name ("" for the common prefix).
inline std::pair<const vgg_layout*, std::string> detect_layout(const std::vector<std::size_t>& present,
                                                               const std::string& file) {
    if (present.empty())
        throw io_error(file + ": no features.N.weight tensor: not a VGG in torchvision's layout");
    const bool vgg19 = is_prefix_of(present, vgg19_layout().indices);
    const bool vgg16 = is_prefix_of(present, vgg16_layout().indices);
    if (vgg19) return {&vgg19_layout(), vgg16 ? "" : "vgg19"};
    if (vgg16) return {&vgg16_layout(), "vgg16"};
    std::string found;
    for (std::size_t i : present) found += (found.empty() ? "" : ",") + std::to_string(i);
    throw io_error(file + ": the convolutions features.{" + found +
                   "}.weight are neither VGG19's (features.0,2,5,7,10,12,14,16,19,21,23,25,28,30,32,34) nor "
                   "VGG16's (0,2,5,7,10,12,14,17,19,21,24,26,28) nor a prefix of them"
                   " (batch-norm VGGs are not supported)");
}

// Splits "features.N.weight" into N and "weight"; false for other keys.
inline bool parse_feature_key(const std::string& key, std::size_t& index, std::string& param) {
    const std::string prefix = "features.";
    if (key.compare(0, prefix.size(), prefix) != 0) return false;
    const std::size_t dot = key.find('.', prefix.size());
    if (dot == std::string::npos || dot == prefix.size() || dot - prefix.size() > 4) return false;
    index = 0;
    for (std::size_t i = prefix.size(); i < dot; ++i) {
        if (key[i] < '0' || key[i] > '9') return false;
        index = index * 10 + std::size_t(key[i] - '0');
    }
    param = key.substr(dot + 1);
    return true;
}

// The key without the `module.` prefix nn.DataParallel's state dicts have.
inline std::string without_module_prefix(const std::string& key) {
    return key.compare(0, 7, "module.") == 0 ? key.substr(7) : key;
}

inline std::string dims_string(const std::vector<std::uint64_t>& dims) {
    std::string s;
    for (std::uint64_t d : dims) s += (s.empty() ? "" : " x ") + std::to_string(d);
    return s.empty() ? "a scalar" : s;
}

// A tensor of a state dict: its key (`module.` stripped), its shape, and the reader's own
// handle to it, given back to the reader's values function.
template <class Handle> struct keyed_tensor {
    std::string key;
    std::vector<std::uint64_t> shape;
    Handle handle;
};

/*  Finds and checks the convolutions among `tensors` and reads them into w.convs (sets w.model).
    `values(handle, what)` returns a tensor's elements in C order as float, already checked for
    finiteness and magnitude, naming `what` in its errors; it is called only for convolutions
    whose shapes have been checked. Other keys (classifier.*, timm's pre_logits.*, head.*) are
    never decoded.
    throws: io_error starting with `file` for a key given twice, a batch-norm parameter, indices
            of no VGG, a missing bias, or a shape other than the layer's (naming key, layer and
            both shapes). */
template <class Handle, class Values>
void read_vgg_convs(const std::vector<keyed_tensor<Handle>>& tensors, const std::string& file, model_weights& w,
                    Values&& values) {
    std::unordered_map<std::size_t, const keyed_tensor<Handle>*> weights, biases;
    for (const auto& t : tensors) {
        std::size_t index = 0;
        std::string param;
        if (!parse_feature_key(t.key, index, param)) continue;  // classifier.* and others
        if (param != "weight" && param != "bias")
            throw io_error(file + ": key " + t.key + " is not a plain VGG's (batch-norm VGGs are not supported)");
        auto& slot = (param == "weight" ? weights : biases)[index];
        if (slot) throw io_error(file + ": " + t.key + " is given twice (with and without a module. prefix?)");
        slot = &t;
    }
    std::vector<std::size_t> present;
    for (const auto& kv : weights) present.push_back(kv.first);
    std::sort(present.begin(), present.end());
    const auto [layout, model] = detect_layout(present, file);
    w.model = model;
    std::size_t in_channels = 3;
    for (std::size_t n = 0; n < present.size(); ++n) {
        const std::string key = "features." + std::to_string(present[n]);
        const std::string name = conv_name(*layout, n);
        const std::string what = file + ": " + key + ".weight (" + name + ")";
        const keyed_tensor<Handle>& kernel = *weights.at(present[n]);
        const auto bias = biases.find(present[n]);
        if (bias == biases.end()) throw io_error(file + ": " + key + ".bias (" + name + ") is missing");
        std::uint64_t out = kernel.shape.empty() ? 0 : kernel.shape[0];
        if (!model.empty()) out = conv_channels(*layout, n);
        const std::vector<std::uint64_t> expected{out, in_channels, 3, 3};
        if (kernel.shape != expected || out == 0 || out * in_channels > (std::size_t(1) << 20))
            throw io_error(what + ": expected " + dims_string(expected) + ", got " + dims_string(kernel.shape));
        const std::string bias_what = file + ": " + key + ".bias (" + name + ")";
        if (bias->second->shape != std::vector<std::uint64_t>{out})
            throw io_error(bias_what + ": expected " + std::to_string(out) + ", got " + dims_string(bias->second->shape));
        named_conv_weights conv{name, tensor4<float>::from_shape({out, in_channels, 3, 3}),
                                tensor1<float>::from_shape({out})};
        const std::vector<float> k = values(kernel.handle, what);
        const std::vector<float> b = values(bias->second->handle, bias_what);
        if (k.size() != conv.weights.size() || b.size() != conv.bias.size())
            throw io_error(what + ": the reader decoded " + std::to_string(k.size()) + " + " +
                           std::to_string(b.size()) + " values for a checked shape (a reader bug)");
        std::copy(k.begin(), k.end(), conv.weights.begin());
        std::copy(b.begin(), b.end(), conv.bias.begin());
        w.convs.push_back(std::move(conv));
        in_channels = out;
    }
}

}  // namespace detail::torchvision_vgg
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
