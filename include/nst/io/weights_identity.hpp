// Which weight file is being used: its SHA-256 (computed while loading; the MD5 too when its size
// is that of a file published with an MD5), the name of the published file it is when its
// digests are those its publisher gives, and an optional pin that refuses any other.
//
//   nst::weights_options pin;
//   pin.expected_sha256 = "2540fffb...";                 // 64 hex digits
//   nst::keras_weight_file file("vgg19.h5", pin);       // throws nst::io_error on another file
//   std::cout << file.info().known_name;                 // "" when the file is not in the table
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>
#include <string>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "detail/md5.hpp"
#include "detail/read_file.hpp"
#include "detail/sha256.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// A weight file as identified at load time.
struct weights_info {
    std::string path;
    std::string sha256;      // 64 lowercase hex digits of the whole file
    std::string known_name;  // the published file with these digests; empty when unknown
    std::uint64_t size = 0;  // bytes
    std::string md5;         // 32 lowercase hex digits, computed only when `size` is that of a
                             // file nst knows by MD5 (it costs ~0.13 s per 80 MB); else empty
};

// How to load a weight file.
struct weights_options {
    // 64 hex digits (either case): refuse any file whose SHA-256 differs. Empty: any file.
    std::string expected_sha256;
    // Refuse a file holding a weight of larger magnitude (trained VGG weights stay far below;
    // random corruption of float bytes often lands far above).
    double max_abs_weight = 1e4;
};

// A file's size and digests, as the loaders compute them in one pass over its bytes.
struct file_digests {
    std::uint64_t size = 0;
    std::string sha256;  // 64 lowercase hex digits
    std::string md5;     // 32 lowercase hex digits, or empty when not computed
};

// Which digest a publisher gives for its file (and its own downloader checks).
enum class digest_kind {
    sha256,         // the full SHA-256
    sha256_prefix,  // the first hex digits of the SHA-256, in the file's name (torch.hub style)
    md5,            // the MD5 (Keras' get_file(..., file_hash=...) with 32 hex digits)
};

// A published weight file nst recognises.
struct known_weight_file {
    digest_kind kind;
    const char* digest;  // lowercase hex, as published
    std::uint64_t size;  // bytes as published; 0 when not published (required for md5 entries)
    const char* name;
};

/*  The recognised files: only digests their publishers (or, for a full SHA-256 behind a
    published prefix, two independent public listings) give; never one computed here from a
    copy of unknown origin. Sources, checked 2026-11-30:
    - Keras (keras/applications/vgg19.py, vgg16.py): MD5 in get_file(..., file_hash=...); the
      sizes are those of Keras' download log ("80134624/80134624" etc.) in its published docs.
    - torchvision (torchvision/models/vgg.py): the URL's name carries the SHA-256's first 8 hex
      digits, which torch.hub checks; the full SHA-256 and size are listed alike by several
      independent public manifests that pin these downloads.
    - J. Johnson's pytorch-vgg (the Caffe VGG models converted to PyTorch; README and
      t7_to_state_dict.py, which names the file after the first 8 hex digits of its sha256sum):
      only that prefix is published. neural-style-pt's models/download_models.py downloads
      these files but saves its own copy (torch.save after renaming the classifier keys) under
      the same name: that copy's bytes depend on the torch version, nothing publishes its
      digest, so it is not recognised (the CLI's notice names its SHA-256).
    - Not listed: Caffe's VGG_ILSVRC_19_layers.caffemodel and VGG_ILSVRC_16_layers.caffemodel
      (their model-zoo gists ksimonyan/3785162f95cd2d5fee77 and 211839e770f7b538e2d8 carry no
      sha1 line, and no other digest from their publisher was found).
    - The nst project's shared file: its SHA-256 and size, computed from the file itself.
    An 8-digit prefix tells files apart by 32 bits: enough to name a file, not to trust one
    (pin the full SHA-256 with --weights-sha256 for that). */
inline const std::vector<known_weight_file>& known_weight_files() {
    static const std::vector<known_weight_file> table = {
        {digest_kind::sha256, "2540fffb99d1bbf67d41e165b2c7f1564ee9864d363b36a107ed119cded883bb",
         80155320,
         "VGG19 ImageNet conv weights, Keras layout, conv4/conv5 kernels 8-bit-rebuilt (the nst "
         "project's shared vgg19_imagenet_notop.h5)"},
        {digest_kind::md5, "253f8cb515780f3b799900260a226db6", 80134624,
         "VGG19 ImageNet weights without the classifier, Keras' published "
         "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"},
        {digest_kind::md5, "cbe5617147190e668d6c5d5026f83318", 574710816,
         "VGG19 ImageNet weights with the classifier, Keras' published "
         "vgg19_weights_tf_dim_ordering_tf_kernels.h5"},
        {digest_kind::md5, "6d6bbae143d832006294945121d1f1fc", 58889256,
         "VGG16 ImageNet weights without the classifier, Keras' published "
         "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"},
        {digest_kind::md5, "64373286793e3c8b2b4e3219cbf3544b", 553467096,
         "VGG16 ImageNet weights with the classifier, Keras' published "
         "vgg16_weights_tf_dim_ordering_tf_kernels.h5"},
        {digest_kind::sha256, "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44",
         574673361, "VGG19 ImageNet weights, torchvision's published vgg19-dcbb9e9d.pth"},
        {digest_kind::sha256, "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
         553433881, "VGG16 ImageNet weights, torchvision's published vgg16-397923af.pth"},
        {digest_kind::sha256_prefix, "d01eb7cb", 0,
         "VGG19 Caffe weights in PyTorch, pytorch-vgg's published vgg19-d01eb7cb.pth (as "
         "neural-style-pt downloads it; recognised by its 8-digit SHA-256 prefix)"},
        {digest_kind::sha256_prefix, "00b39a1b", 0,
         "VGG16 Caffe weights in PyTorch, pytorch-vgg's published vgg16-00b39a1b.pth (as "
         "neural-style-pt downloads it; recognised by its 8-digit SHA-256 prefix)"},
    };
    return table;
}

// Whether `file` is the published file `known` (its size too, when published).
inline bool is_known_file(const known_weight_file& known, const file_digests& file) {
    if (known.size != 0 && known.size != file.size) return false;
    const std::string digest = known.digest;
    switch (known.kind) {
    case digest_kind::sha256: return file.sha256 == digest;
    case digest_kind::sha256_prefix: return file.sha256.compare(0, digest.size(), digest) == 0;
    case digest_kind::md5: return !file.md5.empty() && file.md5 == digest;
    }
    return false;
}

// The known name of the file with these digests, or "" when `table` does not know it.
inline std::string known_weights_name(const file_digests& file,
                                      const std::vector<known_weight_file>& table = known_weight_files()) {
    for (const auto& known : table)
        if (is_known_file(known, file)) return known.name;
    return "";
}

// Whether a file of `size` bytes needs its MD5: only when `table` knows a file of that size by
// MD5 (for any other size the MD5 could not name it, and would cost ~0.13 s per 80 MB).
inline bool needs_md5(std::uint64_t size, const std::vector<known_weight_file>& table = known_weight_files()) {
    for (const auto& known : table)
        if (known.kind == digest_kind::md5 && known.size == size) return true;
    return false;
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

// The digests a weight file is recognised by, fed its bytes in pieces (one pass over them):
// the SHA-256 always, the MD5 when the file's size asks for it (needs_md5).
class weights_hasher {
public:
    explicit weights_hasher(std::uint64_t size,
                            const std::vector<known_weight_file>& table = known_weight_files())
        : with_md5_(needs_md5(size, table)) {}

    void update(const void* data, std::size_t n) {
        sha256_.update(data, n);
        if (with_md5_) md5_.update(data, n);
        size_ += n;
    }

    // The digests of the bytes fed (size: their count). Ends the stream: call once.
    file_digests digests() {
        return file_digests{size_, sha256_.hex_digest(), with_md5_ ? md5_.hex_digest() : ""};
    }

private:
    sha256 sha256_;
    md5 md5_;
    bool with_md5_;
    std::uint64_t size_ = 0;
};

// The digests of a file's bytes, streamed in 1 MiB pieces; io_error naming the file if unreadable.
inline file_digests digests_of_file(const std::string& path,
                                    const std::vector<known_weight_file>& table = known_weight_files()) {
    struct closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, closer> file(std::fopen(path.c_str(), "rb"));
    if (!file) throw read_error("weight file", path, "cannot open it");
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);  // decides on the MD5 only
    weights_hasher hash(ec ? 0 : std::uint64_t(size), table);
    std::vector<unsigned char> buffer(1 << 20);
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0;)
        hash.update(buffer.data(), n);
    if (std::ferror(file.get())) throw read_error("weight file", path, "a read failed");
    return hash.digests();
}

// The digests of a file image held in memory.
inline file_digests digests_of_bytes(const void* data, std::size_t size) {
    weights_hasher hash(size);
    hash.update(data, size);
    return hash.digests();
}

// SHA-256 of a file's bytes (digests_of_file without the MD5).
inline std::string sha256_of_file(const std::string& path) { return digests_of_file(path, {}).sha256; }

// Identifies the file with these digests and applies the pin in `options`.
inline weights_info identify_weights(const std::string& path, const file_digests& digests,
                                     const weights_options& options) {
    weights_info info{path, digests.sha256, known_weights_name(digests), digests.size, digests.md5};
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
