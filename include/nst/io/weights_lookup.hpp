// Where the VGG19 weights are looked for, in this order (the first existing file wins):
//   1. an explicit path (the `nst --weights` option, stylize_options::weights) - never skipped:
//      if it is given and missing, that is the error;
//   2. the environment variable NST_WEIGHTS;
//   3. Keras' cache: ~/.keras/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
//      (where keras.applications.VGG19 and cmake/fetch_weights.cmake put the file);
//   4. a data directory given by the caller (the `nst --data-dir` option, defaulting to the CMake
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
    if (!data_dir.empty()) {
        out.push_back({data_dir + "/weights/vgg19_imagenet_notop.h5", "data directory"});
        out.push_back({data_dir + "/weights/" + keras_vgg19_notop_file, "data directory"});
    }
    return out;
}

/*  The weights file to use (see the file comment for the order).
    ensures: returns an existing regular file's path.
    throws:  io_error when explicit_path is given but is not a file, or when no candidate exists;
             the message lists every place looked at and how to get the weights. */
inline std::string find_vgg19_weights(const std::string& explicit_path, const std::string& data_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!explicit_path.empty()) {
        if (fs::is_regular_file(explicit_path, ec)) return explicit_path;
        throw io_error("VGG19 weights file '" + explicit_path + "' " +
                       (fs::exists(explicit_path, ec) ? "is not a regular file" : "does not exist"));
    }
    std::string looked;
    for (const auto& c : vgg19_weights_candidates(data_dir)) {
        if (!c.path.empty() && fs::is_regular_file(c.path, ec)) return c.path;
        looked += (looked.empty() ? "" : "; ") + c.source + " " + (c.path.empty() ? "(not set)" : c.path);
    }
    if (data_dir.empty()) looked += "; data directory (not set)";
    throw io_error("VGG19 weights not found. Looked at: " + looked +
                   ". Get them with `cmake -P cmake/fetch_weights.cmake` (downloads Keras' " +
                   keras_vgg19_notop_file + " into ~/.keras/models), or download " +
                   keras_vgg19_notop_url + " yourself and pass --weights PATH or set NST_WEIGHTS");
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
