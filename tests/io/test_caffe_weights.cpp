// The Caffe .caffemodel reader (io/caffe_weights.hpp) on the small fixtures written by
// tests/fixtures/make_vgg_weights.py (encoded with Google's protobuf library, not nst's
// decoder): V1 and V2 layouts, BlobShape and legacy 4-D shapes, packed, unpacked and double
// data, every rejected file; and the shared VGG19 .h5 converted to both layouts at test time,
// which must read back exactly equal (skipped without ../shared, h5py or protobuf).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nst/io/caffe_weights.hpp>
#include <nst/io/keras_weights.hpp>

#include "fixture_script.hpp"
#include "test_helpers.hpp"

namespace caffe_test {

std::string caffe_fixture(const std::string& name) { return std::string(NST_TEST_SOURCE_DIR) + "/fixtures/caffe/" + name; }

std::vector<unsigned char> caffe_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string caffe_error_of(const std::string& path) {
    try {
        nst::read_caffe_weights(path);
    } catch (const nst::io_error& e) {
        return e.what();
    }
    return "";
}

// The script's pattern: conv number L, w = L + 0.001 * flat index, b = -L - 0.01 * co.
void check_pattern(const nst::named_conv_weights& c, int number, std::size_t out, std::size_t in) {
    INFO(c.name);
    REQUIRE(c.weights.shape(0) == out);
    REQUIRE(c.weights.shape(1) == in);
    REQUIRE(c.weights.shape(2) == 3);
    REQUIRE(c.weights.shape(3) == 3);
    REQUIRE(c.bias.size() == out);
    std::size_t index = 0;
    for (std::size_t co = 0; co < out; ++co)
        for (std::size_t ci = 0; ci < in; ++ci)
            for (std::size_t ky = 0; ky < 3; ++ky)
                for (std::size_t kx = 0; kx < 3; ++kx, ++index)
                    REQUIRE(c.weights(co, ci, ky, kx) == float(number + 0.001 * double(index)));
    for (std::size_t co = 0; co < out; ++co) REQUIRE(c.bias(co) == float(-number - 0.01 * double(co)));
}

void check_tiny(const nst::model_weights& w) {
    REQUIRE(w.convs.size() == 2);
    CHECK(w.convs[0].name == "conv1_1");
    CHECK(w.convs[1].name == "conv1_2");
    check_pattern(w.convs[0], 1, 4, 3);
    check_pattern(w.convs[1], 2, 4, 4);
    CHECK(w.convention == nst::input_convention::caffe);
    CHECK(w.model.empty());  // two convolutions are neither VGG16 nor VGG19
    CHECK(w.info.sha256.size() == 64);
}

}  // namespace caffe_test

using namespace caffe_test;
using Catch::Matchers::Contains;

TEST_CASE("caffe weights: V1 and V2 layouts, shape and legacy dims, packed, unpacked and double data",
          "[io][caffe]") {
    const nst::model_weights v1 = nst::read_caffe_weights(caffe_fixture("tiny_v1.caffemodel"));
    check_tiny(v1);
    CHECK(v1.format == "Caffe V1");
    CHECK(v1.info.path == caffe_fixture("tiny_v1.caffemodel"));
    for (const char* name : {"tiny_v2.caffemodel", "tiny_v2_legacy_dims.caffemodel", "tiny_v2_unpacked.caffemodel",
                             "tiny_v2_double.caffemodel"}) {
        INFO(name);
        const nst::model_weights v2 = nst::read_caffe_weights(caffe_fixture(name));
        check_tiny(v2);
        CHECK(v2.format == "Caffe V2");
    }
}

TEST_CASE("caffe weights: reading from memory equals reading the file, SHA-256 included", "[io][caffe]") {
    const std::string path = caffe_fixture("tiny_v2.caffemodel");
    const auto bytes = caffe_file_bytes(path);
    const nst::model_weights a = nst::read_caffe_weights(path);
    const nst::model_weights b = nst::read_caffe_weights_from_memory(bytes.data(), bytes.size(), "memory.caffemodel");
    check_tiny(b);
    CHECK(b.info.path == "memory.caffemodel");
    CHECK(a.info.sha256 == b.info.sha256);
    CHECK(a.info.sha256 == nst::detail::sha256_of_file(path));
}

TEST_CASE("caffe weights: a pinned SHA-256 refuses another file before parsing", "[io][caffe][trust]") {
    const std::string path = caffe_fixture("tiny_v1.caffemodel");
    nst::weights_options pin;
    pin.expected_sha256 = nst::detail::sha256_of_file(path);
    CHECK(nst::read_caffe_weights(path, pin).convs.size() == 2);
    pin.expected_sha256 = nst::detail::sha256_of_file(caffe_fixture("tiny_v2.caffemodel"));
    CHECK_THROWS_WITH(nst::read_caffe_weights(path, pin), Contains("refusing to load another file"));
    // The pin is checked before the (malformed) content is looked at.
    CHECK_THROWS_WITH(nst::read_caffe_weights(caffe_fixture("truncated.caffemodel"), pin), Contains("pinned"));
}

TEST_CASE("caffe weights: bad files are io_errors naming the file, layer and problem", "[io][caffe][errors]") {
    CHECK_THAT(caffe_error_of(caffe_fixture("truncated.caffemodel")),
               Contains("truncated.caffemodel") && Contains("malformed protobuf at byte") && Contains("truncated"));
    CHECK_THAT(caffe_error_of(caffe_fixture("wrong_count.caffemodel")),
               Contains("layer conv1_2 weights: shape 4 x 4 x 3 x 3 but 108 values stored"));
    CHECK_THAT(caffe_error_of(caffe_fixture("kernel_5x5.caffemodel")),
               Contains("layer conv1_1: weights are 4 x 3 x 5 x 5, expected C_out x C_in x 3 x 3"));
    CHECK_THAT(caffe_error_of(caffe_fixture("no_bias.caffemodel")), Contains("layer conv1_1: expected 2 blobs (weights, bias), found 1"));
    CHECK_THAT(caffe_error_of(caffe_fixture("bias_count.caffemodel")), Contains("layer conv1_1: bias is 5, expected 4 values"));
    CHECK_THAT(caffe_error_of(caffe_fixture("nan_weight.caffemodel")),
               Contains("layer conv1_1 weights: value") && Contains("at element 65 is not finite"));
    CHECK_THAT(caffe_error_of(caffe_fixture("mixed_v1_v2.caffemodel")), Contains("mixes V1 'layers' (5) and V2 'layer' (1)"));
    CHECK_THAT(caffe_error_of(caffe_fixture("v0_layer.caffemodel")), Contains("V0 layer") && Contains("upgrade_net_proto_binary"));
    CHECK_THAT(caffe_error_of(caffe_fixture("no_convolutions.caffemodel")), Contains("no convolution layers (1 layers read)"));

    nst::test::temp_folder tmp;
    CHECK_THAT(caffe_error_of(tmp / "missing.caffemodel"), Contains("missing.caffemodel") && Contains("No such file"));
    CHECK_THAT(caffe_error_of(tmp.path.string()), Contains("is a directory"));
    std::ofstream(tmp / "empty.caffemodel").close();
    CHECK_THAT(caffe_error_of(tmp / "empty.caffemodel"), Contains("empty.caffemodel: the file is empty"));
    // An HDF5 file is not a protobuf message.
    if (const std::string shared = nst::test::shared_data_dir(); !shared.empty())
        CHECK_THAT(caffe_error_of(nst::test::weights_path(shared)), Contains(nst::test::weights_path(shared)));

    nst::weights_options strict;  // the plausibility bound names the layer and the value
    strict.max_abs_weight = 1.5;
    CHECK_THROWS_WITH(nst::read_caffe_weights(caffe_fixture("tiny_v1.caffemodel"), strict),
                      Contains("layer conv1_2 weights: value 2 at element 0 exceeds the plausible magnitude 1.5"));
}

TEST_CASE("caffe weights: the first bytes tell a NetParameter", "[io][caffe]") {
    for (const char* name : {"tiny_v1.caffemodel", "tiny_v2.caffemodel"}) {
        const auto bytes = caffe_file_bytes(caffe_fixture(name));
        CHECK(nst::looks_like_caffemodel(bytes.data(), bytes.size()));
    }
    const unsigned char v2_first[] = {0xA2, 0x06, 0x00};
    CHECK(nst::looks_like_caffemodel(v2_first, 3));
    const unsigned char hdf5[] = {0x89, 'H', 'D', 'F'}, zip[] = {'P', 'K', 3, 4}, pickle[] = {0x80, 0x02};
    CHECK_FALSE(nst::looks_like_caffemodel(hdf5, 4));
    CHECK_FALSE(nst::looks_like_caffemodel(zip, 4));
    CHECK_FALSE(nst::looks_like_caffemodel(pickle, 2));
    CHECK_FALSE(nst::looks_like_caffemodel(v2_first, 1));
}

TEST_CASE("caffe weights: the model is named from the convolutions present", "[io][caffe]") {
    auto convs_named = [](const std::vector<std::string>& names) {
        std::vector<nst::named_conv_weights> convs;
        for (const auto& n : names) convs.push_back({n, {}, {}});
        return convs;
    };
    const auto vgg19 = nst::detail::caffe::vgg_conv_names({2, 2, 4, 4, 4});
    const auto vgg16 = nst::detail::caffe::vgg_conv_names({2, 2, 3, 3, 3});
    CHECK(vgg19.size() == 16);
    CHECK(vgg16.size() == 13);
    CHECK(vgg16.back() == "conv5_3");
    CHECK(nst::detail::caffe::vgg_model_of(convs_named(vgg19)) == "vgg19");
    CHECK(nst::detail::caffe::vgg_model_of(convs_named(vgg16)) == "vgg16");
    auto partial = vgg19;
    partial.pop_back();
    CHECK(nst::detail::caffe::vgg_model_of(convs_named(partial)) == "");
}

TEST_CASE("caffe weights: the shared VGG19 .h5 converted to V1 and V2 .caffemodel reads back exactly",
          "[io][caffe][vgg19]") {
    const std::string shared = nst::test::require_shared_data();
    nst::test::temp_folder tmp;
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py", {"convert", nst::test::weights_path(shared),
                                                                     tmp / "vgg19_v1.caffemodel",
                                                                     tmp / "vgg19_v2.caffemodel"}) == 0);
    const nst::keras_weight_file keras(nst::test::weights_path(shared));
    for (const char* name : {"vgg19_v1.caffemodel", "vgg19_v2.caffemodel"}) {
        INFO(name);
        const nst::model_weights w = nst::read_caffe_weights(tmp / name);
        CHECK(w.model == "vgg19");
        CHECK(w.format == (name == std::string("vgg19_v1.caffemodel") ? "Caffe V1" : "Caffe V2"));
        REQUIRE(w.convs.size() == 16);
        for (const auto& c : w.convs) {
            INFO(c.name);
            const auto k = keras.read_conv3x3<float>(nst::keras_vgg_layer_name(c.name), c.weights.shape(1),
                                                     c.weights.shape(0));
            REQUIRE(c.weights.shape() == k.weights.shape());
            REQUIRE(std::equal(c.weights.begin(), c.weights.end(), k.weights.begin()));
            REQUIRE(c.bias.shape() == k.bias.shape());
            REQUIRE(std::equal(c.bias.begin(), c.bias.end(), k.bias.begin()));
        }
        nst::vgg19<float> net;
        CHECK(nst::load_model_weights(net, w) == 16);
    }
}
