// Keras HDF5 weight files (what `model.save_weights("x.h5")` writes, e.g. Keras' published
// vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5) loaded into nst networks.
//
//   nst::vgg19<float> net;
//   nst::load_vgg19_weights(net, "vgg19_imagenet_notop.h5");   // throws nst::io_error
//
// The file is navigated the way Keras itself reads it, never by hard-coded dataset paths:
//   - the attribute `layer_names` (on the root, or on `/model_weights` in a full-model file;
//     Keras splits long lists into `layer_names0`, `layer_names1`, ...) lists the layers;
//   - each layer's group has the attribute `weight_names` whose entries (kernel first, bias
//     second) are dataset paths relative to that group: "block1_conv1/kernel:0" in newer
//     files, "block1_conv1_W_1:0" in older ones. Fixed- and variable-length strings both work.
// A conv kernel is stored (3, 3, C_in, C_out) = (row, column, input, output channel); nst keeps
// (C_out, C_in, 3, 3), so it is transposed on load. Bias is (C_out,).
//
// Types: Keras writes float32. float64 and float16 datasets are accepted and converted by HDF5
// (the same weights at another precision); integer, string or other types are rejected, as are
// NaN/Inf values. Values are converted to the network's scalar type (float or double).
//
// Errors: every failure is an nst::io_error whose message starts with the file path and names
// the layer and, for a shape or type mismatch, both shapes, e.g.
//   vgg19.h5: layer block3_conv2 kernel: expected 3 x 3 x 256 x 256 float32, got 3 x 3 x 128 x 256 float32
// HDF5's own error printing is silenced during these calls; its innermost message is appended.
//
// Trust: the file's SHA-256 is computed while opening (weights_info: path, hash, the name of a
// known published file); weights_options can pin the hash and bounds every value (non-finite
// values and |w| > 1e4 are refused, naming the layer and the value).
//
// Thread safety: loads may run concurrently from any number of threads, on the same or
// different files, and a keras_weight_file may be shared by threads: every HDF5 call holds
// one process-wide mutex (hdf5_mutex(); Debian's libhdf5 is the non-thread-safe build), while
// hashing and the transposition into nst's layout run in parallel.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../layers/layer_traits.hpp"
#include "detail/hdf5.hpp"
#include "detail/network_match.hpp"
#include "weights_identity.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// Keras' name of an nst VGG layer: "conv4_2" -> "block4_conv2". Other names pass unchanged,
// so a network whose layers already carry Keras names loads with the same function.
inline std::string keras_vgg_layer_name(const std::string& nst_name) {
    // conv<B>_<I> with B, I decimal numbers.
    const std::string prefix = "conv";
    if (nst_name.compare(0, prefix.size(), prefix) != 0) return nst_name;
    const std::size_t underscore = nst_name.find('_', prefix.size());
    if (underscore == std::string::npos || underscore == prefix.size() ||
        underscore + 1 == nst_name.size())
        return nst_name;
    auto all_digits = [](std::string_view s) {
        for (const char c : s)
            if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        return true;
    };
    const std::string block = nst_name.substr(prefix.size(), underscore - prefix.size());
    const std::string index = nst_name.substr(underscore + 1);
    if (!all_digits(block) || !all_digits(index)) return nst_name;
    return "block" + block + "_conv" + index;
}

// One dataset of a Keras file, for listings.
struct keras_weight_info {
    std::string name;                // as written in weight_names, e.g. "block1_conv1/kernel:0"
    std::vector<std::size_t> shape;  // as stored, e.g. {3, 3, 3, 64}
    std::string dtype;               // "float32", "float64", "int32", ...
};
// One layer of a Keras file, in layer_names order; weights is empty for input/pool layers.
struct keras_layer_info {
    std::string name;
    std::vector<keras_weight_info> weights;
};

// A conv3x3 layer's parameters in nst's layout.
template <class T> struct conv3x3_weights {
    tensor4<T> weights;  // C_out x C_in x 3 x 3
    tensor1<T> bias;     // C_out
};

// An open Keras HDF5 weight file (read-only). Movable, not copyable; closes on destruction.
class keras_weight_file {
public:
    // Opens `path` and reads its layer list. The file's SHA-256 is computed first (streamed)
    // and checked against options.expected_sha256, so a pinned file that differs never reaches
    // HDF5's parser; info() tells which file it is.
    // Throws io_error for: a missing file, a directory, a hash other than the pinned one, a
    // file without the HDF5 signature, a truncated or damaged HDF5 file, and an HDF5 file
    // without Keras' `layer_names`; invalid_argument for a pin that is not 64 hex digits.
    explicit keras_weight_file(std::string path, const weights_options& options = {})
        : path_(std::move(path)), max_abs_weight_(options.max_abs_weight) {
        namespace fs = std::filesystem;
        std::error_code ec;
        const fs::file_status status = fs::status(path_, ec);
        if (!fs::exists(status)) throw io_error(path_ + ": no such file");
        if (fs::is_directory(status)) throw io_error(path_ + ": is a directory, not a weight file");
        info_ = detail::identify_weights(path_, detail::digests_of_file(path_), options);

        detail::hdf5::library_lock lock(detail::hdf5::library_mutex());
        detail::hdf5::quiet_errors quiet;
#if H5_VERSION_GE(1, 12, 0)
        const htri_t is_hdf5 = H5Fis_accessible(path_.c_str(), H5P_DEFAULT);
#else
        const htri_t is_hdf5 = H5Fis_hdf5(path_.c_str());
#endif
        if (is_hdf5 < 0)
            throw io_error(path_ + ": cannot be read" + detail::hdf5::detail_suffix());
        if (is_hdf5 == 0)
            throw io_error(path_ + ": not an HDF5 file (no HDF5 signature; Keras weight files "
                                   "are HDF5 .h5 files)");
        open(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    }

    // The same for an HDF5 file image held in memory (read with HDF5's core driver, which
    // copies it); `name` stands for the file in messages and info().path.
    static keras_weight_file from_memory(const void* data, std::size_t size, std::string name,
                                         const weights_options& options = {}) {
        keras_weight_file file(std::move(name), options.max_abs_weight);
        if (size == 0) throw io_error(file.path_ + ": the file image is empty");
        file.info_ = detail::identify_weights(file.path_, detail::digests_of_bytes(data, size), options);

        detail::hdf5::library_lock lock(detail::hdf5::library_mutex());
        detail::hdf5::quiet_errors quiet;
        const std::string what = file.path_ + ": cannot set up HDF5's in-memory driver";
        const detail::hdf5::handle access =
            detail::hdf5::checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, what);
        if (H5Pset_fapl_core(access, 1 << 16, 0) < 0 ||
            H5Pset_file_image(access, const_cast<void*>(data), size) < 0)
            throw io_error(what + detail::hdf5::detail_suffix());
        file.open(H5Fopen(file.path_.c_str(), H5F_ACC_RDONLY, access));
        return file;
    }

    // Which file this is: path, SHA-256 and, for a published file, its name.
    const weights_info& info() const { return info_; }
    const std::string& path() const { return path_; }
    // Keras layer names in file order (input and pooling layers included).
    const std::vector<std::string>& layer_names() const { return layer_names_; }
    bool has_layer(const std::string& keras_layer) const {
        for (const auto& n : layer_names_)
            if (n == keras_layer) return true;
        return false;
    }

    // The layer's weight_names (empty for layers without weights).
    // Throws io_error if the layer is not in layer_names, has no group or no weight_names.
    std::vector<std::string> weight_names(const std::string& keras_layer) const {
        detail::hdf5::library_lock lock(detail::hdf5::library_mutex());
        detail::hdf5::quiet_errors quiet;
        const detail::hdf5::handle group = open_layer(keras_layer);
        const std::string what = path_ + ": layer " + keras_layer;
        if (!has_list_attribute(group, "weight_names"))
            throw io_error(what + ": no 'weight_names' attribute in its group");
        return read_list_attribute(group, "weight_names", what);
    }

    // Reads a 3x3 convolution with `in` input and `out` output channels from `keras_layer`,
    // converted to T and transposed to nst's layout.
    // requires: the layer's first two weight_names are a (3, 3, in, out) kernel and an (out,)
    // bias. ensures: result.weights(co, ci, ky, kx) == kernel[ky][kx][ci][co] of the file.
    template <class T>
    conv3x3_weights<T> read_conv3x3(const std::string& keras_layer, std::size_t in,
                                    std::size_t out) const {
        std::vector<T> file_order;
        return read_conv3x3(keras_layer, in, out, file_order);
    }

    // The same with the file-order kernel read into `file_order`: a caller reading every layer
    // passes one vector, so the kernels are not each read into fresh memory.
    template <class T>
    conv3x3_weights<T> read_conv3x3(const std::string& keras_layer, std::size_t in, std::size_t out,
                                    std::vector<T>& file_order) const {
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                      "weights load as float or double");
        conv3x3_weights<T> result{tensor4<T>::from_shape({out, in, std::size_t(3), std::size_t(3)}),
                                  tensor1<T>::from_shape({out})};
        {
            detail::hdf5::library_lock lock(detail::hdf5::library_mutex());
            detail::hdf5::quiet_errors quiet;
            const std::string what = path_ + ": layer " + keras_layer;
            const std::vector<std::string> names = weight_names(keras_layer);
            if (names.size() < 2)
                throw io_error(what + ": expected 2 weights (kernel, bias) in weight_names, found " +
                               std::to_string(names.size()));
            const detail::hdf5::handle group = open_layer(keras_layer);
            detail::hdf5::read_float_dataset<T>(group, names[0], {3, 3, hsize_t(in), hsize_t(out)},
                                                what + " kernel", max_abs_weight_, file_order);
            std::vector<T> bias;
            detail::hdf5::read_float_dataset<T>(group, names[1], {hsize_t(out)}, what + " bias",
                                                max_abs_weight_, bias);
            std::copy(bias.begin(), bias.end(), result.bias.begin());
        }  // the transpose below needs no lock

        // File order is ((ky * 3 + kx) * in + ci) * out + co.
        T* const w = result.weights.data();
        for (std::size_t ky = 0; ky < 3; ++ky)
            for (std::size_t kx = 0; kx < 3; ++kx)
                for (std::size_t ci = 0; ci < in; ++ci) {
                    const T* row = file_order.data() + ((ky * 3 + kx) * in + ci) * out;
                    for (std::size_t co = 0; co < out; ++co) w[((co * in + ci) * 3 + ky) * 3 + kx] = row[co];
                }
        return result;
    }

    // Every layer with its weights' names, stored shapes and types (e.g. for a CLI listing).
    std::vector<keras_layer_info> contents() const {
        detail::hdf5::library_lock lock(detail::hdf5::library_mutex());
        detail::hdf5::quiet_errors quiet;
        std::vector<keras_layer_info> layers;
        for (const auto& layer : layer_names_) {
            keras_layer_info info{layer, {}};
            const detail::hdf5::handle group = open_layer(layer);
            const std::string what = path_ + ": layer " + layer;
            if (has_list_attribute(group, "weight_names"))
                for (const auto& name : read_list_attribute(group, "weight_names", what)) {
                    const std::string where = what + " weight '" + name + "'";
                    const auto dataset = detail::hdf5::checked(
                        H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose,
                        where + ": cannot open the dataset");
                    const auto type = detail::hdf5::checked(H5Dget_type(dataset), H5Tclose, where);
                    const auto space = detail::hdf5::checked(H5Dget_space(dataset), H5Sclose, where);
                    std::vector<std::size_t> shape;
                    for (hsize_t d : detail::hdf5::dimensions(space, where))
                        shape.push_back(std::size_t(d));
                    info.weights.push_back({name, shape, detail::hdf5::type_name(type)});
                }
            layers.push_back(std::move(info));
        }
        return layers;
    }

private:
    keras_weight_file(std::string name, double max_abs_weight)
        : path_(std::move(name)), max_abs_weight_(max_abs_weight) {}

    // Takes the HDF5 file `id` (checked) and finds the group carrying layer_names.
    // requires: the HDF5 lock is held.
    void open(hid_t id) {
        file_ = detail::hdf5::checked(id, H5Fclose,
                                      path_ + ": cannot open as HDF5 (truncated or damaged file?)");
        root_ = detail::hdf5::checked(H5Gopen2(file_, "/", H5P_DEFAULT), H5Gclose,
                                      path_ + ": cannot open the root group");
        if (!has_list_attribute(root_, "layer_names") &&
            H5Lexists(file_, "model_weights", H5P_DEFAULT) > 0) {
            // A full-model file (model.save): the weights live under /model_weights.
            detail::hdf5::handle weights = detail::hdf5::checked(
                H5Gopen2(file_, "model_weights", H5P_DEFAULT), H5Gclose,
                path_ + ": cannot open group 'model_weights'");
            if (has_list_attribute(weights, "layer_names")) root_ = std::move(weights);
        }
        H5Eclear2(H5E_DEFAULT);
        if (!has_list_attribute(root_, "layer_names"))
            throw io_error(path_ + ": no 'layer_names' attribute: not a Keras HDF5 weight file "
                                   "(the layout of Keras 2 save_weights/save in .h5 is expected)");
        layer_names_ = read_list_attribute(root_, "layer_names", path_);
    }

    // Keras stores a long list attribute `name` as `name0`, `name1`, ... (HDF5's 64 KiB
    // object-header limit); these two helpers see both forms as one list.
    static bool has_list_attribute(hid_t obj, const std::string& name) {
        return detail::hdf5::has_attribute(obj, name) ||
               detail::hdf5::has_attribute(obj, name + "0");
    }
    static std::vector<std::string> read_list_attribute(hid_t obj, const std::string& name,
                                                        const std::string& what) {
        if (detail::hdf5::has_attribute(obj, name))
            return detail::hdf5::read_string_list(obj, name, what);
        std::vector<std::string> all;
        for (std::size_t chunk = 0; detail::hdf5::has_attribute(obj, name + std::to_string(chunk));
             ++chunk)
            for (auto& s : detail::hdf5::read_string_list(obj, name + std::to_string(chunk), what))
                all.push_back(std::move(s));
        return all;
    }

    detail::hdf5::handle open_layer(const std::string& keras_layer) const {
        if (!has_layer(keras_layer)) {
            std::string known;
            for (const auto& n : layer_names_) known += (known.empty() ? "" : ", ") + n;
            throw io_error(path_ + ": layer " + keras_layer +
                           " is not in the file's layer_names (" + known + ")");
        }
        if (H5Lexists(root_, keras_layer.c_str(), H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            throw io_error(path_ + ": layer " + keras_layer +
                           " is listed in layer_names but has no group");
        }
        return detail::hdf5::checked(H5Gopen2(root_, keras_layer.c_str(), H5P_DEFAULT), H5Gclose,
                                     path_ + ": layer " + keras_layer + ": cannot open its group");
    }

    std::string path_;
    double max_abs_weight_;
    weights_info info_;
    detail::hdf5::handle file_;
    detail::hdf5::handle root_;  // the group carrying layer_names ("/" or "/model_weights")
    std::vector<std::string> layer_names_;
};

// Loads every conv3x3 layer of `net` from a Keras weight file. `to_keras` maps an nst layer
// name to the Keras layer that holds its weights (default: conv4_2 -> block4_conv2).
// The network may have fewer convolutions than the file (a truncated VGG); layers in the file
// that the network lacks are ignored. Returns the number of layers loaded.
// Throws io_error (see the file comment); on an error no guarantee is made about which layers
// were already set, so discard the network or load again.
template <class Net>
std::size_t load_keras_weights(
    Net& net, const keras_weight_file& file,
    const std::function<std::string(const std::string&)>& to_keras = keras_vgg_layer_name) {
    std::size_t loaded = 0;
    net.for_each_layer([&](auto& layer, std::size_t, const std::string& name) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (is_conv3x3_v<L>) {
            using T = typename L::value_type;
            auto w = file.read_conv3x3<T>(to_keras(name), L::in_channels, L::out_channels);
            layer.set_weights(std::move(w.weights), std::move(w.bias));
            ++loaded;
        }
    });
    return loaded;
}

// The same from a path, opened with `options` (hash pin, plausibility bound).
template <class Net>
std::size_t load_keras_weights(
    Net& net, const std::string& path,
    const std::function<std::string(const std::string&)>& to_keras = keras_vgg_layer_name,
    const weights_options& options = {}) {
    return load_keras_weights(net, keras_weight_file(path, options), to_keras);
}

namespace detail {

// The file's convolutions, blockB_convC layers, in its order.
inline std::vector<std::string> keras_vgg_convolutions(const keras_weight_file& file) {
    std::vector<std::string> convs;
    for (const auto& name : file.layer_names()) {
        unsigned block = 0, index = 0;
        char rest = 0;
        if (std::sscanf(name.c_str(), "block%u_conv%u%c", &block, &index, &rest) == 2) convs.push_back(name);
    }
    return convs;
}

// The file must be the network's (require_same_network), by the Keras names of its layers.
template <class Net> void require_keras_vgg_network(const Net& net, const keras_weight_file& file) {
    std::vector<std::string> network_convs = convolution_names(net);
    for (std::string& name : network_convs) name = keras_vgg_layer_name(name);
    const std::vector<std::string> file_convs = keras_vgg_convolutions(file);
    for (const std::string& name : network_convs)
        if (std::find(file_convs.begin(), file_convs.end(), name) == file_convs.end()) return;  // read_conv3x3 names it
    require_same_network(file.info().path, "", file_convs, network_convs);
}

}  // namespace detail

// Loads VGG19 ImageNet weights (Keras' notop file or ../shared/weights/vgg19_imagenet_notop.h5)
// into nst::vgg19<T, P>, or into any network whose convolutions carry VGG names (conv1_1, ...).
// To report which file was used, open it first:
//   const nst::keras_weight_file file(path, options);
//   nst::load_vgg19_weights(net, file);  // then file.info().sha256, .known_name
// Throws io_error also when the file is another network's (a VGG19 file into nst::vgg16).
template <class Net> std::size_t load_vgg19_weights(Net& net, const keras_weight_file& file) {
    detail::require_keras_vgg_network(net, file);
    return load_keras_weights(net, file, keras_vgg_layer_name);
}
template <class Net>
std::size_t load_vgg19_weights(Net& net, const std::string& path,
                               const weights_options& options = {}) {
    return load_vgg19_weights(net, keras_weight_file(path, options));
}

// HDF5's process-wide lock. Every HDF5 call nst makes holds it; a program that also calls
// HDF5 itself, from another thread, must hold it around those calls too.
inline std::recursive_mutex& hdf5_mutex() { return detail::hdf5::library_mutex(); }

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
