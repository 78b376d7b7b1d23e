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
//   5. Hugging Face's cache: timm's vgg19.tv_in1k (torchvision's weights as safetensors) at
//      <hub>/models--timm--vgg19.tv_in1k/snapshots/<revision>/model.safetensors, where <hub> is
//      $HF_HUB_CACHE, else $HF_HOME/hub, else ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub (as
//      huggingface_hub computes it) and <revision> the one refs/main names, else the first by name;
//   6. ./models/ (where neural-style-pt and neural-style download theirs): vgg19-d01eb7cb.pth,
//      then VGG_ILSVRC_19_layers.caffemodel;
//   7. a data directory given by the caller (the `nst --data-dir` option, defaulting to the CMake
//      setting NST_DATA_DIR compiled into the program): <dir>/weights/vgg19_imagenet_notop.h5,
//      then <dir>/weights/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5.
// When nothing exists, the io_error lists every place looked at and how to get the file.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
inline constexpr const char* timm_vgg19_repo = "timm/vgg19.tv_in1k";

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

// Hugging Face's hub cache folder as huggingface_hub computes it ("" when none of HF_HUB_CACHE,
// HF_HOME, XDG_CACHE_HOME and HOME is set).
inline std::string hugging_face_hub_cache() {
    const auto env = [](const char* name) {
        const char* v = std::getenv(name);
        return std::string(v && *v ? v : "");
    };
    if (!env("HF_HUB_CACHE").empty()) return env("HF_HUB_CACHE");
    std::string hf_home = env("HF_HOME");
    if (hf_home.empty()) {
        std::string cache = env("XDG_CACHE_HOME");
        if (cache.empty() && !env("HOME").empty()) cache = env("HOME") + "/.cache";
        if (!cache.empty()) hf_home = cache + "/huggingface";
    }
    return hf_home.empty() ? "" : hf_home + "/hub";
}

/*  The model.safetensors of a Hugging Face repo ("owner/name") in the hub cache `hub`: in the
    snapshot refs/main names when it has one, else in the first snapshot by name that has one;
    when none has, the pattern (for the list of places looked at). */
inline std::string hugging_face_cached_file(const std::string& hub, const std::string& repo) {
    namespace fs = std::filesystem;
    std::string base = hub + "/models--";  // owner/name -> models--owner--name
    for (const char c : repo) base += c == '/' ? std::string("--") : std::string(1, c);
    std::error_code ec;
    std::string main_revision;
    std::ifstream(base + "/refs/main") >> main_revision;
    if (!main_revision.empty() && fs::is_regular_file(base + "/snapshots/" + main_revision + "/model.safetensors", ec))
        return base + "/snapshots/" + main_revision + "/model.safetensors";
    std::vector<std::string> found;
    for (fs::directory_iterator it(base + "/snapshots", ec), end; !ec && it != end; it.increment(ec))
        if (fs::is_regular_file(it->path() / "model.safetensors", ec)) found.push_back((it->path() / "model.safetensors").string());
    if (!found.empty()) return *std::min_element(found.begin(), found.end());
    return base + "/snapshots/*/model.safetensors";
}

// One candidate location: the path ("" when the source is unset) and where it came from.
struct weights_candidate {
    std::string path;
    std::string source;
};

// The candidates of steps 2-7 above, in order (unset sources included, with an empty path).
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
    const std::string hf_hub = hugging_face_hub_cache();
    out.push_back({hf_hub.empty() ? "" : hugging_face_cached_file(hf_hub, timm_vgg19_repo), "Hugging Face cache"});
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
                   " (into ~/.cache/torch/hub/checkpoints) yourself, or fetch " + std::string(timm_vgg19_repo) +
                   " from the Hugging Face hub, or give the path (nst --weights PATH, "
                   "stylize_options::weights) or set NST_WEIGHTS");
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
