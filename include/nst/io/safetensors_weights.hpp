// safetensors weight files of VGG19/VGG16 (Hugging Face's timm/vgg19.tv_in1k and
// timm/vgg16.tv_in1k model.safetensors, torchvision's ImageNet weights converted; or any
// safetensors.torch.save_file(vgg.state_dict(), ...)).
//
//   nst::model_weights w = nst::read_safetensors_weights("model.safetensors");
//   nst::load_model_weights(net, w);          // w.convention is torchvision
//
// The format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of UTF-8
// JSON, then the data buffer. The JSON is an object mapping each tensor's name to
// {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (offsets into the data buffer,
// end exclusive), plus an optional "__metadata__" object of string values. Data is little-endian,
// C order. Read strictly, as the format's rules say: the JSON starts with '{' and may be padded
// with trailing spaces; N is at most 100 MB (the reference implementation's limit); no key
// twice; each tensor's bytes are exactly its element count times its dtype's size, within the
// buffer; the tensors, by offset, cover the buffer without gap or overlap (no hidden bytes, no
// polyglot files). Tensor info holds those three fields and nothing else.
//
// Keys are torchvision's layout (`features.N.weight/.bias`, optionally prefixed `module.`,
// mapped as io/detail/torchvision_vgg.hpp says; the indices tell VGG19 from VGG16). VGG
// tensors may be F32, F16, BF16 or F64 (converted to float); every other tensor (classifier.*,
// timm's pre_logits.* and head.*) is checked for its place in the buffer but never decoded.
// Convention: torchvision's RGB 0..1 normalised input, as for .pth files of this layout
// (stylize_options::weights_preprocessing overrides).
//
// Errors: io_error starting with the file's path, naming the tensor key for a malformed entry,
// and the key, nst layer and both shapes for a mis-shaped VGG tensor.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "detail/byte_source.hpp"
#include "detail/float_bits.hpp"
#include "detail/json.hpp"
#include "detail/torchvision_vgg.hpp"
#include "detail/weight_value.hpp"
#include "model_weights.hpp"
#include "weights_identity.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail::safetensors {

// The reference implementation refuses longer headers (a length field read from a damaged or
// foreign file must not make nst allocate gigabytes).
inline constexpr std::uint64_t max_header_bytes = 100'000'000;

// Whether a file's first bytes look like safetensors: a plausible header length and '{' after it.
inline bool looks_like_safetensors(const unsigned char* head, std::size_t n) {
    if (n < 9 || head[8] != '{') return false;
    std::uint64_t length = 0;
    for (std::size_t i = 8; i-- > 0;) length = (length << 8) | head[i];
    return length >= 2 && length <= max_header_bytes;
}

// Byte size of an element of each dtype the format defines in whole bytes; 0 for other names.
inline std::size_t dtype_size(const std::string& dtype) {
    static const std::pair<const char*, std::size_t> sizes[] = {
        {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
        {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
        {"F32", 4},  {"I64", 8}, {"U64", 8}, {"F64", 8}};
    for (const auto& [name, size] : sizes)
        if (dtype == name) return size;
    return 0;
}

struct tensor_entry {
    std::string key;  // as in the file
    std::string dtype;
    std::size_t element_size = 0;
    std::vector<std::uint64_t> shape;
    std::uint64_t begin = 0, end = 0;  // in the data buffer
};

struct header {
    std::vector<tensor_entry> tensors;  // in the header's order
    std::uint64_t data_start = 0;       // file offset of the data buffer
};

inline tensor_entry parse_entry(const std::string& key, const json::value& info, const std::string& file) {
    const std::string what = file + ": tensor \"" + key + "\"";
    if (info.type != json::kind::object)
        throw io_error(what + ": its info is " + json::kind_name(info.type) + ", not an object");
    tensor_entry t;
    t.key = key;
    bool has_dtype = false, has_shape = false, has_offsets = false;
    for (std::size_t i = 0; i < info.keys.size(); ++i) {
        const std::string& field = info.keys[i];
        const json::value& v = info.items[i];
        if (field == "dtype") {
            if (v.type != json::kind::string)
                throw io_error(what + ": dtype is " + json::kind_name(v.type) + ", not a string");
            t.dtype = v.text;
            t.element_size = dtype_size(v.text);
            if (t.element_size == 0) throw io_error(what + ": unknown or unsupported dtype \"" + v.text + "\"");
            has_dtype = true;
        } else if (field == "shape" || field == "data_offsets") {
            if (v.type != json::kind::array)
                throw io_error(what + ": " + field + " is " + json::kind_name(v.type) + ", not an array");
            std::vector<std::uint64_t> numbers;
            for (const json::value& d : v.items) {
                std::uint64_t n = 0;
                if (!json::to_u64(d, n))
                    throw io_error(what + ": " + field + " holds " +
                                   (d.type == json::kind::number ? d.text : json::kind_name(d.type)) +
                                   ", not a non-negative integer");
                numbers.push_back(n);
            }
            if (field == "shape") {
                t.shape = std::move(numbers);
                has_shape = true;
            } else {
                if (numbers.size() != 2)
                    throw io_error(what + ": data_offsets has " + std::to_string(numbers.size()) +
                                   " numbers, not 2 (begin, end)");
                t.begin = numbers[0];
                t.end = numbers[1];
                has_offsets = true;
            }
        } else {
            throw io_error(what + ": unknown field \"" + field + "\" (dtype, shape and data_offsets only)");
        }
    }
    if (!has_dtype || !has_shape || !has_offsets)
        throw io_error(what + ": " + (!has_dtype ? "dtype" : !has_shape ? "shape" : "data_offsets") + " is missing");
    if (t.begin > t.end)
        throw io_error(what + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                       "] end before they begin");
    // Element count times element size, with overflow refused (dims of 2^40 each would wrap).
    std::uint64_t bytes = t.element_size;
    for (const std::uint64_t d : t.shape) {
        if (d != 0 && bytes > UINT64_MAX / d)
            throw io_error(what + ": shape " + torchvision_vgg::dims_string(t.shape) + " is implausibly large");
        bytes *= d;
    }
    if (bytes != t.end - t.begin)
        throw io_error(what + ": " + t.dtype + " " + torchvision_vgg::dims_string(t.shape) + " needs " +
                       std::to_string(bytes) + " bytes, data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "] hold " +
                       std::to_string(t.end - t.begin));
    return t;
}

/*  Reads and checks the header (see the file comment).
    throws: io_error naming the file (and the tensor key) for any breach of the format's rules. */
inline header read_header(const byte_source& file) {
    unsigned char length_bytes[8];
    file.read(0, length_bytes, 8, "the 8-byte header length");
    std::uint64_t n = 0;
    for (std::size_t i = 8; i-- > 0;) n = (n << 8) | length_bytes[i];
    if (n > max_header_bytes)
        throw io_error(file.name() + ": a safetensors header of " + std::to_string(n) + " bytes (more than the " +
                       std::to_string(max_header_bytes) + " the format allows: damaged or not safetensors)");
    if (n > file.size() - 8)
        throw io_error(file.name() + ": truncated: the safetensors header of " + std::to_string(n) +
                       " bytes runs past the end of the file (" + std::to_string(file.size()) + " bytes)");
    std::string text(static_cast<std::size_t>(n), '\0');
    file.read(8, text.data(), text.size(), "the safetensors header");
    if (text.empty() || text[0] != '{')
        throw io_error(file.name() + ": the safetensors header does not start with '{'");
    const json::value top = json::parse(text, file.name() + ": the safetensors header");
    if (top.type != json::kind::object) throw io_error(file.name() + ": the safetensors header is not a JSON object");

    header h;
    h.data_start = 8 + n;
    const std::uint64_t data_size = file.size() - h.data_start;
    for (std::size_t i = 0; i < top.keys.size(); ++i) {
        const std::string& key = top.keys[i];
        if (key == "__metadata__") {
            const json::value& m = top.items[i];
            if (m.type != json::kind::object)
                throw io_error(file.name() + ": __metadata__ is " + json::kind_name(m.type) + ", not an object");
            for (std::size_t j = 0; j < m.keys.size(); ++j)
                if (m.items[j].type != json::kind::string)
                    throw io_error(file.name() + ": __metadata__ \"" + m.keys[j] + "\" is " +
                                   json::kind_name(m.items[j].type) + ", not a string");
            continue;
        }
        tensor_entry t = parse_entry(key, top.items[i], file.name());
        if (t.end > data_size)
            throw io_error(file.name() + ": tensor \"" + key + "\": data_offsets [" + std::to_string(t.begin) + ", " +
                           std::to_string(t.end) + "] out of range: the data buffer has " + std::to_string(data_size) +
                           " bytes");
        h.tensors.push_back(std::move(t));
    }
    // By offset, the tensors must tile the buffer exactly.
    std::vector<const tensor_entry*> order;
    for (const auto& t : h.tensors) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(), [](const tensor_entry* a, const tensor_entry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    std::uint64_t covered = 0;
    const tensor_entry* previous = nullptr;
    for (const tensor_entry* t : order) {
        if (t->begin < covered)
            throw io_error(file.name() + ": tensor \"" + t->key + "\": data_offsets [" +
                           std::to_string(t->begin) + ", " + std::to_string(t->end) + "] overlap tensor \"" + previous->key + "\" (ending at " +
                           std::to_string(covered) + ")");
        if (t->begin > covered)
            throw io_error(file.name() + ": bytes " + std::to_string(covered) + ".." + std::to_string(t->begin) +
                           " of the data buffer belong to no tensor (before tensor \"" + t->key +
                           "\"): the tensors must cover the buffer");
        covered = t->end;
        previous = t;
    }
    if (covered != data_size)
        throw io_error(file.name() + ": bytes " + std::to_string(covered) + ".." + std::to_string(data_size) +
                       " of the data buffer belong to no tensor (after the last): the tensors must cover the buffer");
    return h;
}

/*  A VGG tensor's values as float, each checked (finite, |v| <= max_abs).
    requires: t's shape has been checked (its byte size is small). */
inline std::vector<float> tensor_values(const byte_source& file, const header& h, const tensor_entry& t,
                                        const std::string& what, double max_abs) {
    const bool bfloat = t.dtype == "BF16";
    if (t.dtype != "F32" && t.dtype != "F16" && !bfloat && t.dtype != "F64")
        throw io_error(what + ": stored as " + t.dtype + ", not a float type (F32, F16, BF16 or F64)");
    std::vector<unsigned char> raw(static_cast<std::size_t>(t.end - t.begin));
    file.read(h.data_start + t.begin, raw.data(), raw.size(), what);
    std::vector<float> out(raw.size() / t.element_size);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double v = decode_element(raw.data() + i * t.element_size, t.element_size, bfloat);
        check_weight_value(v, i, max_abs, what);
        out[i] = float(v);
    }
    return out;
}

}  // namespace detail::safetensors

/*  Reads a safetensors file's VGG convolutions from `file` (whose identity is `info`).
    ensures: w.format "safetensors"; w.convs in network order with nst names; w.model "vgg19",
             "vgg16" or "" (a prefix common to both); w.convention torchvision.
    throws:  io_error (see the file comment). */
inline model_weights read_safetensors_weights(const detail::byte_source& file, const weights_info& info,
                                              const weights_options& options = {}) {
    namespace st = detail::safetensors;
    const st::header h = st::read_header(file);
    model_weights w;
    w.format = "safetensors";
    w.info = info;
    w.convention = input_convention::torchvision;
    std::vector<detail::torchvision_vgg::keyed_tensor<const st::tensor_entry*>> tensors;
    for (const auto& t : h.tensors)
        tensors.push_back({detail::torchvision_vgg::without_module_prefix(t.key), t.shape, &t});
    const auto values = [&](const st::tensor_entry* t, const std::string& what) {
        return st::tensor_values(file, h, *t, what, options.max_abs_weight);
    };
    detail::torchvision_vgg::read_vgg_convs(tensors, file.name(), w, values);
    return w;
}

// The same for a file on disk: its SHA-256 is computed first and checked against options' pin.
inline model_weights read_safetensors_weights(const std::string& path, const weights_options& options = {}) {
    const weights_info info = detail::identify_weights(path, detail::digests_of_file(path), options);
    const detail::file_source file(path);
    return read_safetensors_weights(file, info, options);
}

// The same for bytes in memory; `name` stands for the file in messages.
inline model_weights read_safetensors_weights_from_memory(const void* data, std::size_t size, const std::string& name,
                                                          const weights_options& options = {}) {
    const detail::memory_source file(data, size, name);
    return read_safetensors_weights(file, detail::identify_weights(name, detail::digests_of_bytes(data, size), options),
                                    options);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
