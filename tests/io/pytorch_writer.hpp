// A writer of PyTorch .pth files for tests, independent of the reader: it emits the opcodes
// torch.save emits for a state dict of float32 tensors (legacy container or zip), so full-size
// files can be made from the shared .h5 where torch is not installed (CI). The committed small
// fixtures of tests/fixtures/pytorch/ are written by torch itself and check that this writer
// and the reader agree with torch.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace nst::test::pth {

// One tensor of a state dict: key, shape and float32 values in C order.
struct tensor {
    std::string key;
    std::vector<std::uint64_t> shape;
    std::vector<float> values;
};

inline void put_le(std::string& out, std::uint64_t v, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i) out += char((v >> (8 * i)) & 0xff);
}

// Pickle protocol 2 opcodes as torch.save writes them (no memo: every value written in full).
struct pickler {
    std::string out = std::string("\x80\x02", 2);
    void text(const std::string& s) {
        out += 'X';
        put_le(out, s.size(), 4);
        out += s;
    }
    void integer(std::uint64_t v) {
        if (v < 256) { out += 'K'; put_le(out, v, 1); }
        else if (v < 65536) { out += 'M'; put_le(out, v, 2); }
        else if (v < 0x80000000u) { out += 'J'; put_le(out, v, 4); }
        else { out += '\x8a'; out += char(8); put_le(out, v, 8); }
    }
    void global(const std::string& module, const std::string& name) { out += "c" + module + "\n" + name + "\n"; }
    void tuple(const std::vector<std::uint64_t>& v) {
        out += '(';
        for (std::uint64_t i : v) integer(i);
        out += 't';
    }
    void stop() { out += '.'; }
};

// The state-dict pickle; storage i holds tensor i (key "i", after key_prefix: tests of long keys);
// legacy ids carry a 6th field None.
inline std::string state_dict_pickle(const std::vector<tensor>& tensors, bool legacy,
                                     const std::string& key_prefix = "") {
    pickler p;
    p.global("collections", "OrderedDict");
    p.out += ")R(";
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const tensor& t = tensors[i];
        p.text(t.key);
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.out += "((";
        p.text("storage");
        p.global("torch", "FloatStorage");
        p.text(key_prefix + std::to_string(i));
        p.text("cpu");
        p.integer(t.values.size());
        if (legacy) p.out += 'N';
        p.out += "tQ";  // the persistent id
        p.integer(0);   // storage offset
        p.tuple(t.shape);
        std::vector<std::uint64_t> stride(t.shape.size(), 1);
        for (std::size_t d = t.shape.size(); d-- > 1;) stride[d - 1] = stride[d] * t.shape[d];
        p.tuple(stride);
        p.out += '\x89';  // requires_grad False
        p.global("collections", "OrderedDict");
        p.out += ")Rt" "R";
    }
    p.out += 'u';
    p.stop();
    return p.out;
}

inline std::string raw_floats(const std::vector<float>& v) {
    std::string out(v.size() * 4, '\0');
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::uint32_t bits;
        std::memcpy(&bits, &v[i], 4);
        for (std::size_t b = 0; b < 4; ++b) out[4 * i + b] = char((bits >> (8 * b)) & 0xff);
    }
    return out;
}

// torch.save(..., _use_new_zipfile_serialization=False). Tests of damaged files: key_prefix as in
// state_dict_pickle, and each key listed key_copies times in the storage key list.
inline std::string legacy_file(const std::vector<tensor>& tensors, const std::string& key_prefix = "",
                               std::size_t key_copies = 1) {
    pickler magic;
    magic.out += "\x8a\x0a";
    magic.out += std::string("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
    magic.stop();
    pickler protocol;
    protocol.integer(1001);
    protocol.stop();
    pickler sys_info;
    sys_info.out += "}(";
    sys_info.text("little_endian");
    sys_info.out += "\x88u";
    sys_info.stop();
    pickler keys;
    keys.out += "](";
    for (std::size_t i = 0; i < tensors.size(); ++i)
        for (std::size_t copy = 0; copy < key_copies; ++copy) keys.text(key_prefix + std::to_string(i));
    keys.out += 'e';
    keys.stop();
    std::string out =
        magic.out + protocol.out + sys_info.out + state_dict_pickle(tensors, true, key_prefix) + keys.out;
    for (const auto& t : tensors) {
        put_le(out, t.values.size(), 8);
        out += raw_floats(t.values);
    }
    return out;
}

inline std::uint32_t crc32(const std::string& data) {
    std::uint32_t crc = 0xffffffffu;
    for (unsigned char c : data) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

// A zip of stored entries, as torch.save writes (without its 64-byte alignment padding).
inline std::string zip_file(const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string out, directory;
    for (const auto& [name, data] : entries) {
        std::string common;  // version, flags, method, time, date, crc, sizes, name length, extra length
        put_le(common, 20, 2);
        put_le(common, 0, 2);
        put_le(common, 0, 2);
        put_le(common, 0, 4);
        put_le(common, crc32(data), 4);
        put_le(common, data.size(), 4);
        put_le(common, data.size(), 4);
        put_le(common, name.size(), 2);
        put_le(common, 0, 2);
        const std::uint64_t offset = out.size();
        put_le(out, 0x04034b50, 4);
        out += common + name + data;
        put_le(directory, 0x02014b50, 4);
        put_le(directory, 20, 2);
        directory += common;
        put_le(directory, 0, 6);  // comment length, disk, internal attributes
        put_le(directory, 0, 4);  // external attributes
        put_le(directory, offset, 4);
        directory += name;
    }
    const std::uint64_t directory_offset = out.size();
    out += directory;
    put_le(out, 0x06054b50, 4);
    put_le(out, 0, 4);
    put_le(out, entries.size(), 2);
    put_le(out, entries.size(), 2);
    put_le(out, directory.size(), 4);
    put_le(out, directory_offset, 4);
    put_le(out, 0, 2);
    return out;
}

// torch.save(...) with the zip container: archive/data.pkl, archive/data/<i>, archive/version.
inline std::string zip_container(const std::vector<tensor>& tensors) {
    std::vector<std::pair<std::string, std::string>> entries{{"archive/data.pkl", state_dict_pickle(tensors, false)}};
    for (std::size_t i = 0; i < tensors.size(); ++i)
        entries.emplace_back("archive/data/" + std::to_string(i), raw_floats(tensors[i].values));
    entries.emplace_back("archive/version", "3\n");
    return zip_file(entries);
}

// torchvision's VGG19 state dict (features.0.weight ...) of weights with nst names in network
// order (as read_model_weights returns them), plus a classifier tensor readers must skip.
template <class ModelWeights> std::vector<tensor> vgg19_state_dict(const ModelWeights& w) {
    const std::size_t index[] = {0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34};
    std::vector<tensor> out;
    for (std::size_t n = 0; n < w.convs.size() && n < 16; ++n) {
        const auto& c = w.convs[n];
        const std::string key = "features." + std::to_string(index[n]);
        out.push_back({key + ".weight", {c.weights.shape(0), c.weights.shape(1), 3, 3},
                       std::vector<float>(c.weights.begin(), c.weights.end())});
        out.push_back({key + ".bias", {c.bias.size()}, std::vector<float>(c.bias.begin(), c.bias.end())});
    }
    out.push_back({"classifier.0.weight", {2, 2}, {1, 2, 3, 4}});
    return out;
}

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace nst::test::pth
