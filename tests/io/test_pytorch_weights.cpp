// PyTorch .pth weights (io/pytorch_weights.hpp): the small files tests/fixtures/
// make_pytorch_weights.py wrote with torch itself (both containers, float16/bfloat16/float64,
// strided and offset storages, pickle protocol 4, code-running pickles), every truncation of
// them, and full-size VGG19 files written from the shared .h5 by tests/io/pytorch_writer.hpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nst/io/pytorch_weights.hpp>
#include <nst/io/read_weights.hpp>
#include <nst/models/vgg19.hpp>

#include "io/pytorch_writer.hpp"
#include "test_helpers.hpp"

namespace pth_test {

using nst::test::temp_folder;

std::string fixture(const std::string& name) { return std::string(NST_TEST_SOURCE_DIR) + "/fixtures/pytorch/" + name; }

std::string bytes_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The fixtures' values (see make_pytorch_weights.py): exact in every float type.
float weight_value(std::size_t k, std::size_t l) { return float(double((7 * k + 3 * l) % 64) / 16.0 - 2.0); }
float bias_value(std::size_t k, std::size_t l) { return float(double((5 * k + l) % 32) / 16.0 - 1.0); }

void check_fixture_weights(const nst::model_weights& w) {
    const char* names[] = {"conv1_1", "conv1_2", "conv2_1"};
    const std::size_t in[] = {3, 4, 4}, out[] = {4, 4, 8};
    REQUIRE(w.convs.size() == 3);
    CHECK(w.model.empty());  // conv1_1..conv2_1 are the same in VGG16 and VGG19
    for (std::size_t l = 0; l < 3; ++l) {
        const auto& c = w.convs[l];
        CHECK(c.name == names[l]);
        REQUIRE(c.weights.shape(0) == out[l]);
        REQUIRE(c.weights.shape(1) == in[l]);
        REQUIRE(c.bias.size() == out[l]);
        std::size_t wrong = 0;
        for (std::size_t k = 0; k < c.weights.size(); ++k) wrong += c.weights.data()[k] != weight_value(k, l);
        for (std::size_t k = 0; k < c.bias.size(); ++k) wrong += c.bias(k) != bias_value(k, l);
        CHECK(wrong == 0);
    }
}

// The message of the io_error reading `bytes` throws ("" if none).
std::string error_of(const std::string& bytes, const std::string& name = "x.pth") {
    try {
        (void)nst::read_pytorch_weights_from_memory(bytes.data(), bytes.size(), name);
    } catch (const nst::io_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace pth_test

TEST_CASE("pth: torch-written files of both containers and every float type read the same weights", "[io][pytorch]") {
    for (const char* name : {"tiny_legacy.pth", "tiny_zip.pth", "tiny_float16_zip.pth", "tiny_float64_legacy.pth",
                             "tiny_bfloat16_legacy.pth", "tiny_protocol4_legacy.pth", "tiny_strided_legacy.pth",
                             "tiny_strided_zip.pth"}) {
        INFO(name);
        const nst::model_weights w = nst::read_pytorch_weights(pth_test::fixture(name));
        pth_test::check_fixture_weights(w);
        CHECK(w.format == (std::string(name).find("zip") != std::string::npos ? "PyTorch zip" : "PyTorch legacy"));
        CHECK(w.convention == nst::input_convention::torchvision);
        CHECK(w.info.sha256 == nst::detail::sha256_of_file(pth_test::fixture(name)));
    }
}

TEST_CASE("pth: neural-style-pt's file names mean the Caffe convention, others torchvision", "[io][pytorch]") {
    CHECK(nst::pytorch_convention_for("models/vgg19-d01eb7cb.pth") == nst::input_convention::caffe);
    CHECK(nst::pytorch_convention_for("vgg16-00b39a1b.pth") == nst::input_convention::caffe);
    CHECK(nst::pytorch_convention_for("/x/vgg19-dcbb9e9d.pth") == nst::input_convention::torchvision);
    CHECK(nst::pytorch_convention_for("mine.pth") == nst::input_convention::torchvision);
    const pth_test::temp_folder tmp;
    std::filesystem::copy_file(pth_test::fixture("tiny_legacy.pth"), tmp / "vgg19-d01eb7cb.pth");
    CHECK(nst::read_pytorch_weights(tmp / "vgg19-d01eb7cb.pth").convention == nst::input_convention::caffe);
}

TEST_CASE("pth: a pickle that would run code is refused, naming the GLOBAL", "[io][pytorch][errors]") {
    for (const char* name : {"malicious_os_system_legacy.pth", "malicious_os_system_zip.pth"}) {
        INFO(name);
        CHECK_THROWS_WITH(nst::read_pytorch_weights(pth_test::fixture(name)),
                          Catch::Contains("refusing GLOBAL 'posix.system'") && Catch::Contains(name));
    }
    // Opcodes outside a state dict's (here INST 'i' and NEWOBJ) are refused by name too.
    CHECK_THAT(pth_test::error_of(std::string("\x80\x02(ios\nsystem\n.", 14)), Catch::Contains("opcode 0x69 'i'"));
    CHECK_THAT(pth_test::error_of(std::string("PK\x03\x04", 4)), Catch::Contains("zip"));
}

TEST_CASE("pth: mis-shaped, compressed and truncated files are clean errors", "[io][pytorch][errors]") {
    CHECK_THROWS_WITH(nst::read_pytorch_weights(pth_test::fixture("tiny_bad_shape_zip.pth")),
                      Catch::Contains("features.2.weight (conv1_2): expected 4 x 4 x 3 x 3, got 4 x 5 x 3 x 3"));
    CHECK_THROWS_WITH(nst::read_pytorch_weights(pth_test::fixture("tiny_compressed_zip.pth")),
                      Catch::Contains("is compressed"));
    // Every prefix of both containers: an io_error, never a crash or another exception.
    for (const char* name : {"tiny_legacy.pth", "tiny_zip.pth"}) {
        const std::string bytes = pth_test::bytes_of(pth_test::fixture(name));
        std::size_t clean = 0;
        for (std::size_t n = 0; n < bytes.size(); ++n) clean += !pth_test::error_of(bytes.substr(0, n)).empty();
        CHECK(clean == bytes.size());
    }
}

TEST_CASE("pth: long storage keys and a storage key list longer than the storages are refused",
          "[io][pytorch][errors]") {
    // Each tensor copies its storage's key, each entry of a legacy key list was copied and hashed:
    // a long key used again and again cost its length each time (180 KB of pickle asked for 2.6 GB,
    // a 4 MB legacy file took 54 s). torch's keys are a few dozen bytes at most.
    const std::vector<nst::test::pth::tensor> one{{"features.0.weight", {1}, {1.0f}}};
    CHECK(pth_test::error_of(nst::test::pth::legacy_file(one)).find("storage key") == std::string::npos);
    CHECK_THAT(pth_test::error_of(nst::test::pth::legacy_file(one, std::string(300, 'k'))),
               Catch::Contains("a storage key of 301 bytes"));
    CHECK_THAT(pth_test::error_of(nst::test::pth::legacy_file(one, "", 2)),
               Catch::Contains("the storage key list names 2 storages, the tensors use 1"));
}

TEST_CASE("pth: non-finite and implausible values are refused naming the layer", "[io][pytorch][errors]") {
    using nst::test::pth::tensor;
    std::vector<float> w(4 * 3 * 9, 0.5f);
    const auto file = [&](float bad) {
        w[5] = bad;
        return nst::test::pth::zip_container({{"features.0.weight", {4, 3, 3, 3}, w}, {"features.0.bias", {4}, {0, 0, 0, 0}}});
    };
    CHECK(pth_test::error_of(file(0.25f)).empty());
    CHECK_THAT(pth_test::error_of(file(2e4f)), Catch::Contains("features.0.weight (conv1_1)") && Catch::Contains("plausible"));
    CHECK_THAT(pth_test::error_of(file(NAN)), Catch::Contains("features.0.weight (conv1_1)") && Catch::Contains("not finite"));
    const std::string no_bias = nst::test::pth::legacy_file({{"features.0.weight", {4, 3, 3, 3}, w}});
    CHECK_THAT(pth_test::error_of(no_bias), Catch::Contains("features.0.bias (conv1_1) is missing"));
    const std::string gap = nst::test::pth::legacy_file({{"features.2.weight", {4, 3, 3, 3}, w}});
    CHECK_THAT(pth_test::error_of(gap), Catch::Contains("features.{2}.weight are neither VGG19's"));
}

TEST_CASE("pth: the features indices tell VGG19 from VGG16", "[io][pytorch]") {
    namespace p = nst::detail::torchvision_vgg;
    CHECK(p::detect_layout({0, 2, 5, 7, 10, 12, 14, 16}, "f").second == "vgg19");
    CHECK(p::detect_layout({0, 2, 5, 7, 10, 12, 14, 17}, "f").second == "vgg16");
    CHECK(p::detect_layout({0, 2, 5, 7, 10, 12, 14}, "f").second.empty());
    CHECK_THROWS_AS(p::detect_layout({0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 23}, "f"), nst::io_error);
    CHECK(p::conv_name(p::vgg16_layout(), 7) == "conv4_1");
    CHECK(p::conv_name(p::vgg19_layout(), 15) == "conv5_4");
    CHECK(p::conv_channels(p::vgg19_layout(), 4) == 256);
    CHECK(p::conv_channels(p::vgg16_layout(), 12) == 512);
}

TEST_CASE("pth: full-size VGG19 in both containers equals the shared .h5 exactly", "[io][pytorch][shared]") {
    const std::string shared = nst::test::require_shared_data();
    const nst::model_weights h5 = nst::read_model_weights(nst::test::weights_path(shared));
    const pth_test::temp_folder tmp;
    const auto tensors = nst::test::pth::vgg19_state_dict(h5);
    nst::test::pth::write_file(tmp / "vgg19-d01eb7cb.pth", nst::test::pth::legacy_file(tensors));
    nst::test::pth::write_file(tmp / "vgg19_zip.pth", nst::test::pth::zip_container(tensors));
    for (const char* name : {"vgg19-d01eb7cb.pth", "vgg19_zip.pth"}) {
        INFO(name);
        const nst::model_weights w = nst::read_model_weights(tmp / name);
        CHECK(w.model == "vgg19");
        REQUIRE(w.convs.size() == h5.convs.size());
        for (std::size_t n = 0; n < w.convs.size(); ++n) {
            CHECK(w.convs[n].name == h5.convs[n].name);
            CHECK(w.convs[n].weights == h5.convs[n].weights);
            CHECK(w.convs[n].bias == h5.convs[n].bias);
        }
        nst::vgg19<float> net;
        CHECK(nst::load_model_weights(net, w) == 16);
    }
    CHECK(nst::read_model_weights(tmp / "vgg19-d01eb7cb.pth").convention == nst::input_convention::caffe);
    CHECK(nst::read_model_weights(tmp / "vgg19_zip.pth").convention == nst::input_convention::torchvision);
}
