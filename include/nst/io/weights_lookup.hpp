// Where the VGG19 weights (any format read_model_weights reads) are looked for, in this order (the first existing file wins):
//   1. an explicit path (the `nst --weights` option, stylize_options::weights) - never skipped:
//      if it is given and missing, that is the error;
//   2. the environment variable NST_WEIGHTS - never skipped either: set to a path that is not a
//      file (a typo, a folder), that is the error, not a quiet fall back to another file;
//   3. Keras' cache: ~/.keras/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
//      (where keras.applications.VGG19 and cmake/fetch_weights.cmake put the file);
//   4. PyTorch's cache: $TORCH_HOME/hub/checkpoints/ (TORCH_HOME defaults to
//      ${XDG_CACHE_HOME:-~/.cache}/torch, as in torch.hub), files vgg19-dcbb9e9d.pth
//      (torchvision) then vgg19-d01eb7cb.pth (neural-style-pt);
//   5. ./models/ (where neural-style-pt and neural-style download theirs): vgg19-d01eb7cb.pth,
//      then VGG_ILSVRC_19_layers.caffemodel;
//   6. a data directory given by the caller (the `nst --data-dir` option, defaulting to the CMake
//      setting NST_DATA_DIR compiled into the program): <dir>/weights/vgg19_imagenet_notop.h5,
//      then <dir>/weights/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5.
// When nothing exists, the io_error lists every place looked at and how to get the file.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

inline constexpr const char* keras_vgg19_notop_file = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5";
inline constexpr const char* keras_vgg19_notop_url =
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5";
inline constexpr const char* torchvision_vgg19_file = "vgg19-dcbb9e9d.pth";
inline constexpr const char* torchvision_vgg19_url = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth";
inline constexpr const char* neural_style_pt_vgg19_file = "vgg19-d01eb7cb.pth";
inline constexpr const char* caffe_vgg19_file = "VGG_ILSVRC_19_layers.caffemodel";

// PyTorch's hub checkpoint folder as torch.hub computes it ("" when neither TORCH_HOME,
// XDG_CACHE_HOME nor HOME is set).
inline std::string torch_hub_checkpoints() {
    const auto env = [](const char* name) {
        const char* v = std::getenv(name);
        return std::string(v && *v ? v : "");
    };
    std::string torch_home = env("TORCH_HOME");
    if (torch_home.empty()) {
        std::string cache = env("XDG_CACHE_HOME");
        if (cache.empty() && !env("HOME").empty()) cache = env("HOME") + "/.cache";
        if (!cache.empty()) torch_home = cache + "/torch";
    }
    return torch_home.empty() ? "" : torch_home + "/hub/checkpoints";
}

// One candidate location: the path ("" when the source is unset) and where it came from.
struct weights_candidate {
    std::string path;
    std::string source;
};

// The candidates of steps 2-4 above, in order (unset sources included, with an empty path).
inline std::vector<weights_candidate> vgg19_weights_candidates(const std::string& data_dir) {
    std::vector<weights_candidate> out;
    const char* env = std::getenv("NST_WEIGHTS");
    out.push_back({env && *env ? env : "", "$NST_WEIGHTS"});
    const char* home = std::getenv("HOME");
    out.push_back({home && *home ? std::string(home) + "/.keras/models/" + keras_vgg19_notop_file : "",
                   "Keras cache"});
    const std::string hub = torch_hub_checkpoints();
    for (const char* file : {torchvision_vgg19_file, neural_style_pt_vgg19_file})
        out.push_back({hub.empty() ? "" : hub + "/" + file, "PyTorch cache"});
    for (const char* file : {neural_style_pt_vgg19_file, caffe_vgg19_file})
        out.push_back({std::string("models/") + file, "./models"});
    if (!data_dir.empty()) {
        out.push_back({data_dir + "/weights/vgg19_imagenet_notop.h5", "data directory"});
        out.push_back({data_dir + "/weights/" + keras_vgg19_notop_file, "data directory"});
    }
    return out;
}

namespace detail {
// `path` when it is a regular file. throws: io_error naming it and `from` (where the path came from).
inline std::string required_weights_file(const std::string& path, const std::string& from) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path;
    throw io_error("VGG19 weights file '" + path + "'" + from + " " +
                   (std::filesystem::exists(path, ec) ? "is not a regular file" : "does not exist"));
}
}  // namespace detail

/*  The weights file to use (see the file comment for the order).
    ensures: returns an existing regular file's path.
    throws:  io_error when explicit_path (or else $NST_WEIGHTS) is given but is not a file, or when
             no candidate exists; the message lists every place looked at and how to get the weights. */
inline std::string find_vgg19_weights(const std::string& explicit_path, const std::string& data_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!explicit_path.empty()) return detail::required_weights_file(explicit_path, "");
    if (const char* env = std::getenv("NST_WEIGHTS"); env && *env)
        return detail::required_weights_file(env, " (from $NST_WEIGHTS; unset it to look in the usual places)");
    std::string looked;
    for (const auto& c : vgg19_weights_candidates(data_dir)) {
        if (!c.path.empty() && fs::is_regular_file(c.path, ec)) return c.path;
        looked += (looked.empty() ? "" : "; ") + c.source + " " + (c.path.empty() ? "(not set)" : c.path);
    }
    if (data_dir.empty()) looked += "; data directory (not set)";
    throw io_error("VGG19 weights not found. Looked at: " + looked +
                   ". Get them with `cmake -P cmake/fetch_weights.cmake` (nst's; installed beside "
                   "nstConfig.cmake; downloads Keras' " +
                   keras_vgg19_notop_file + " into ~/.keras/models), or download " +
                   keras_vgg19_notop_url + " or torchvision's " + torchvision_vgg19_url +
                   " (into ~/.cache/torch/hub/checkpoints) yourself, or give the path (nst --weights PATH, "
                   "stylize_options::weights) or set NST_WEIGHTS");
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
