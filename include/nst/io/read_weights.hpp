// One entry point for every weight file nst reads: the format is told by the file's first
// bytes, never by its name.
//
//   const nst::model_weights w = nst::read_model_weights(path, options);
//   nst::load_model_weights(net, w);   // then prepare images with w.convention
//
//   HDF5 signature (\x89HDF\r\n\x1a\n)      -> Keras HDF5 (keras_weights.hpp), Caffe convention
//   a header length <= 100 MB, then '{'   -> safetensors (safetensors_weights.hpp), torchvision
//   "PK\x03\x04" or a pickle (0x80 0x02..) -> PyTorch .pth, zip or legacy (pytorch_weights.hpp)
//   the fields a NetParameter starts with    -> Caffe .caffemodel, V1 or V2 (caffe_weights.hpp)
// Every reader names the file, layer and shapes in its io_error, refuses non-finite values and
// |w| > options.max_abs_weight, and records the file's SHA-256 (options.expected_sha256 pins it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "caffe_weights.hpp"
#include "keras_weights.hpp"
#include "model_weights.hpp"
#include "pytorch_weights.hpp"
#include "safetensors_weights.hpp"
#include "weights_identity.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// The formats read_model_weights understands, for messages.
inline std::string supported_weight_formats() {
    return "Keras HDF5 (.h5, e.g. vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5), "
           "PyTorch .pth (legacy and zip containers, e.g. vgg19-dcbb9e9d.pth, vgg19-d01eb7cb.pth), "
           "Caffe .caffemodel (V1 and V2 layouts, e.g. VGG_ILSVRC_19_layers.caffemodel), "
           "safetensors (torchvision's layout, e.g. timm/vgg19.tv_in1k's model.safetensors)";
}

/*  A Keras HDF5 file's convolutions (layers blockB_convI) as model_weights with nst names.
    ensures: format "Keras HDF5", convention caffe, model "vgg19" (16 convolutions) or "vgg16"
             (13) or "" otherwise. throws: io_error as keras_weight_file does. */
inline model_weights read_keras_model_weights(const std::string& path, const weights_options& options = {}) {
    const keras_weight_file file(path, options);
    model_weights w;
    w.format = "Keras HDF5";
    w.info = file.info();
    w.convention = input_convention::caffe;
    std::vector<float> file_order;  // one buffer for every layer's kernel in the file's order
    for (const auto& layer : file.contents()) {
        unsigned block = 0, index = 0;
        char rest = 0;
        if (std::sscanf(layer.name.c_str(), "block%u_conv%u%c", &block, &index, &rest) != 2) continue;
        const std::string name = "conv" + std::to_string(block) + "_" + std::to_string(index);
        if (layer.weights.empty() || layer.weights[0].shape.size() != 4)
            throw io_error(path + ": layer " + layer.name + ": no 4-dimensional kernel (3, 3, in, out)");
        const auto& shape = layer.weights[0].shape;
        if (shape[2] == 0 || shape[3] == 0 || shape[2] > 4096 || shape[3] > 4096)
            throw io_error(path + ": layer " + layer.name + ": implausible kernel " + shape_string(shape));
        // (The kernel gives the shapes to read: a bias of another length would be blamed alone.)
        if (layer.weights.size() >= 2 && layer.weights[1].shape != std::vector<std::size_t>{shape[3]})
            throw io_error(path + ": layer " + layer.name + ": the kernel " + shape_string(shape) + " has " +
                           std::to_string(shape[3]) + " output channels, the bias is " +
                           shape_string(layer.weights[1].shape) + ": they disagree (a damaged file?)");
        conv3x3_weights<float> c = file.read_conv3x3<float>(layer.name, shape[2], shape[3], file_order);
        w.convs.push_back({name, std::move(c.weights), std::move(c.bias)});
    }
    w.model = w.convs.size() == 16 ? "vgg19" : w.convs.size() == 13 ? "vgg16" : "";
    return w;
}

/*  Reads any supported weight file (see the file comment).
    throws: io_error for a missing file, a directory, an unknown format (the message lists the
            supported ones) and every error of the format's reader. */
inline model_weights read_model_weights(const std::string& path, const weights_options& options = {}) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) throw io_error(path + ": no such file");
    if (fs::is_directory(status)) throw io_error(path + ": is a directory, not a weight file");
    unsigned char head[9] = {};  // safetensors' '{' is the 9th byte
    std::size_t got = 0;
    {
        const detail::file_source file(path);
        got = std::size_t(std::min<std::uint64_t>(sizeof head, file.size()));
        file.read(0, head, got, "the file's signature");
    }
    const unsigned char hdf5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (got >= 8 && std::equal(head, head + 8, hdf5)) return read_keras_model_weights(path, options);
    // Before the pickle and protobuf tests: a header length can begin with their bytes (640 is 80 02).
    if (detail::safetensors::looks_like_safetensors(head, got)) return read_safetensors_weights(path, options);
    if (got >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
        return read_pytorch_weights(path, options);
    if (got >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5) return read_pytorch_weights(path, options);
    if (looks_like_caffemodel(head, got)) return read_caffe_weights(path, options);

    std::string first;
    for (std::size_t i = 0; i < std::min<std::size_t>(got, 8); ++i) {
        const char* digits = "0123456789abcdef";
        first += std::string(first.empty() ? "" : " ") + digits[head[i] >> 4] + digits[head[i] & 15];
    }
    throw io_error(path + ": unknown weights format (first bytes " + (first.empty() ? "none: empty file" : first) +
                   "); supported: " + supported_weight_formats());
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
