// Caffe .caffemodel weight files (a serialized NetParameter, e.g. jcjohnson/neural-style's
// models/VGG_ILSVRC_19_layers.caffemodel) read into nst's model_weights.
//
//   const nst::model_weights w = nst::read_caffe_weights("VGG_ILSVRC_19_layers.caffemodel");
//   nst::vgg19<float> net;
//   nst::load_model_weights(net, w);   // w.model == "vgg19", w.convention == caffe
//
// Both layouts Caffe has written are read, with protobuf's wire format decoded here
// (io/detail/protobuf.hpp; field numbers from caffe.proto):
//   NetParameter      layers = 2 (V1LayerParameter, "Caffe V1"), layer = 100 (LayerParameter, "Caffe V2")
//   V1LayerParameter  name = 4, type = 5 (enum, CONVOLUTION = 4), blobs = 6
//   LayerParameter    name = 1, type = 2 (string "Convolution"), blobs = 7
//   BlobProto         num = 1, channels = 2, height = 3, width = 4 (legacy 4-D shape),
//                     shape = 7 (BlobShape: dim = 1, int64), data = 5 (float), double_data = 8
// Every convolution layer is kept, under its Caffe name (VGG's are conv1_1 ... conv5_4, nst's
// names); all other layers (ReLU, pooling, the dense fc6..fc8) are skipped without being decoded.
// A convolution must have 2 blobs: weights (C_out, C_in, 3, 3) and bias (C_out values, stored
// as (C_out) or legacy (1, 1, 1, C_out)). Caffe's weights are cross-correlation kernels for BGR
// input in 0..255 minus the ImageNet mean, the same layout and convention as nst's, so nothing is
// transposed or converted. model is "vgg19" or "vgg16" when the convolutions are exactly those
// of VGG19 (16) or VGG16 (13).
//
// Errors: io_error starting with the file's path for a malformed or truncated file (with the
// byte offset), a V0 file (pre-2014 Caffe), a convolution without 2 blobs or not 3x3, a blob
// whose shape disagrees with its values, a NaN/Inf or |w| > max_abs_weight value (naming the
// layer), two convolutions of one name, or no convolution at all.
// Memory: the file is memory-mapped; only the convolutions' pages are read for decoding.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "detail/mapped_file.hpp"
#include "detail/protobuf.hpp"
#include "detail/weight_value.hpp"
#include "model_weights.hpp"
#include "weights_identity.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail::caffe {

namespace pb = detail::protobuf;

// Field numbers of caffe.proto used here.
enum : std::uint32_t {
    net_layers_v1 = 2,
    net_layer_v2 = 100,
    v1_v0_layer = 1,  // V1LayerParameter.layer: a V0 layer inside (pre-2014 files)
    v1_name = 4,
    v1_type = 5,
    v1_blobs = 6,
    v2_name = 1,
    v2_type = 2,
    v2_blobs = 7,
    blob_num = 1,
    blob_channels = 2,
    blob_height = 3,
    blob_width = 4,
    blob_data = 5,
    blob_shape = 7,
    blob_double_data = 8,
    shape_dim = 1,
};
constexpr std::uint64_t v1_convolution = 4;  // V1LayerParameter.LayerType.CONVOLUTION

struct blob {
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};

// "64 x 3 x 3 x 3" for messages.
inline std::string dims_text(const std::vector<std::int64_t>& dims) {
    std::string out;
    for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? " x " : "") + std::to_string(dims[i]);
    return out.empty() ? "(no dimensions)" : out;
}

// Whether the dimensions (all >= 0) multiply to exactly `count`, without overflow.
inline bool dims_hold(const std::vector<std::int64_t>& dims, std::size_t count) {
    std::uint64_t product = 1;
    for (const std::int64_t d : dims) {
        if (d < 0) return false;
        if (d != 0 && product > count / std::uint64_t(d)) return false;
        product *= std::uint64_t(d);
    }
    return product == count;
}

/*  Decodes one BlobProto. The shape is BlobShape's dims when present, else the legacy
    (num, channels, height, width). throws: io_error naming `what` (file, layer, blob). */
inline blob parse_blob(pb::reader r, const std::string& what, double max_abs) {
    blob b;
    std::vector<std::int64_t> legacy{0, 0, 0, 0};
    bool has_legacy = false, has_shape = false;
    std::vector<double> doubles;
    pb::field f;
    while (r.next(f)) {
        if (f.number >= blob_num && f.number <= blob_width && f.type == pb::wire_type::varint) {
            legacy[f.number - blob_num] = pb::as_int64(f);
            has_legacy = true;
        } else if (f.number == blob_data) {
            pb::append_floats(r, f, b.values);
        } else if (f.number == blob_double_data) {
            pb::append_doubles(r, f, doubles);
        } else if (f.number == blob_shape && f.type == pb::wire_type::length_delimited) {
            has_shape = true;
            b.shape.clear();
            pb::reader dims = pb::reader::nested(f, r.what());
            for (pb::field d; dims.next(d);)
                if (d.number == shape_dim) pb::append_int64s(dims, d, b.shape);
        }
    }
    if (!doubles.empty()) {
        if (!b.values.empty()) throw io_error(what + ": holds both float and double data");
        check_weight_values(doubles.data(), doubles.size(), max_abs, what);
        b.values.assign(doubles.begin(), doubles.end());
    }
    check_weight_values(b.values.data(), b.values.size(), max_abs, what);
    if (!has_shape) {
        if (!has_legacy) throw io_error(what + ": no shape (neither 'shape' nor num/channels/height/width)");
        b.shape = legacy;
    }
    if (!dims_hold(b.shape, b.values.size()))
        throw io_error(what + ": shape " + dims_text(b.shape) + " but " + std::to_string(b.values.size()) +
                       " values stored");
    return b;
}

// A layer's name, whether it is a convolution, and its blobs (still encoded).
struct layer_fields {
    std::string name;
    bool convolution = false;
    std::vector<pb::field> blobs;
};

inline layer_fields parse_layer(const pb::field& layer, bool v1, const pb::reader& net) {
    pb::reader r = pb::reader::nested(layer, net.what());
    layer_fields out;
    pb::field f;
    while (r.next(f)) {
        const bool bytes = f.type == pb::wire_type::length_delimited;
        if (v1 && f.number == v1_v0_layer && bytes)
            throw io_error(net.what() + ": a V0 layer (Caffe before 2014) at byte " + std::to_string(f.offset) +
                           "; upgrade the file with Caffe's upgrade_net_proto_binary");
        if (f.number == (v1 ? v1_name : v2_name) && bytes) out.name = pb::as_string(f);
        if (v1 && f.number == v1_type && f.type == pb::wire_type::varint) out.convolution = f.value == v1_convolution;
        if (!v1 && f.number == v2_type && bytes) out.convolution = pb::as_string(f) == "Convolution";
        if (f.number == (v1 ? v1_blobs : v2_blobs) && bytes) out.blobs.push_back(f);
    }
    return out;
}

/*  A convolution layer's blobs as nst weights: (C_out, C_in, 3, 3) and C_out biases.
    throws: io_error naming the file and layer, with the expected and actual shapes. */
inline named_conv_weights conv_weights(const layer_fields& layer, const pb::reader& net, double max_abs) {
    const std::string what = net.what() + ": layer " + layer.name;
    if (layer.blobs.size() != 2)
        throw io_error(what + ": expected 2 blobs (weights, bias), found " + std::to_string(layer.blobs.size()));
    const blob w = parse_blob(pb::reader::nested(layer.blobs[0], net.what()), what + " weights", max_abs);
    const blob b = parse_blob(pb::reader::nested(layer.blobs[1], net.what()), what + " bias", max_abs);
    if (w.shape.size() != 4 || w.shape[0] < 1 || w.shape[1] < 1 || w.shape[2] != 3 || w.shape[3] != 3)
        throw io_error(what + ": weights are " + dims_text(w.shape) +
                       ", expected C_out x C_in x 3 x 3 (nst reads VGG's 3x3 convolutions)");
    const std::size_t out = std::size_t(w.shape[0]), in = std::size_t(w.shape[1]);
    if (b.values.size() != out)
        throw io_error(what + ": bias is " + dims_text(b.shape) + ", expected " + std::to_string(out) +
                       " values (one per output channel)");
    named_conv_weights c{layer.name, tensor4<float>::from_shape({out, in, std::size_t(3), std::size_t(3)}),
                         tensor1<float>::from_shape({out})};
    std::copy(w.values.begin(), w.values.end(), c.weights.begin());
    std::copy(b.values.begin(), b.values.end(), c.bias.begin());
    return c;
}

// The conv names of a VGG with these convolutions per block: conv1_1, conv1_2, conv2_1, ...
inline std::vector<std::string> vgg_conv_names(const std::vector<int>& per_block) {
    std::vector<std::string> names;
    for (std::size_t b = 0; b < per_block.size(); ++b)
        for (int i = 1; i <= per_block[b]; ++i) names.push_back("conv" + std::to_string(b + 1) + "_" + std::to_string(i));
    return names;
}

// "vgg19" or "vgg16" when the convolutions are exactly that network's; "" otherwise.
inline std::string vgg_model_of(const std::vector<named_conv_weights>& convs) {
    std::vector<std::string> names;
    for (const auto& c : convs) names.push_back(c.name);
    std::sort(names.begin(), names.end());
    for (const auto& [model, blocks] : {std::pair<const char*, std::vector<int>>{"vgg19", {2, 2, 4, 4, 4}},
                                        std::pair<const char*, std::vector<int>>{"vgg16", {2, 2, 3, 3, 3}}}) {
        std::vector<std::string> expected = vgg_conv_names(blocks);
        std::sort(expected.begin(), expected.end());
        if (names == expected) return model;
    }
    return "";
}

/*  Reads a NetParameter from bytes; `release` (may be empty) is told which byte ranges were
    decoded so a mapped file can drop them. info is the file's identity. */
template <class Release>
model_weights parse_net(const unsigned char* data, std::size_t size, weights_info info, double max_abs,
                        Release&& release) {
    model_weights result;
    result.convention = input_convention::caffe;
    pb::reader net(data, size, info.path);
    std::size_t v1_layers = 0, v2_layers = 0;
    pb::field f;
    while (net.next(f)) {
        const bool v1 = f.number == net_layers_v1;
        if ((!v1 && f.number != net_layer_v2) || f.type != pb::wire_type::length_delimited) continue;
        ++(v1 ? v1_layers : v2_layers);
        const layer_fields layer = parse_layer(f, v1, net);
        if (!layer.convolution) continue;
        if (layer.name.empty()) throw io_error(info.path + ": a convolution layer without a name at byte " + std::to_string(f.offset));
        if (result.find(layer.name))
            throw io_error(info.path + ": two convolution layers named " + layer.name);
        result.convs.push_back(conv_weights(layer, net, max_abs));
        release(f.payload_offset, f.size);
    }
    if (v1_layers > 0 && v2_layers > 0)
        throw io_error(info.path + ": mixes V1 'layers' (" + std::to_string(v1_layers) + ") and V2 'layer' (" +
                       std::to_string(v2_layers) + ") entries; Caffe writes one or the other");
    if (result.convs.empty())
        throw io_error(info.path + ": no convolution layers (" + std::to_string(v1_layers + v2_layers) +
                       " layers read): not a Caffe .caffemodel of a VGG network");
    result.format = v1_layers > 0 ? "Caffe V1" : "Caffe V2";
    result.model = vgg_model_of(result.convs);
    result.info = std::move(info);
    return result;
}

}  // namespace detail::caffe

/*  Whether bytes (a file's first ones) start like a serialized Caffe NetParameter: the first
    field is one a NetParameter begins with (name = 1, V1 layers = 2, input = 3, input_dim = 4,
    input_shape = 8, V2 layer = 100) with its proper wire type. A weak test (protobuf has no
    signature): use it after the formats that do have one (HDF5, zip, pickle). */
inline bool looks_like_caffemodel(const unsigned char* bytes, std::size_t n) {
    if (n < 2) return false;
    switch (bytes[0]) {
        case 0x0A: case 0x12: case 0x1A: case 0x42: return true;  // fields 1, 2, 3, 8: length-delimited
        case 0x20: return true;                                    // field 4 (input_dim): varint
        case 0xA2: return bytes[1] == 0x06;                        // field 100: length-delimited
        default: return false;
    }
}

// The same test on a file's first bytes; false when it cannot be read (the reader then says why).
inline bool looks_like_caffemodel_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    unsigned char head[2] = {};
    const std::size_t n = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
    return looks_like_caffemodel(head, n);
}

/*  Reads the convolutions of a .caffemodel (see the file comment).
    ensures: result.format is "Caffe V1" or "Caffe V2", convention caffe, info has the SHA-256
             (checked against options.expected_sha256 before anything is parsed).
    throws:  io_error naming the file (and layer, byte offset, shapes, value) for anything wrong;
             invalid_argument for a pin that is not 64 hex digits. */
inline model_weights read_caffe_weights(const std::string& path, const weights_options& options = {}) {
    const detail::mapped_file file(path, "Caffe weight file");
    // Hash from the mapping in pieces, dropping each from memory: the parse reads only the
    // convolutions again, so the file's 400+ MB of dense layers never stay resident.
    detail::weights_hasher hash(file.size());
    constexpr std::size_t piece = std::size_t(16) << 20;
    for (std::size_t at = 0; at < file.size(); at += piece) {
        const std::size_t n = std::min(piece, file.size() - at);
        hash.update(file.data() + at, n);
        file.release(at, n);
    }
    weights_info info = detail::identify_weights(path, hash.digests(), options);
    if (file.size() == 0) throw io_error(path + ": the file is empty (not a Caffe .caffemodel)");
    return detail::caffe::parse_net(file.data(), file.size(), std::move(info), options.max_abs_weight,
                                    [&](std::size_t at, std::size_t n) { file.release(at, n); });
}

// The same for a file image in memory; `name` stands for the file in messages and info.path.
inline model_weights read_caffe_weights_from_memory(const void* data, std::size_t size, const std::string& name,
                                                    const weights_options& options = {}) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    weights_info info = detail::identify_weights(name, detail::digests_of_bytes(bytes, size), options);
    if (size == 0) throw io_error(name + ": the file is empty (not a Caffe .caffemodel)");
    return detail::caffe::parse_net(bytes, size, std::move(info), options.max_abs_weight,
                                    [](std::size_t, std::size_t) {});
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
