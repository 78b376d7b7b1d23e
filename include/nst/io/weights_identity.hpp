// Which weight file is being used: its SHA-256 (computed while loading), the name of the
// published file it is when nst knows that hash, and an optional pin that refuses any other.
//
//   nst::weights_options pin;
//   pin.expected_sha256 = "2540fffb...";                 // 64 hex digits
//   nst::keras_weight_file file("vgg19.h5", pin);       // throws nst::io_error on another file
//   std::cout << file.info().known_name;                 // "" when the hash is not in the table
#pragma once

#include <cctype>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "detail/read_file.hpp"
#include "detail/sha256.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// A weight file as identified at load time.
struct weights_info {
    std::string path;
    std::string sha256;      // 64 lowercase hex digits of the whole file
    std::string known_name;  // the published file with this hash; empty when unknown
};

// How to load a weight file.
struct weights_options {
    // 64 hex digits (either case): refuse any file whose SHA-256 differs. Empty: any file.
    std::string expected_sha256;
    // Refuse a file holding a weight of larger magnitude (trained VGG weights stay far below;
    // random corruption of float bytes often lands far above).
    double max_abs_weight = 1e4;
};

// A published weight file nst recognises by its SHA-256.
struct known_weight_file {
    const char* sha256;
    const char* name;
};

/*  The recognised files. To add one, append its hash (sha256sum of the file exactly as
    downloaded) and a name saying what it is and where it comes from.
    Not listed yet, because their hashes could not be computed where this table was written
    (no network): Keras' vgg19/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, torchvision's
    vgg19-dcbb9e9a.pth, neural-style-pt's vgg19-d01eb7cb.pth and Caffe's VGG-19 models (all
    readable by read_model_weights; their input convention comes from the file name). */
inline const std::vector<known_weight_file>& known_weight_files() {
    static const std::vector<known_weight_file> table = {
        {"2540fffb99d1bbf67d41e165b2c7f1564ee9864d363b36a107ed119cded883bb",
         "VGG19 ImageNet conv weights, Keras layout (the nst project's shared "
         "vgg19_imagenet_notop.h5)"},
    };
    return table;
}

// The known name of a file with this SHA-256 (lowercase hex), or "" when it is not in the table.
inline std::string known_weights_name(const std::string& sha256) {
    for (const auto& known : known_weight_files())
        if (sha256 == known.sha256) return known.name;
    return "";
}

namespace detail {

// The lowercase form of a 64-digit hex SHA-256; throws invalid_argument for anything else.
inline std::string normalized_sha256(const std::string& hex) {
    std::string lower;
    for (const char c : hex) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) break;
        lower += char(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower.size() != 64 || hex.size() != 64)
        throw invalid_argument("expected SHA-256 must be 64 hexadecimal digits, got '" + hex + "'");
    return lower;
}

// SHA-256 of a file's bytes, streamed in 1 MiB pieces; io_error naming the file if unreadable.
inline std::string sha256_of_file(const std::string& path) {
    struct closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, closer> file(std::fopen(path.c_str(), "rb"));
    if (!file) throw read_error("weight file", path, "cannot open it");
    std::vector<unsigned char> buffer(1 << 20);
    sha256 hash;
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0;)
        hash.update(buffer.data(), n);
    if (std::ferror(file.get())) throw read_error("weight file", path, "a read failed");
    return hash.hex_digest();
}

// Identifies `sha256` (the file's hash) and applies the pin in `options`.
inline weights_info identify_weights(const std::string& path, const std::string& sha256,
                                     const weights_options& options) {
    weights_info info{path, sha256, known_weights_name(sha256)};
    if (!options.expected_sha256.empty() &&
        normalized_sha256(options.expected_sha256) != info.sha256)
        throw io_error(path + ": SHA-256 is " + info.sha256 + " (" +
                       (info.known_name.empty() ? "not a known weight file" : info.known_name) +
                       "), but the weights were pinned to " + options.expected_sha256 +
                       "; refusing to load another file");
    return info;
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
