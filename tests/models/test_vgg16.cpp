// VGG16 (models/vgg16.hpp) and the run-time model choice (models/model_kind.hpp): the
// architecture from the types (names generated here independently, shapes, minimum sizes,
// Keras' parameter count), the input gradient against finite differences, and VGG16 weights in
// Keras' .h5 layout and as a .caffemodel (both written at test time by
// tests/fixtures/make_vgg_weights.py: random weights, 58 MB, too large to commit) loading into
// the right layers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "fixture_script.hpp"
#include "test_helpers.hpp"

namespace vgg16_test {

std::vector<std::string> vgg16_names_by_hand() {
    std::vector<std::string> expected;
    const std::size_t convs_per_block[5] = {2, 2, 3, 3, 3};
    for (std::size_t block = 1; block <= 5; ++block) {
        for (std::size_t c = 1; c <= convs_per_block[block - 1]; ++c) {
            expected.push_back("conv" + std::to_string(block) + "_" + std::to_string(c));
            expected.push_back("relu" + std::to_string(block) + "_" + std::to_string(c));
        }
        expected.push_back("pool" + std::to_string(block));
    }
    return expected;
}

}  // namespace vgg16_test

TEST_CASE("vgg16 architecture: names, shapes, minimum sizes and parameters from the types", "[vgg16][models]") {
    using net = nst::vgg16<float, nst::pooling::max>;
    const auto& names = net::layer_names();
    REQUIRE(std::vector<std::string>(names.begin(), names.end()) == vgg16_test::vgg16_names_by_hand());
    REQUIRE(nst::vgg16<double>::layer_names() == names);
    REQUIRE(nst::vgg16_layer_names() == names);
    REQUIRE(net().names() == names);
    REQUIRE(net::layer_index("relu4_2") == 20);  // 2 + 2 + 3 convolutions with ReLU and 3 pools before conv4_1
    REQUIRE(net::find_layer("pool5") == std::size_t(30));
    REQUIRE_FALSE(net::find_layer("conv5_4").has_value());
    REQUIRE_THROWS_WITH(net::layer_index("relu5_4"), Catch::Contains("unknown VGG16 layer 'relu5_4'") &&
                                                         Catch::Contains("relu5_3"));
    REQUIRE(net::layer_names_summary() == "conv1_1, relu1_1, ..., conv5_3, relu5_3, pool1..pool5");

    constexpr auto at224 = net::output_shapes({3, 224, 224});
    static_assert(at224[30][0] == 512 && at224[30][1] == 7 && at224[30][2] == 7);
    static_assert(at224[net::size - 2][0] == 512 && at224[net::size - 2][1] == 14);
    REQUIRE(net::min_input_side(net::layer_index("conv2_1")) == 2);
    REQUIRE(net::min_input_side(net::layer_index("relu5_1")) == 16);
    REQUIRE(net::min_input_side() == 32);

    // Keras' VGG16(include_top=False) reports 14,714,688 parameters.
    std::size_t total = 0;
    for (std::size_t p : net::parameter_counts()) total += p;
    REQUIRE(total == 14714688);
}

TEST_CASE("vgg16: the input gradient through the network matches finite differences", "[vgg16][gradient]") {
    nst::vgg16<double> net;
    std::mt19937 rng(16);
    nst::test::randomize_weights(net, rng);
    nst::objective<nst::vgg16<double>> obj(net);
    net.keep_all();
    net.forward(nst::test::random_tensor<double, 3>({3, 16, 16}, rng, -50, 50), net.layer_index("conv5_3"));
    obj.add("relu3_3", 1.0, nst::content_loss<double>(net.output("relu3_3")), "content");
    obj.add("conv5_3", 100.0, nst::style_loss<double>(nst::style_target(net.output("conv5_3"))), "style");
    const auto x0 = nst::test::random_tensor<double, 3>({3, 16, 16}, rng, -50, 50);
    nst::tensor3<double> grad;
    REQUIRE(obj(x0, grad) > 0);
    std::function<double(const nst::tensor3<double>&)> f = [&](const nst::tensor3<double>& x) {
        nst::tensor3<double> unused;
        return obj(x, unused);
    };
    REQUIRE(nst::test::gradient_error(f, x0, grad, 16, rng, 1e-4) < nst::test::tolerance);
}

TEST_CASE("model_kind: names, parsing and the dispatch to the network type", "[vgg16][models]") {
    CHECK(std::string(nst::to_string(nst::model_kind::vgg16)) == "vgg16");
    CHECK(std::string(nst::to_string(nst::model_kind::vgg19)) == "vgg19");
    CHECK(nst::parse_model_kind("vgg16") == nst::model_kind::vgg16);
    CHECK(nst::parse_model_kind("vgg19") == nst::model_kind::vgg19);
    CHECK_FALSE(nst::parse_model_kind("VGG16").has_value());
    CHECK_FALSE(nst::parse_model_kind("nin").has_value());
    auto size_of = [](nst::model_kind m, nst::pooling p) {
        return nst::with_vgg<float>(m, p, [&](auto tag) {
            using net = typename decltype(tag)::type;
            CHECK(net::pooling_mode == p);
            return net::size;
        });
    };
    CHECK(size_of(nst::model_kind::vgg16, nst::pooling::max) == 31);
    CHECK(size_of(nst::model_kind::vgg16, nst::pooling::average) == 31);
    CHECK(size_of(nst::model_kind::vgg19, nst::pooling::max) == 37);
}

TEST_CASE("vgg16 weights: Keras' .h5 layout and the same weights as .caffemodel load into the right layers",
          "[vgg16][io]") {
    nst::test::temp_folder tmp;
    const std::string h5 = tmp / "vgg16_notop.h5";
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py", {"vgg16-h5", h5}) == 0);
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py",
                                          {"convert", h5, tmp / "vgg16_v1.caffemodel", tmp / "vgg16_v2.caffemodel"}) == 0);

    const nst::keras_weight_file file(h5);
    nst::vgg16<float> from_keras;
    REQUIRE(nst::load_vgg19_weights(from_keras, file) == 13);  // Keras' names map the same way
    std::vector<std::vector<float>> keras_weights;  // per convolution, in network order
    from_keras.for_each_layer([&](auto& layer, std::size_t, const std::string& name) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (nst::is_conv3x3_v<L>) {
            INFO(name);
            const auto w = file.read_conv3x3<float>(nst::keras_vgg_layer_name(name), L::in_channels, L::out_channels);
            REQUIRE(std::equal(w.weights.begin(), w.weights.end(), layer.weights().begin()));
            REQUIRE(std::equal(w.bias.begin(), w.bias.end(), layer.bias().begin()));
            keras_weights.emplace_back(layer.weights().begin(), layer.weights().end());
        }
    });
    REQUIRE(keras_weights.size() == 13);
    CHECK(nst::detail::weights_model(file) == "vgg16");

    for (const char* name : {"vgg16_v1.caffemodel", "vgg16_v2.caffemodel"}) {
        INFO(name);
        const nst::model_weights w = nst::read_caffe_weights(tmp / name);
        CHECK(w.model == "vgg16");
        nst::vgg16<float> from_caffe;
        REQUIRE(nst::load_model_weights(from_caffe, w) == 13);
        std::size_t conv = 0;
        from_caffe.for_each_layer([&](auto& layer, std::size_t, const std::string&) {
            using L = std::decay_t<decltype(layer)>;
            if constexpr (nst::is_conv3x3_v<L>) {
                const std::vector<float>& reference = keras_weights[conv++];
                REQUIRE(std::equal(layer.weights().begin(), layer.weights().end(), reference.begin()));
            }
        });
        // VGG19 lacks nothing VGG16 has by name, but a VGG16 file misses VGG19's conv3_4.
        nst::vgg19<float> vgg19;
        CHECK_THROWS_WITH(nst::load_model_weights(vgg19, w), Catch::Contains("no weights for layer conv3_4"));
    }
}

TEST_CASE("vgg16: a VGG19 weight file is refused, not loaded by name into the wrong layers", "[vgg16][io]") {
    nst::test::temp_folder tmp;
    const std::string h5 = tmp / "vgg19_notop.h5";
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py", {"vgg19-h5", h5}) == 0);
    // VGG16's names are all in the file, each of the right shape, but its conv4_1 follows conv3_3
    // where the file's follows conv3_4.
    nst::vgg16<float> net;
    CHECK_THROWS_WITH(nst::load_vgg19_weights(net, h5),
                      Catch::Contains(h5) && Catch::Contains("convolution block3_conv4 lies among the network's") &&
                          Catch::Contains("16 convolutions"));
    CHECK_THROWS_WITH(nst::load_model_weights(net, nst::read_model_weights(h5)),
                      Catch::Contains("convolution conv3_4 lies among") && Catch::Contains("(vgg19)"));
    nst::vgg19<float> vgg19;
    CHECK(nst::load_vgg19_weights(vgg19, h5) == 16);
}

#if __has_include(<nst/io/pytorch_weights.hpp>)
#include <nst/io/pytorch_weights.hpp>

TEST_CASE("vgg16 weights: torchvision's layout (features.0, 2, 5, ..., 28) in zip and legacy .pth loads into VGG16",
          "[vgg16][io]") {
    nst::test::temp_folder tmp;
    const std::string h5 = tmp / "vgg16_notop.h5";
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py", {"vgg16-h5", h5}) == 0);
    const std::string zip = tmp / "vgg16-397923af.pth", legacy = tmp / "legacy_vgg16.pth";
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py", {"torchvision", h5, zip}) == 0);
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py", {"torchvision", h5, legacy, "legacy"}) == 0);
    nst::vgg16<float> from_keras;
    REQUIRE(nst::load_vgg19_weights(from_keras, h5) == 13);
    for (const std::string& path : {zip, legacy}) {
        INFO(path);
        const nst::model_weights w = nst::read_pytorch_weights(path);
        CHECK(w.model == "vgg16");
        CHECK(w.convention == nst::input_convention::torchvision);  // published torchvision names and unknown ones
        nst::vgg16<float> net;
        REQUIRE(nst::load_model_weights(net, w) == 13);
        std::vector<std::vector<float>> expected, actual;
        auto collect = [](std::vector<std::vector<float>>& out) {
            return [&out](auto& layer, std::size_t, const std::string&) {
                using L = std::decay_t<decltype(layer)>;
                if constexpr (nst::is_conv3x3_v<L>) out.emplace_back(layer.weights().begin(), layer.weights().end());
            };
        };
        from_keras.for_each_layer(collect(expected));
        net.for_each_layer(collect(actual));
        REQUIRE(actual == expected);
    }
}
#endif
