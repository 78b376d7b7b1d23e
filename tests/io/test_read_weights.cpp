// read_model_weights (io/read_weights.hpp): the format is told by the bytes, whatever the name;
// unknown formats list the supported ones; the Keras adapter gives nst names and the Caffe
// convention.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <nst/io/read_weights.hpp>

#include "test_helpers.hpp"

namespace read_weights_test {
std::string source(const std::string& relative) { return std::string(NST_TEST_SOURCE_DIR) + "/" + relative; }
}  // namespace read_weights_test

TEST_CASE("read_model_weights: dispatches by content, not by file name", "[io][read_weights]") {
    const nst::test::temp_folder tmp;
    std::filesystem::copy_file(read_weights_test::source("fuzz/corpus/keras_weights/fixed_strings.h5"), tmp / "keras.pth");
    std::filesystem::copy_file(read_weights_test::source("fixtures/pytorch/tiny_zip.pth"), tmp / "zip.h5");
    std::filesystem::copy_file(read_weights_test::source("fixtures/pytorch/tiny_legacy.pth"), tmp / "legacy");

    const nst::model_weights keras = nst::read_model_weights(tmp / "keras.pth");
    CHECK(keras.format == "Keras HDF5");
    CHECK(keras.convention == nst::input_convention::caffe);
    REQUIRE(keras.convs.size() == 2);
    CHECK(keras.convs[0].name == "conv1_1");
    CHECK(keras.convs[1].name == "conv1_2");
    CHECK(keras.convs[1].weights.shape(1) == 4);
    CHECK(keras.model.empty());
    CHECK(nst::read_model_weights(tmp / "zip.h5").format == "PyTorch zip");
    CHECK(nst::read_model_weights(tmp / "legacy").format == "PyTorch legacy");
}

TEST_CASE("read_model_weights: the Keras adapter equals keras_weight_file on the shared VGG19",
          "[io][read_weights][shared]") {
    const std::string path = nst::test::weights_path(nst::test::require_shared_data());
    const nst::model_weights w = nst::read_model_weights(path);
    CHECK(w.model == "vgg19");
    REQUIRE(w.convs.size() == 16);
    const nst::keras_weight_file file(path);
    const auto c = file.read_conv3x3<float>("block4_conv2", 512, 512);
    CHECK(w.convs[9].name == "conv4_2");
    CHECK(w.convs[9].weights == c.weights);
    CHECK(w.convs[9].bias == c.bias);
    CHECK(w.info.sha256 == file.info().sha256);
}

TEST_CASE("read_model_weights: unknown formats, missing files and pins are clean errors", "[io][read_weights][errors]") {
    const nst::test::temp_folder tmp;
    std::ofstream(tmp / "notes.txt") << "not weights";
    std::ofstream(tmp / "empty.pth").flush();
    CHECK_THROWS_WITH(nst::read_model_weights(tmp / "notes.txt"),
                      Catch::Contains("unknown weights format (first bytes 6e 6f 74") &&
                          Catch::Contains("Keras HDF5") && Catch::Contains("PyTorch .pth"));
    CHECK_THROWS_WITH(nst::read_model_weights(tmp / "empty.pth"), Catch::Contains("empty file"));
    CHECK_THROWS_WITH(nst::read_model_weights(tmp / "missing.pth"), Catch::Contains("no such file"));
    CHECK_THROWS_WITH(nst::read_model_weights(tmp.path.string()), Catch::Contains("is a directory"));
    nst::weights_options pin;
    pin.expected_sha256 = std::string(64, 'a');
    CHECK_THROWS_WITH(nst::read_model_weights(read_weights_test::source("fixtures/pytorch/tiny_zip.pth"), pin),
                      Catch::Contains("pinned"));
}
