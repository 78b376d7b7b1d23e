// PyTorch .pth weight files of VGG19/VGG16 (torchvision's vgg19-dcbb9e9d.pth, neural-style-pt's
// vgg19-d01eb7cb.pth, or any torch.save(model.state_dict()) of torchvision's VGG layout).
//
//   nst::model_weights w = nst::read_pytorch_weights("vgg19-dcbb9e9d.pth");
//   nst::load_model_weights(net, w);          // w.convention says how to prepare images
//
// Both containers torch.save writes are read:
//   - legacy (torch < 1.6, or _use_new_zipfile_serialization=False): pickles of the magic
//     number 0x1950a86a20f9469cfc6c, the protocol version (1001) and the system info, then the
//     state dict with storages as persistent ids, the list of storage keys, then each storage as
//     an 8-byte little-endian element count followed by its raw little-endian data;
//   - zip (torch >= 1.6): `<name>/data.pkl` (the state dict) and `<name>/data/<key>` (storages).
// The pickles are read by a reader that never runs code (detail/pickle.hpp).
//
// Keys `features.N.weight` and `features.N.bias` (optionally prefixed `module.`) are VGG19's or
// VGG16's convolutions as detail/torchvision_vgg.hpp maps them (the indices tell the model).
// PyTorch's weights are (C_out, C_in, 3, 3) cross-correlation kernels: nst's layout, copied as is.
// `classifier.*` and every other key are ignored. Tensors may be float32, float16, bfloat16 or
// float64 (converted to float), at any storage offset and with any strides (gathered).
//
// Input convention: neural-style-pt's conversions of the Caffe models (vgg19-d01eb7cb.pth,
// vgg16-00b39a1b.pth) expect Caffe's BGR 0..255 minus the mean; every other .pth name is taken
// for torchvision's RGB 0..1 normalised input (stylize_options::weights_preprocessing overrides).
//
// Errors: io_error starting with the file path, naming the key, the nst layer and both shapes
// for a mis-shaped tensor, the layer and value for a non-finite or implausible one, the opcode
// or GLOBAL for a pickle that is not a plain state dict.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../layers/layer_shape.hpp"
#include "detail/byte_source.hpp"
#include "detail/float_bits.hpp"
#include "detail/pickle.hpp"
#include "detail/torchvision_vgg.hpp"
#include "detail/weight_value.hpp"
#include "detail/zip.hpp"
#include "model_weights.hpp"
#include "weights_identity.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// The convention a .pth file's network expects, from its file name (see the file comment).
inline input_convention pytorch_convention_for(const std::string& path) {
    const std::string name = std::filesystem::path(path).filename().string();
    if (name == "vgg19-d01eb7cb.pth" || name == "vgg16-00b39a1b.pth") return input_convention::caffe;
    return input_convention::torchvision;
}

namespace detail::pytorch {

// The keys of a state dict that hold tensors, `module.` stripped, in file order.
using tensor_keys = std::vector<std::pair<std::string, const pickle::tensor_ref*>>;

inline tensor_keys state_dict_tensors(const pickle::unpickled& p, const std::string& file) {
    const pickle::value* dict = &p.top();
    auto tensors_in = [&](const pickle::value& d) {
        tensor_keys out;
        for (std::size_t i = 0; i + 1 < d.items.size(); i += 2) {
            const pickle::value& key = p.at(d.items[i]);
            const pickle::value& v = p.at(d.items[i + 1]);
            if (key.type != pickle::kind::string || v.type != pickle::kind::tensor) continue;
            out.emplace_back(torchvision_vgg::without_module_prefix(key.text), &p.tensors[v.ref]);
        }
        return out;
    };
    if (dict->type != pickle::kind::dict) throw io_error(file + ": the pickled object is not a dict (state dict)");
    tensor_keys out = tensors_in(*dict);
    if (!out.empty()) return out;
    // A checkpoint {"state_dict": {...}} or {"model": {...}}: one level down.
    for (std::size_t i = 0; i + 1 < dict->items.size(); i += 2) {
        const pickle::value& key = p.at(dict->items[i]);
        const pickle::value& v = p.at(dict->items[i + 1]);
        if (key.type == pickle::kind::string && (key.text == "state_dict" || key.text == "model") &&
            v.type == pickle::kind::dict)
            return tensors_in(v);
    }
    throw io_error(file + ": the state dict holds no tensors");
}

// Where a storage's bytes are in the file.
struct storage_location {
    std::uint64_t offset = 0;  // of element 0
    std::uint64_t bytes = 0;
};
using storage_map = std::unordered_map<std::string, storage_location>;

// Element size of each storage key the pickle names.
inline std::unordered_map<std::string, std::size_t> element_sizes(const pickle::unpickled& p) {
    std::unordered_map<std::string, std::size_t> sizes;
    for (const auto& s : p.storages) sizes.emplace(s.key, s.type.element_size);
    return sizes;
}

inline std::uint64_t checked_bytes(std::uint64_t numel, std::size_t element_size, const std::string& what) {
    if (element_size == 0 || numel > (std::uint64_t(1) << 60) / element_size)
        throw io_error(what + ": storage of " + std::to_string(numel) + " elements is implausibly large");
    return numel * element_size;
}

/*  The values of tensor `t` (C order of its size), as float.
    requires: t.size has been checked against the expected shape (so its element count is small).
    throws:   io_error naming `what` for a non-float storage, a view beyond its storage, or a value
              that is not finite or above max_abs. */
inline std::vector<float> tensor_values(const byte_source& file, const pickle::tensor_ref& t,
                                        const storage_location& where, const std::string& what, double max_abs) {
    const pickle::storage_ref& s = t.storage;
    if (!s.type.floating) throw io_error(what + ": stored as " + s.type.name + ", not floating point");
    std::uint64_t count = 1, last = t.offset;  // element count, largest element index used
    for (std::size_t d = 0; d < t.size.size(); ++d) {
        count *= t.size[d];
        if (t.size[d] > 1 && t.stride[d] > s.view_numel)
            throw io_error(what + ": stride " + std::to_string(t.stride[d]) + " beyond its storage");
        if (t.size[d] > 1) last += (t.size[d] - 1) * t.stride[d];
    }
    if (count == 0 || last >= s.view_numel || s.view_offset + s.view_numel > s.numel ||
        checked_bytes(s.numel, s.type.element_size, what) > where.bytes)
        throw io_error(what + ": its elements (offset " + std::to_string(t.offset) + ", last " + std::to_string(last) +
                       ") lie beyond its storage of " + std::to_string(s.view_numel) + " elements");
    const std::size_t es = s.type.element_size;
    const std::uint64_t first = s.view_offset + t.offset;
    std::vector<unsigned char> raw(std::size_t(last - t.offset + 1) * es);
    file.read(where.offset + first * es, raw.data(), raw.size(), what);

    std::vector<float> out(static_cast<std::size_t>(count));
    std::vector<std::uint64_t> index(t.size.size(), 0);  // odometer over the logical indices
    const bool bfloat = s.type.name == "torch.BFloat16Storage";
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint64_t at = 0;
        for (std::size_t d = 0; d < index.size(); ++d) at += index[d] * t.stride[d];
        const double v = decode_element(raw.data() + at * es, es, bfloat);
        check_weight_value(v, i, max_abs, what);
        out[i] = float(v);
        for (std::size_t d = index.size(); d-- > 0;) {
            if (++index[d] < t.size[d]) break;
            index[d] = 0;
        }
    }
    return out;
}

// The legacy magic number 0x1950a86a20f9469cfc6c as pickle's LONG1 bytes (little-endian).
inline const std::string& legacy_magic() {
    static const std::string m("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
    return m;
}

// A state dict and where its storages' bytes are.
struct container {
    pickle::unpickled pickled;
    storage_map storages;
};

/*  Legacy container: the magic number, protocol, system info, the object, the storage keys and
    the storages themselves (8-byte element count, then the data) in key-list order. */
inline container read_legacy(const byte_source& file) {
    byte_cursor in(file, 0);
    const pickle::unpickled magic = pickle::read(in);
    if (magic.top().type != pickle::kind::big_integer || magic.top().text != legacy_magic())
        throw io_error(file.name() + ": not a PyTorch file (the legacy magic number is missing)");
    const pickle::unpickled protocol = pickle::read(in);
    if (protocol.top().type != pickle::kind::integer || protocol.top().integer != 1001)
        throw io_error(file.name() + ": unknown PyTorch legacy protocol (1001 expected)");
    const pickle::unpickled sys_info = pickle::read(in);
    const pickle::value& info = sys_info.top();
    for (std::size_t i = 0; info.type == pickle::kind::dict && i + 1 < info.items.size(); i += 2)
        if (sys_info.at(info.items[i]).text == "little_endian" && sys_info.at(info.items[i + 1]).integer == 0)
            throw io_error(file.name() + ": written on a big-endian machine; only little-endian files are read");
    container c{pickle::read(in), {}};
    const pickle::unpickled keys = pickle::read(in);
    if (keys.top().type != pickle::kind::list)
        throw io_error(file.name() + ": the storage key list after the state dict is missing");
    const auto sizes = element_sizes(c.pickled);
    // One key per storage the tensors use, each once (a long list of one key repeated cost its
    // length per entry: a 4 MB file took 54 s).
    if (keys.top().items.size() > sizes.size())
        throw io_error(file.name() + ": the storage key list names " + std::to_string(keys.top().items.size()) +
                       " storages, the tensors use " + std::to_string(sizes.size()));
    for (std::size_t k : keys.top().items) {
        const pickle::value& key = keys.at(k);
        if (key.type != pickle::kind::string) throw io_error(file.name() + ": a storage key is not a string");
        if (key.text.size() > pickle::max_storage_key_bytes)
            throw io_error(file.name() + ": a storage key of " + std::to_string(key.text.size()) + " bytes");
        if (c.storages.count(key.text) != 0)
            throw io_error(file.name() + ": storage " + key.text + " is listed twice");
        const std::string what = file.name() + ": storage " + key.text;
        const auto found = sizes.find(key.text);
        const std::size_t element_size = found == sizes.end() ? 0 : found->second;
        const std::uint64_t numel = in.little_endian(8, what + " size");
        if (element_size == 0) throw io_error(what + " is used by no tensor (its element size is unknown)");
        const std::uint64_t bytes = checked_bytes(numel, element_size, what);
        if (bytes > in.remaining())
            throw io_error(what + ": truncated: " + std::to_string(bytes) + " bytes declared, " +
                           std::to_string(in.remaining()) + " left in the file");
        c.storages[key.text] = {in.position(), bytes};
        in.skip(bytes);
    }
    return c;
}

/*  Zip container: exactly one `<name>/data.pkl`; storage `key` is the entry `<name>/data/key`. */
inline container read_zip(const byte_source& file) {
    const zip::archive archive(file);
    const zip::entry* pickle_entry = nullptr;
    for (const auto& e : archive.entries()) {
        const std::size_t slash = e.name.find('/');
        if (slash == std::string::npos || e.name.substr(slash) != "/data.pkl") continue;
        if (pickle_entry) throw io_error(file.name() + ": more than one */data.pkl in the zip (not one torch.save file)");
        pickle_entry = &e;
    }
    if (!pickle_entry)
        throw io_error(file.name() + ": a zip without <name>/data.pkl: not a PyTorch file");
    const std::string prefix = pickle_entry->name.substr(0, pickle_entry->name.size() - 8);  // "<name>/"
    const slice_source pkl(file, archive.data_offset(*pickle_entry), pickle_entry->size,
                           file.name() + ": " + pickle_entry->name);
    byte_cursor in(pkl, 0);
    container c{pickle::read(in), {}};
    for (const auto& s : c.pickled.storages) {
        if (c.storages.count(s.key)) continue;
        const zip::entry* e = archive.find(prefix + "data/" + s.key);
        if (!e) throw io_error(file.name() + ": storage " + s.key + ": no entry " + prefix + "data/" + s.key);
        c.storages[s.key] = {archive.data_offset(*e), e->size};
    }
    return c;
}

// Where tensor t's storage is; io_error when the file does not hold it (a legacy key list
// without the key).
inline const storage_location& location(const container& c, const pickle::tensor_ref& t, const std::string& what) {
    const auto found = c.storages.find(t.storage.key);
    if (found == c.storages.end())
        throw io_error(what + ": its storage " + t.storage.key + " is not among the file's stored storages");
    return found->second;
}

/*  Finds, checks and reads the convolutions of a state dict into w.convs (and sets w.model). */
inline void read_vgg_convs(const byte_source& file, const container& c, model_weights& w, double max_abs) {
    std::vector<torchvision_vgg::keyed_tensor<const pickle::tensor_ref*>> tensors;
    for (const auto& [key, tensor] : state_dict_tensors(c.pickled, file.name()))
        tensors.push_back({key, tensor->size, tensor});
    torchvision_vgg::read_vgg_convs(tensors, file.name(), w, [&](const pickle::tensor_ref* t, const std::string& what) {
        return tensor_values(file, *t, location(c, *t, what), what, max_abs);
    });
}

}  // namespace detail::pytorch

/*  Reads a .pth file's VGG convolutions from `file` (whose identity is `info`).
    ensures: w.format is "PyTorch legacy" or "PyTorch zip"; w.convs in network order with nst
             names; w.convention from info.path's file name (pytorch_convention_for).
    throws:  io_error (see the file comment). */
inline model_weights read_pytorch_weights(const detail::byte_source& file, const weights_info& info,
                                          const weights_options& options = {}) {
    unsigned char head[4] = {};
    file.read(0, head, std::min<std::uint64_t>(4, file.size()), "the file's signature");
    const bool zip = head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    model_weights w;
    w.format = zip ? "PyTorch zip" : "PyTorch legacy";
    w.info = info;
    w.convention = pytorch_convention_for(info.path);
    const detail::pytorch::container c = zip ? detail::pytorch::read_zip(file) : detail::pytorch::read_legacy(file);
    detail::pytorch::read_vgg_convs(file, c, w, options.max_abs_weight);
    return w;
}

// The same for a file on disk: its SHA-256 is computed first and checked against options' pin.
inline model_weights read_pytorch_weights(const std::string& path, const weights_options& options = {}) {
    const weights_info info = detail::identify_weights(path, detail::digests_of_file(path), options);
    const detail::file_source file(path);
    return read_pytorch_weights(file, info, options);
}

// The same for bytes in memory; `name` stands for the file in messages and decides the convention.
inline model_weights read_pytorch_weights_from_memory(const void* data, std::size_t size, const std::string& name,
                                                      const weights_options& options = {}) {
    const detail::memory_source file(data, size, name);
    return read_pytorch_weights(file, detail::identify_weights(name, detail::digests_of_bytes(data, size), options),
                                options);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
