// The Keras HDF5 weight loader (io/keras_weights.hpp): format handling and error messages on tiny
// HDF5 files written here (always run), and the shared VGG19 weights (skip without ../shared),
// compared with the values tests/reference/make_reference.py read with h5py.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nst/io/keras_weights.hpp>
#include <nst/io/read_weights.hpp>

#include "reference/reference_file.hpp"
#include "test_helpers.hpp"

using namespace nst;
namespace fs = std::filesystem;
namespace h5 = nst::detail::hdf5;
using nst::test::reference_file;
using nst::test::weights_path;

namespace {

// ---------------------------------------------------------------------------------------------
using nst::test::temp_folder;

void copy_prefix(const std::string& from, const std::string& to, std::size_t bytes) {
    std::ifstream in(from, std::ios::binary);
    std::vector<char> buffer(bytes);
    in.read(buffer.data(), std::streamsize(bytes));
    REQUIRE(std::size_t(in.gcount()) == bytes);
    std::ofstream(to, std::ios::binary).write(buffer.data(), std::streamsize(bytes));
}

// ---------------------------------------------------------------------------------------------
// A writer for tiny Keras-layout weight files, with switches for each way a file can be wrong.
enum class string_storage { fixed, variable };

struct dataset_spec {
    std::string path;  // relative to the layer group, as listed in weight_names
    std::vector<hsize_t> dims;
    hid_t file_type = H5T_IEEE_F32LE;
    bool nan_first = false;  // poison the first value
};
struct layer_spec {
    std::string name;
    std::vector<dataset_spec> weights;
    bool listed = true;              // appears in layer_names
    bool with_weight_names = true;   // has the weight_names attribute
    bool with_datasets = true;       // datasets are written (else weight_names dangles)
};
struct file_spec {
    std::vector<layer_spec> layers;
    string_storage strings = string_storage::fixed;
    bool with_layer_names = true;
};

// The value stored at a multi-index: kernel (ky, kx, ci, co) = 1000 co + 100 ci + 10 ky + kx
// + 0.5, bias (co) = -co - 0.25. Exact in float32, and every index is visible in the value,
// so a transposition mistake cannot go unnoticed.
double stored_value(const std::vector<hsize_t>& dims, std::size_t flat) {
    std::vector<std::size_t> index(dims.size());
    for (std::size_t d = dims.size(); d-- > 0;) {
        index[d] = flat % dims[d];
        flat /= dims[d];
    }
    if (dims.size() == 4)
        return 1000.0 * index[3] + 100.0 * index[2] + 10.0 * index[0] + index[1] + 0.5;
    if (dims.size() == 1) return -double(index[0]) - 0.25;
    return double(flat);
}

void write_strings(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                   string_storage storage) {
    const hsize_t n = values.size();
    h5::handle space = h5::checked(H5Screate_simple(1, &n, nullptr), H5Sclose, "space");
    h5::handle type = h5::checked(H5Tcopy(H5T_C_S1), H5Tclose, "type");
    if (storage == string_storage::variable) {
        H5Tset_size(type, H5T_VARIABLE);
        H5Tset_cset(type, H5T_CSET_UTF8);
        std::vector<const char*> pointers;
        for (const auto& v : values) pointers.push_back(v.c_str());
        h5::handle attr = h5::checked(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                                      H5Aclose, "attribute");
        if (n > 0) REQUIRE(H5Awrite(attr, type, pointers.data()) >= 0);
    } else {  // numpy "S<n>": NUL-padded, no terminator when a string fills its slot
        std::size_t size = 1;
        for (const auto& v : values) size = std::max(size, v.size());
        H5Tset_size(type, size);
        H5Tset_strpad(type, H5T_STR_NULLPAD);
        std::vector<char> bytes(size * values.size(), '\0');
        for (std::size_t i = 0; i < values.size(); ++i)
            std::copy(values[i].begin(), values[i].end(), bytes.begin() + std::ptrdiff_t(i * size));
        h5::handle attr = h5::checked(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                                      H5Aclose, "attribute");
        if (n > 0) REQUIRE(H5Awrite(attr, type, bytes.data()) >= 0);  // empty: pool layers
    }
}

void write_keras_file(const std::string& path, const file_spec& spec) {
    h5::handle file = h5::checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                                  H5Fclose, "create " + path);
    h5::handle make_parents = h5::checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "lcpl");
    H5Pset_create_intermediate_group(make_parents, 1);
    std::vector<std::string> listed;
    for (const auto& layer : spec.layers) {
        if (layer.listed) listed.push_back(layer.name);
        h5::handle group = h5::checked(
            H5Gcreate2(file, layer.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
            "group " + layer.name);
        std::vector<std::string> names;
        for (const auto& w : layer.weights) {
            names.push_back(w.path);
            if (!layer.with_datasets) continue;
            h5::handle space = h5::checked(
                H5Screate_simple(int(w.dims.size()), w.dims.data(), nullptr), H5Sclose, "space");
            h5::handle dataset = h5::checked(H5Dcreate2(group, w.path.c_str(), w.file_type, space,
                                                        make_parents, H5P_DEFAULT, H5P_DEFAULT),
                                             H5Dclose, "dataset " + w.path);
            std::size_t count = 1;
            for (hsize_t d : w.dims) count *= d;
            std::vector<double> values(count);
            for (std::size_t i = 0; i < count; ++i) values[i] = stored_value(w.dims, i);
            if (w.nan_first) values[0] = std::nan("");
            REQUIRE(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                             values.data()) >= 0);
        }
        if (layer.with_weight_names) write_strings(group, "weight_names", names, spec.strings);
    }
    if (spec.with_layer_names) write_strings(file, "layer_names", listed, spec.strings);
}

// input_1, block1_conv1 (3 -> 4), block1_conv2 (4 -> 4), block1_pool: newer Keras' layout.
file_spec tiny_vgg_file() {
    auto conv = [](const std::string& name, hsize_t in, hsize_t out) {
        return layer_spec{name, {{name + "/kernel:0", {3, 3, in, out}}, {name + "/bias:0", {out}}}};
    };
    return {{layer_spec{"input_1", {}}, conv("block1_conv1", 3, 4), conv("block1_conv2", 4, 4),
             layer_spec{"block1_pool", {}}}};
}

// A network with VGG names and the tiny file's channel counts.
using tiny_net = sequential<conv3x3<double, 3, 4>, relu<double>, conv3x3<double, 4, 4>>;
tiny_net make_tiny_net() { return tiny_net({"conv1_1", "relu1_1", "conv1_2"}); }

// Largest relative deviation of a loaded conv layer from the stored_value pattern (after the
// transposition); 0 when it holds the pattern exactly.
template <class Layer> double pattern_error(const Layer& layer) {
    const auto& w = layer.weights();
    const std::vector<hsize_t> dims{3, 3, Layer::in_channels, Layer::out_channels};
    double worst = 0;
    auto update = [&](double actual, double expected) {
        worst = std::max(worst, std::abs(actual - expected) / std::abs(expected));
    };
    for (std::size_t co = 0; co < Layer::out_channels; ++co) {
        update(layer.bias()(co), stored_value({Layer::out_channels}, co));
        for (std::size_t ci = 0; ci < Layer::in_channels; ++ci)
            for (std::size_t ky = 0; ky < 3; ++ky)
                for (std::size_t kx = 0; kx < 3; ++kx) {
                    const std::size_t flat =
                        ((ky * 3 + kx) * Layer::in_channels + ci) * Layer::out_channels + co;
                    update(w(co, ci, ky, kx), stored_value(dims, flat));
                }
    }
    return worst;
}
template <class Layer> bool holds_stored_pattern(const Layer& layer) {
    return pattern_error(layer) == 0.0;
}

// IEEE half precision as h5py stores numpy.float16 (HDF5 has no predefined half type).
h5::handle float16_type() {
    h5::handle t = h5::checked(H5Tcopy(H5T_IEEE_F32LE), H5Tclose, "float16");
    REQUIRE(H5Tset_fields(t, 15, 10, 5, 0, 10) >= 0);
    REQUIRE(H5Tset_size(t, 2) >= 0);
    REQUIRE(H5Tset_ebias(t, 15) >= 0);
    return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
TEST_CASE("vgg19 weights: keras_vgg_layer_name maps nst names to Keras' block names", "[io][keras]") {
    REQUIRE(keras_vgg_layer_name("conv1_1") == "block1_conv1");
    REQUIRE(keras_vgg_layer_name("conv5_4") == "block5_conv4");
    REQUIRE(keras_vgg_layer_name("conv12_10") == "block12_conv10");
    for (const char* unchanged : {"relu1_1", "pool3", "conv", "conv1_", "conv_1", "convx_1",
                                  "conv1_x", "block1_conv1"})
        REQUIRE(keras_vgg_layer_name(unchanged) == unchanged);
}

TEST_CASE("vgg19 weights: the Keras loader reads generated files (fixed and variable-length "
          "names, old layout, float64, float16)", "[io][keras]") {
    const temp_folder tmp;
    SECTION("newer Keras: fixed-length names, datasets in a sub-group") {
        const std::string path = tmp / "fixed.h5";
        write_keras_file(path, tiny_vgg_file());
        tiny_net net = make_tiny_net();
        REQUIRE(load_vgg19_weights(net, path) == 2);
        REQUIRE(holds_stored_pattern(net.layer<0>()));
        REQUIRE(holds_stored_pattern(net.layer<2>()));

        const keras_weight_file file(path);
        REQUIRE(file.layer_names() ==
                std::vector<std::string>{"input_1", "block1_conv1", "block1_conv2", "block1_pool"});
        const auto contents = file.contents();
        REQUIRE(contents.size() == 4);
        REQUIRE(contents[0].weights.empty());
        REQUIRE(contents[2].weights.size() == 2);
        REQUIRE(contents[2].weights[0].name == "block1_conv2/kernel:0");
        REQUIRE(contents[2].weights[0].shape == std::vector<std::size_t>{3, 3, 4, 4});
        REQUIRE(contents[2].weights[0].dtype == "float32");
        REQUIRE(contents[3].weights.empty());
    }
    SECTION("h5py-style variable-length names") {
        const std::string path = tmp / "vlen.h5";
        file_spec spec = tiny_vgg_file();
        spec.strings = string_storage::variable;
        write_keras_file(path, spec);
        tiny_net net = make_tiny_net();
        REQUIRE(load_vgg19_weights(net, path) == 2);
        REQUIRE(holds_stored_pattern(net.layer<0>()));
        REQUIRE(holds_stored_pattern(net.layer<2>()));
    }
    SECTION("older Keras: datasets named directly in the layer group") {
        const std::string path = tmp / "old.h5";
        file_spec spec = tiny_vgg_file();
        for (auto& layer : spec.layers)
            for (std::size_t i = 0; i < layer.weights.size(); ++i)
                layer.weights[i].path = layer.name + (i == 0 ? "_W_1:0" : "_b_1:0");
        write_keras_file(path, spec);
        tiny_net net = make_tiny_net();
        REQUIRE(load_vgg19_weights(net, path) == 2);
        REQUIRE(holds_stored_pattern(net.layer<2>()));
    }
    SECTION("float64 datasets are converted, into float and double networks") {
        const std::string path = tmp / "float64.h5";
        file_spec spec = tiny_vgg_file();
        for (auto& layer : spec.layers)
            for (auto& w : layer.weights) w.file_type = H5T_IEEE_F64LE;
        write_keras_file(path, spec);
        tiny_net net = make_tiny_net();
        REQUIRE(load_vgg19_weights(net, path) == 2);
        REQUIRE(holds_stored_pattern(net.layer<2>()));
        sequential<conv3x3<float, 3, 4>> float_net({"conv1_1"});
        REQUIRE(load_vgg19_weights(float_net, path) == 1);  // a truncated network: 1 of 2
        REQUIRE(holds_stored_pattern(float_net.layer<0>()));
    }
    SECTION("float16 datasets are converted (to half precision's accuracy)") {
        const std::string path = tmp / "float16.h5";
        const h5::handle half = float16_type();
        file_spec spec = tiny_vgg_file();
        for (auto& layer : spec.layers)
            for (auto& w : layer.weights) w.file_type = half;
        write_keras_file(path, spec);
        REQUIRE(keras_weight_file(path).contents()[1].weights[0].dtype == "float16");
        tiny_net net = make_tiny_net();
        REQUIRE(load_vgg19_weights(net, path) == 2);
        REQUIRE(pattern_error(net.layer<2>()) > 0);  // really stored in half precision
        REQUIRE(pattern_error(net.layer<2>()) < 1.0 / 1024);
    }
}

TEST_CASE("vgg19 weights: the Keras loader rejects bad files, naming file, layer and shapes",
          "[io][keras][errors]") {
    const temp_folder tmp;
    tiny_net net = make_tiny_net();

    SECTION("missing file") {
        const std::string path = tmp / "absent.h5";
        REQUIRE_THROWS_AS(load_vgg19_weights(net, path), io_error);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path), Catch::Contains(path + ": no such file"));
    }
    SECTION("a directory") {
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, tmp.path.string()),
                            Catch::Contains("is a directory"));
    }
    SECTION("a text file") {
        const std::string path = tmp / "not_weights.h5";
        std::ofstream(path) << "these are not the weights you are looking for\n";
        REQUIRE_THROWS_AS(load_vgg19_weights(net, path), io_error);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": not an HDF5 file"));
    }
    SECTION("an empty file") {
        const std::string path = tmp / "empty.h5";
        std::ofstream{path};
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": not an HDF5 file"));
    }
    SECTION("a truncated file (generated)") {
        const std::string whole = tmp / "whole.h5";
        write_keras_file(whole, tiny_vgg_file());
        const std::size_t size = std::size_t(fs::file_size(whole));
        for (const std::size_t keep : {std::size_t(1000), size / 2, size - 1}) {
            CAPTURE(keep, size);
            const std::string path = tmp / "cut.h5";
            copy_prefix(whole, path, keep);
            REQUIRE_THROWS_AS(load_vgg19_weights(net, path), io_error);
            REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                                Catch::Contains(path + ": cannot open as HDF5 (truncated") &&
                                    Catch::Contains("truncated file: eof = " + std::to_string(keep)));
        }
    }
    SECTION("wrong kernel shape") {
        const std::string path = tmp / "wrong_shape.h5";
        file_spec spec = tiny_vgg_file();
        spec.layers[2].weights[0].dims = {3, 3, 5, 4};
        write_keras_file(path, spec);
        REQUIRE_THROWS_AS(load_vgg19_weights(net, path), io_error);
        REQUIRE_THROWS_WITH(
            load_vgg19_weights(net, path),
            Catch::Contains(path + ": layer block1_conv2 kernel: expected 3 x 3 x 4 x 4 float32, "
                                   "got 3 x 3 x 5 x 4 float32"));
    }
    SECTION("wrong kernel rank and wrong bias shape") {
        const std::string path = tmp / "wrong_rank.h5";
        file_spec spec = tiny_vgg_file();
        spec.layers[1].weights[0].dims = {27, 4};
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": layer block1_conv1 kernel: expected 3 x 3 x "
                                                   "3 x 4 float32, got 27 x 4 float32"));
        spec = tiny_vgg_file();
        spec.layers[2].weights[1].dims = {5};
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(
            load_vgg19_weights(net, path),
            Catch::Contains(path + ": layer block1_conv2 bias: expected 4 float32, got 5 float32"));
    }
    SECTION("a kernel whose output channels disagree with its bias, read without a network") {
        const std::string path = tmp / "disagree.h5";
        file_spec spec = tiny_vgg_file();
        spec.layers[2].weights[0].dims = {3, 3, 4, 5};  // the bias stays 4
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(nst::read_model_weights(path),
                            Catch::Contains(path + ": layer block1_conv2: the kernel 3 x 3 x 4 x 5 has 5 output "
                                                   "channels, the bias is 4: they disagree"));
    }
    SECTION("wrong dtype: an integer kernel") {
        const std::string path = tmp / "int_kernel.h5";
        file_spec spec = tiny_vgg_file();
        spec.layers[1].weights[0].file_type = H5T_STD_I32LE;
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": layer block1_conv1 kernel: expected 3 x 3 x "
                                                   "3 x 4 float32, got 3 x 3 x 3 x 4 int32"));
    }
    SECTION("a NaN weight") {
        const std::string path = tmp / "nan.h5";
        file_spec spec = tiny_vgg_file();
        spec.layers[2].weights[1].nan_first = true;
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": layer block1_conv2 bias: value ") &&
                                Catch::Contains("nan at element 0 is not finite (damaged file?)"));
    }
    SECTION("a layer missing from layer_names") {
        const std::string path = tmp / "unlisted.h5";
        file_spec spec = tiny_vgg_file();
        spec.layers[2].listed = false;
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": layer block1_conv2 is not in the file's "
                                                   "layer_names (input_1, block1_conv1, block1_pool)"));
        // A file with VGG19's first block only: the full network stops at block2_conv1.
        spec = tiny_vgg_file();
        spec.layers[1].weights = {{"block1_conv1/kernel:0", {3, 3, 3, 64}}, {"block1_conv1/bias:0", {64}}};
        spec.layers[2].weights = {{"block1_conv2/kernel:0", {3, 3, 64, 64}}, {"block1_conv2/bias:0", {64}}};
        write_keras_file(path, spec);
        vgg19<float> vgg;
        weights_options large_values;  // the index pattern reaches 63000.5
        large_values.max_abs_weight = 1e5;
        REQUIRE_THROWS_WITH(load_vgg19_weights(vgg, path, large_values),
                            Catch::Contains(path + ": layer block2_conv1 is not in the file's layer_names "
                                                   "(input_1, block1_conv1, block1_conv2, block1_pool)"));
    }
    SECTION("missing weight_names, or weight_names naming absent datasets") {
        const std::string path = tmp / "no_weight_names.h5";
        file_spec spec = tiny_vgg_file();
        spec.layers[2].with_weight_names = false;
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": layer block1_conv2: no 'weight_names' attribute"));
        spec = tiny_vgg_file();
        spec.layers[1].with_datasets = false;
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": layer block1_conv1 kernel: dataset "
                                                   "'block1_conv1/kernel:0' named in weight_names "
                                                   "does not exist"));
        spec = tiny_vgg_file();
        spec.layers[1].weights.pop_back();  // kernel only
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": layer block1_conv1: expected 2 weights "
                                                   "(kernel, bias) in weight_names, found 1"));
    }
    SECTION("an HDF5 file that is not a Keras weight file") {
        const std::string path = tmp / "plain.h5";
        file_spec spec = tiny_vgg_file();
        spec.with_layer_names = false;
        write_keras_file(path, spec);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": no 'layer_names' attribute"));
    }
}

TEST_CASE("vgg19 weights: HDF5's error printing stays quiet, the caller's handler is restored",
          "[io][keras][errors]") {
    static int printed = 0;
    const H5E_auto2_t counting = [](hid_t, void*) -> herr_t {
        ++printed;
        return 0;
    };
    H5E_auto2_t saved_function = nullptr;
    void* saved_data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &saved_function, &saved_data);
    H5Eset_auto2(H5E_DEFAULT, counting, nullptr);

    const temp_folder tmp;
    const std::string whole = tmp / "whole.h5", cut = tmp / "cut.h5";
    write_keras_file(whole, tiny_vgg_file());
    copy_prefix(whole, cut, std::size_t(fs::file_size(whole)) / 2);
    tiny_net net = make_tiny_net();
    REQUIRE_THROWS_AS(load_vgg19_weights(net, cut), io_error);
    // Control: the handler is live - a failing call outside nst does reach it.
    const int after_nst = printed;
    const hid_t failed = H5Fopen(cut.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const int after_direct = printed;

    H5E_auto2_t current = nullptr;
    void* current_data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &current, &current_data);
    H5Eset_auto2(H5E_DEFAULT, saved_function, saved_data);
    REQUIRE(failed < 0);
    REQUIRE(after_nst == 0);
    REQUIRE(after_direct == 1);
    REQUIRE(current == counting);
}

// ---------------------------------------------------------------------------------------------
// The real VGG19 weights (../shared).

TEST_CASE("vgg19 weights: the shared VGG19 file loads into float and double networks",
          "[io][keras][vgg19]") {
    const std::string weights = weights_path(test::require_shared_data());
    const reference_file ref;
    vgg19<float> f;
    vgg19<double> d;
    REQUIRE(load_vgg19_weights(f, weights) == 16);
    REQUIRE(load_vgg19_weights(d, weights) == 16);
    // conv1_1 is layer 0, conv3_2 layer 12, conv5_4 layer 34 (conv/relu pairs and pools).
    REQUIRE(f.name(0) == "conv1_1");
    REQUIRE(f.name(12) == "conv3_2");
    REQUIRE(f.name(34) == "conv5_4");
    // Exact equality with the values make_reference.py read with h5py (nst's layout there).
    auto same = [](const auto& actual, const xt::xarray<double>& expected) {
        return actual.shape().size() == expected.dimension() &&
               std::equal(expected.shape().begin(), expected.shape().end(), actual.shape().begin()) &&
               xt::amax(xt::abs(xt::cast<double>(actual) - expected))() == 0.0;
    };
    auto first = [](const auto& w, std::size_t out, std::size_t in) {
        return xt::xarray<double>(xt::view(xt::cast<double>(w), xt::range(0, out), xt::range(0, in)));
    };
    const auto k11 = ref.tensor<4>("weights/conv1_1_kernel");
    const auto k32 = ref.tensor<4>("weights/conv3_2_kernel");
    const auto k54 = ref.tensor<4>("weights/conv5_4_kernel");
    REQUIRE(k11.shape(0) == 64);
    REQUIRE(k32.shape(0) == 4);
    REQUIRE(k32.shape(1) == 5);
    REQUIRE(same(f.layer<0>().weights(), k11));
    REQUIRE(same(d.layer<0>().weights(), k11));
    REQUIRE(same(f.layer<0>().bias(), ref.tensor<1>("weights/conv1_1_bias")));
    REQUIRE(same(d.layer<0>().bias(), ref.tensor<1>("weights/conv1_1_bias")));
    REQUIRE(same(first(f.layer<12>().weights(), 4, 5), k32));
    REQUIRE(same(first(d.layer<12>().weights(), 4, 5), k32));
    REQUIRE(same(f.layer<12>().bias(), ref.tensor<1>("weights/conv3_2_bias")));
    REQUIRE(same(first(f.layer<34>().weights(), 4, 5), k54));
    REQUIRE(same(first(d.layer<34>().weights(), 4, 5), k54));
    REQUIRE(same(d.layer<34>().bias(), ref.tensor<1>("weights/conv5_4_bias")));

    const auto contents = keras_weight_file(weights).contents();
    REQUIRE(contents.size() == 22);
    REQUIRE(contents.front().name == "input_1");
    REQUIRE(contents.front().weights.empty());
    REQUIRE(contents.back().name == "block5_pool");
    REQUIRE(contents[20].name == "block5_conv4");
    REQUIRE(contents[20].weights[0].shape == std::vector<std::size_t>{3, 3, 512, 512});
    REQUIRE(contents[20].weights[0].dtype == "float32");
}

TEST_CASE("vgg19 weights: truncated copies of the shared file are rejected", "[io][keras][errors]") {
    const std::string weights = weights_path(test::require_shared_data());
    const temp_folder tmp;
    const std::size_t size = std::size_t(fs::file_size(weights));
    vgg19<float> net;
    for (const std::size_t keep : {std::size_t(4096), size / 2, size - 1}) {
        CAPTURE(keep);
        const std::string path = tmp / "vgg19_truncated.h5";
        copy_prefix(weights, path, keep);
        REQUIRE_THROWS_AS(load_vgg19_weights(net, path), io_error);
        REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                            Catch::Contains(path + ": cannot open as HDF5 (truncated") &&
                                Catch::Contains("truncated file: eof = " + std::to_string(keep)));
    }
}

// Trusting weight files: SHA-256, known files, pins, implausible values, threads, memory images.
namespace {

// `sha256sum`'s answer for a file (an independent implementation), or "" without the tool.
std::string sha256sum_tool(const std::string& path) {
    std::FILE* pipe = popen(("/usr/bin/sha256sum '" + path + "' 2>/dev/null").c_str(), "r");
    if (!pipe) return "";
    char hex[65] = {};
    const bool ok = std::fread(hex, 1, 64, pipe) == 64;
    return pclose(pipe) == 0 && ok ? std::string(hex, 64) : "";
}

std::vector<unsigned char> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// Every conv weight and bias of a network, in layer order.
template <class Net> std::vector<double> all_weights(const Net& net) {
    std::vector<double> out;
    net.for_each_layer([&](const auto& layer, std::size_t, const std::string&) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (is_conv3x3_v<L>) {
            out.insert(out.end(), layer.weights().begin(), layer.weights().end());
            out.insert(out.end(), layer.bias().begin(), layer.bias().end());
        }
    });
    return out;
}

}  // namespace

TEST_CASE("weight files are identified by SHA-256 and can be pinned", "[io][keras][trust]") {
    const temp_folder tmp;
    const std::string path = tmp / "tiny.h5";
    write_keras_file(path, tiny_vgg_file());
    const keras_weight_file file(path);
    CHECK(file.info().path == path);
    CHECK(file.info().known_name.empty());
    const std::string independent = sha256sum_tool(path);
    if (independent.empty()) WARN("no /usr/bin/sha256sum: the hash is checked only for its form");
    else CHECK(file.info().sha256 == independent);
    REQUIRE(file.info().sha256.size() == 64);

    // The right pin (in either case) loads; another is refused before HDF5 reads the file.
    weights_options pin;
    std::string upper = file.info().sha256;
    for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
    pin.expected_sha256 = upper;
    tiny_net net = make_tiny_net();
    CHECK(load_vgg19_weights(net, path, pin) == 2);
    pin.expected_sha256 = std::string(64, '0');
    REQUIRE_THROWS_AS(load_vgg19_weights(net, path, pin), io_error);
    REQUIRE_THROWS_WITH(load_vgg19_weights(net, path, pin),
                        Catch::Contains(path) && Catch::Contains(file.info().sha256) &&
                            Catch::Contains("pinned to " + std::string(64, '0')) &&
                            Catch::Contains("not a known weight file"));
    pin.expected_sha256 = "abc";
    REQUIRE_THROWS_AS(keras_weight_file(path, pin), nst::invalid_argument);
    pin.expected_sha256 = std::string(63, 'a') + "g";
    REQUIRE_THROWS_AS(keras_weight_file(path, pin), nst::invalid_argument);

    // A file the table does not know (the table itself is tested in test_weights_identity.cpp).
    CHECK(known_weights_name(file_digests{1000, std::string(64, '0'), std::string(32, '0')}).empty());
}

TEST_CASE("the shared VGG19 file is recognised, its hash agrees with sha256sum",
          "[io][keras][trust][vgg19]") {
    const std::string weights = weights_path(test::require_shared_data());
    const keras_weight_file file(weights);
    CHECK(file.info().known_name.find("VGG19") != std::string::npos);
    const std::string independent = sha256sum_tool(weights);
    if (!independent.empty()) CHECK(file.info().sha256 == independent);
    // Its size is no published file's known by MD5, so loading it does not pay for an MD5.
    CHECK(file.info().size == std::filesystem::file_size(weights));
    CHECK(file.info().md5.empty());
}

TEST_CASE("corrupted weight values are refused naming the layer and the value",
          "[io][keras][trust]") {
    const temp_folder tmp;
    const std::string path = tmp / "tiny.h5";
    write_keras_file(path, tiny_vgg_file());
    const std::vector<unsigned char> good = file_bytes(path);
    // block1_conv2's kernel (3, 3, 4, 4) holds 3322.5 at (2, 2, 3, 3): find its float32 bytes.
    const float marker = 3322.5f;
    unsigned char pattern[4];
    std::memcpy(pattern, &marker, 4);
    const auto at = std::search(good.begin(), good.end(), pattern, pattern + 4);
    REQUIRE(at != good.end());
    const std::size_t offset = std::size_t(at - good.begin());
    const auto corrupt = [&](float value) {
        std::vector<unsigned char> bad = good;
        std::memcpy(bad.data() + offset, &value, 4);
        write_bytes(path, bad);
    };
    tiny_net net = make_tiny_net();
    corrupt(3.0e5f);
    REQUIRE_THROWS_WITH(load_vgg19_weights(net, path),
                        Catch::Contains(path + ": layer block1_conv2 kernel: value 300000 at element 143 exceeds the "
                                                   "plausible magnitude 10000 of a trained weight"));
    weights_options lenient;
    lenient.max_abs_weight = 1e6;
    CHECK(load_vgg19_weights(net, path, lenient) == 2);
    corrupt(std::numeric_limits<float>::infinity());
    REQUIRE_THROWS_WITH(load_vgg19_weights(net, path, lenient),
                        Catch::Contains("block1_conv2 kernel: value inf at element 143 is not finite"));
    corrupt(std::nanf(""));
    REQUIRE_THROWS_WITH(load_vgg19_weights(net, path), Catch::Contains("nan at element 143 is not finite"));

    // Random damage to the values (the kernel's 144 floats): a clean nst::error or a load.
    // (Damage to HDF5's own metadata is tests/fuzz's business: libhdf5 is not robust to it.)
    std::mt19937 rng(9);
    const std::size_t kernel = offset - 143 * 4;
    for (int copy = 0; copy < 40; ++copy) {
        std::vector<unsigned char> bad = good;
        for (int i = 0; i < 8; ++i) bad[kernel + rng() % (144 * 4)] = (unsigned char)rng();
        write_bytes(path, bad);
        try {
            load_vgg19_weights(net, path);
        } catch (const nst::error&) {
        }
        CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);  // nothing left open
    }
}

TEST_CASE("weights load concurrently from several threads exactly as one after the other",
          "[io][keras][threads]") {
    const temp_folder tmp;
    const std::string path = tmp / "tiny.h5";
    write_keras_file(path, tiny_vgg_file());
    tiny_net sequential_net = make_tiny_net();
    REQUIRE(load_vgg19_weights(sequential_net, path) == 2);
    const std::vector<double> expected = all_weights(sequential_net);

    // Four threads, each loading many times (files opened per load and one shared file).
    const keras_weight_file shared(path);
    std::vector<std::vector<double>> results(4);
    std::vector<std::string> failures(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            try {
                for (int i = 0; i < 25; ++i) {
                    tiny_net net = make_tiny_net();
                    if (i % 2) load_vgg19_weights(net, shared);
                    else load_vgg19_weights(net, path);
                    results[t] = all_weights(net);
                    if (results[t] != expected) return;
                }
            } catch (const std::exception& e) {
                failures[t] = e.what();
            }
        });
    for (auto& thread : threads) thread.join();
    for (std::size_t t = 0; t < 4; ++t) {
        INFO("thread " << t);
        CHECK(failures[t].empty());
        CHECK(results[t] == expected);
    }
}

TEST_CASE("two threads load the shared VGG19 weights as a sequential load does",
          "[io][keras][threads][vgg19]") {
    const std::string weights = weights_path(test::require_shared_data());
    vgg19<float> reference;
    load_vgg19_weights(reference, weights);
    vgg19<float> a, b;
    std::thread ta([&] { load_vgg19_weights(a, weights); });
    std::thread tb([&] { load_vgg19_weights(b, weights); });
    ta.join();
    tb.join();
    const std::vector<double> expected = all_weights(reference);
    CHECK(all_weights(a) == expected);
    CHECK(all_weights(b) == expected);
}

TEST_CASE("a Keras file image in memory loads like the file", "[io][keras]") {
    const temp_folder tmp;
    const std::string path = tmp / "tiny.h5";
    write_keras_file(path, tiny_vgg_file());
    const std::vector<unsigned char> bytes = file_bytes(path);
    const auto file = keras_weight_file::from_memory(bytes.data(), bytes.size(), "received.h5");
    CHECK(file.info().path == "received.h5");
    CHECK(file.info().sha256 == keras_weight_file(path).info().sha256);
    tiny_net net = make_tiny_net();
    REQUIRE(load_vgg19_weights(net, file) == 2);
    CHECK(holds_stored_pattern(net.layer<0>()));
    CHECK(holds_stored_pattern(net.layer<2>()));
    REQUIRE_THROWS_WITH(keras_weight_file::from_memory(bytes.data(), 100, "cut.h5"),
                        Catch::StartsWith("cut.h5: "));
    REQUIRE_THROWS_AS(keras_weight_file::from_memory(bytes.data(), 0, "empty.h5"), io_error);
}

// Not run by default: writes fuzz_keras_weights' seed corpus (small Keras-layout files):
//   NST_FUZZ_SEED_DIR=tests/fuzz/corpus/keras_weights build/tests/test_io "write the Keras weights*"
TEST_CASE("write the Keras weights fuzzer's seed corpus", "[.fuzz-seeds]") {
    const char* dir_env = std::getenv("NST_FUZZ_SEED_DIR");
    REQUIRE(dir_env != nullptr);
    const fs::path dir = dir_env;
    fs::create_directories(dir);
    write_keras_file((dir / "fixed_strings.h5").string(), tiny_vgg_file());
    file_spec spec = tiny_vgg_file();
    spec.strings = string_storage::variable;
    write_keras_file((dir / "variable_strings.h5").string(), spec);
    spec = tiny_vgg_file();
    for (auto& layer : spec.layers)
        for (std::size_t i = 0; i < layer.weights.size(); ++i) {
            layer.weights[i].path = layer.name + (i == 0 ? "_W_1:0" : "_b_1:0");
            layer.weights[i].file_type = H5T_IEEE_F64LE;
        }
    write_keras_file((dir / "old_layout_float64.h5").string(), spec);
    const h5::handle half = float16_type();
    spec = tiny_vgg_file();
    spec.layers.resize(2);
    spec.layers[1].weights[0].file_type = half;
    write_keras_file((dir / "float16.h5").string(), spec);
}
