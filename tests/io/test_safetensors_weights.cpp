// safetensors weights (io/safetensors_weights.hpp): files tests/fixtures/make_safetensors_weights.py
// wrote from the .pth fixtures as torch reads them (so both must load to the same weights),
// full-size VGG19 and VGG16 written from the shared .h5, and files made here byte by byte that
// break one rule of the format each.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <nst/io/pytorch_weights.hpp>
#include <nst/io/read_weights.hpp>
#include <nst/io/safetensors_weights.hpp>
#include <nst/models/vgg16.hpp>
#include <nst/models/vgg19.hpp>

#include "fixture_script.hpp"
#include "test_helpers.hpp"

namespace st_test {

std::string fixture(const std::string& relative) { return std::string(NST_TEST_SOURCE_DIR) + "/fixtures/" + relative; }

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string le64(std::uint64_t n) {
    std::string s;
    for (int i = 0; i < 8; ++i) s += char((n >> (8 * i)) & 0xff);
    return s;
}

// A file of the given header text (used as is: no padding added) and data buffer.
std::string file_of(const std::string& header, const std::string& data) { return le64(header.size()) + header + data; }

std::string f32_bytes(std::size_t count, float v) {
    std::string s(count * 4, '\0');
    for (std::size_t i = 0; i < count; ++i) std::memcpy(&s[i * 4], &v, 4);  // little-endian host
    return s;
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, std::size_t begin,
                  std::size_t end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + shape + "],\"data_offsets\":[" +
           std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// conv1_1 of 4 output channels, all weights 0.25 and biases -0.5: 432 + 16 bytes of data.
std::string conv1_1_entries() {
    return entry("features.0.weight", "F32", "4,3,3,3", 0, 432) + "," + entry("features.0.bias", "F32", "4", 432, 448);
}
std::string conv1_1_data() { return f32_bytes(108, 0.25f) + f32_bytes(4, -0.5f); }
std::string conv1_1_file() { return file_of("{" + conv1_1_entries() + "}", conv1_1_data()); }

std::uint64_t header_length(const std::string& file) {
    std::uint64_t n = 0;
    for (std::size_t i = 8; i-- > 0;) n = (n << 8) | std::uint8_t(file.at(i));
    return n;
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    REQUIRE(out.good());
}

const char* const name = "bad.safetensors";

// The message of the io_error reading `bytes` throws ("" if none); any other exception escapes.
std::string error_of(const std::string& bytes) {
    try {
        (void)nst::read_safetensors_weights_from_memory(bytes.data(), bytes.size(), name);
    } catch (const nst::io_error& e) {
        return e.what();
    }
    return "";
}

// Starts with the file's name, as every reader's messages do, and contains `part`.
struct names_file_and : Catch::MatcherBase<std::string> {
    std::string part;
    explicit names_file_and(std::string p) : part(std::move(p)) {}
    bool match(const std::string& message) const override {
        return message.rfind(std::string(name) + ": ", 0) == 0 && message.find(part) != std::string::npos;
    }
    std::string describe() const override {
        return std::string("starts with \"") + name + ": \" and contains \"" + part + "\"";
    }
};

}  // namespace st_test

TEST_CASE("safetensors: files written from the .pth fixtures read to the .pth's weights", "[io][safetensors]") {
    const std::pair<const char*, const char*> pairs[] = {
        {"tiny.safetensors", "tiny_zip.pth"},          {"tiny_f16.safetensors", "tiny_float16_zip.pth"},
        {"tiny_bf16.safetensors", "tiny_bfloat16_legacy.pth"}, {"tiny_f64.safetensors", "tiny_float64_legacy.pth"},
        {"tiny_padded.safetensors", "tiny_zip.pth"}};
    for (const auto& [st, pth] : pairs) {
        INFO(st);
        const std::string path = st_test::fixture(std::string("safetensors/") + st);
        const nst::model_weights w = nst::read_safetensors_weights(path);
        const nst::model_weights p = nst::read_pytorch_weights(st_test::fixture(std::string("pytorch/") + pth));
        CHECK(w.format == "safetensors");
        CHECK(w.convention == nst::input_convention::torchvision);
        CHECK(w.model.empty());  // conv1_1..conv2_1: common to VGG16 and VGG19
        CHECK(w.info.sha256 == nst::detail::sha256_of_file(path));
        REQUIRE(w.convs.size() == 3);
        REQUIRE(p.convs.size() == 3);
        for (std::size_t n = 0; n < 3; ++n) {
            CHECK(w.convs[n].name == p.convs[n].name);
            CHECK(w.convs[n].weights == p.convs[n].weights);
            CHECK(w.convs[n].bias == p.convs[n].bias);
        }
        // make_pytorch_weights.py's formula, independently of both readers: element 5 of conv1_2's
        // weight is ((7*5 + 3) % 64) / 16 - 2, element 3 of conv2_1's bias ((5*3 + 2) % 32) / 16 - 1.
        CHECK(w.convs[1].weights.data()[5] == 38.0f / 16 - 2);
        CHECK(w.convs[2].bias(3) == 17.0f / 16 - 1);
        CHECK(w.convs[2].weights.shape(0) == 8);
        // classifier.0.weight (1e9 each, above max_abs_weight) was not decoded.
    }
    // The padding is there: tiny_padded's header is tiny's with 40 more spaces at its end.
    const std::string tiny = st_test::file_bytes(st_test::fixture("safetensors/tiny.safetensors"));
    const std::string padded = st_test::file_bytes(st_test::fixture("safetensors/tiny_padded.safetensors"));
    const std::uint64_t n = st_test::header_length(tiny), n_padded = st_test::header_length(padded);
    CHECK(n_padded == n + 40);
    CHECK(padded.substr(8 + n_padded - 40, 40) == std::string(40, ' '));
}

TEST_CASE("safetensors: read_model_weights tells the format by its bytes, whatever the name", "[io][safetensors]") {
    const nst::test::temp_folder tmp;
    std::filesystem::copy_file(st_test::fixture("safetensors/tiny.safetensors"), tmp / "weights.pth");
    const nst::model_weights w = nst::read_model_weights(tmp / "weights.pth");
    CHECK(w.format == "safetensors");
    CHECK(w.convention == nst::input_convention::torchvision);
    CHECK(w.convs.size() == 3);
    CHECK_THAT(nst::supported_weight_formats(), Catch::Contains("safetensors"));
    // A header of 640 bytes: its length field starts 80 02, a pickle's first bytes.
    std::string header = "{" + st_test::conv1_1_entries() + "}";
    header += std::string(640 - header.size(), ' ');
    st_test::write_file(tmp / "640", st_test::file_of(header, st_test::conv1_1_data()));
    CHECK(nst::read_model_weights(tmp / "640").format == "safetensors");
}

TEST_CASE("safetensors: full-size VGG19 and VGG16 written from the shared .h5 read back exactly",
          "[io][safetensors][shared]") {
    const std::string shared = nst::test::require_shared_data();
    const nst::test::temp_folder tmp;
    REQUIRE(nst::test::run_fixture_script("make_safetensors_weights.py",
                                          {"--from-h5", nst::test::weights_path(shared), tmp.path.string()}) == 0);
    const nst::model_weights h5 = nst::read_model_weights(nst::test::weights_path(shared));
    for (const char* model : {"vgg19", "vgg16"}) {
        INFO(model);
        const nst::model_weights w = nst::read_model_weights(tmp / (std::string(model) + ".safetensors"));
        CHECK(w.format == "safetensors");
        CHECK(w.model == model);
        REQUIRE(w.convs.size() == (model == std::string("vgg19") ? 16u : 13u));
        for (const auto& c : w.convs) {
            INFO(c.name);
            const nst::named_conv_weights* k = h5.find(c.name);  // VGG16's convs are the .h5's first of each block
            REQUIRE(k != nullptr);
            CHECK(c.weights == k->weights);
            CHECK(c.bias == k->bias);
        }
        if (w.model == "vgg19") {
            nst::vgg19<float> net;
            CHECK(nst::load_model_weights(net, w) == 16);
        } else {
            nst::vgg16<float> net;
            CHECK(nst::load_model_weights(net, w) == 13);
        }
    }
}

TEST_CASE("safetensors: F16, BF16 and F64 tensors, metadata, and ignored tensors of any dtype",
          "[io][safetensors]") {
    using st_test::entry;
    // 1.5 as F16 is 0x3e00, as BF16 0x3fc0, as F64 0x3ff8000000000000.
    const auto repeat = [](const std::string& element, std::size_t n) {
        std::string s;
        for (std::size_t i = 0; i < n; ++i) s += element;
        return s;
    };
    const std::string f16(std::string("\x00\x3e", 2)), bf16(std::string("\xc0\x3f", 2)),
        f64(std::string("\x00\x00\x00\x00\x00\x00\xf8\x3f", 8));
    const std::string header = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"\\u00e9t\\u00e9\"}," +
                               entry("features.0.weight", "F16", "4,3,3,3", 0, 216) + "," +
                               entry("features.0.bias", "BF16", "4", 216, 224) + "," +
                               entry("features.2.weight", "F64", "4,4,3,3", 224, 1376) + "," +
                               entry("features.2.bias", "F32", "4", 1376, 1392) + "," +
                               entry("classifier.0.weight", "I64", "2", 1392, 1408) + "," +
                               entry("head.fc.weight", "F32", "2,2", 1408, 1424) + "," +
                               entry("pre_logits.fc1.weight", "BOOL", "0,7", 1424, 1424) + "}   ";
    const std::string data = repeat(f16, 108) + repeat(bf16, 4) + repeat(f64, 144) + st_test::f32_bytes(4, 1.5f) +
                             std::string(16, '\x7f') + st_test::f32_bytes(4, NAN);
    const std::string bytes = st_test::file_of(header, data);
    const nst::model_weights w = nst::read_safetensors_weights_from_memory(bytes.data(), bytes.size(), "mixed");
    REQUIRE(w.convs.size() == 2);
    for (const auto& c : w.convs) {
        for (const float v : c.weights) CHECK(v == 1.5f);
        for (const float v : c.bias) CHECK(v == 1.5f);
    }
    // `module.` (nn.DataParallel) is stripped, but then a key must not be there twice.
    const std::string dp = st_test::file_of("{" + entry("module.features.0.weight", "F32", "4,3,3,3", 0, 432) + "," +
                                            entry("features.0.bias", "F32", "4", 432, 448) + "}",
                                            st_test::conv1_1_data());
    CHECK(st_test::error_of(dp).empty());
    const std::string twice = st_test::file_of(
        "{" + st_test::conv1_1_entries() + "," + entry("module.features.0.bias", "F32", "4", 448, 464) + "}",
        st_test::conv1_1_data() + st_test::f32_bytes(4, 0));
    CHECK_THAT(st_test::error_of(twice), st_test::names_file_and("features.0.bias is given twice"));
}

TEST_CASE("safetensors: a damaged header or data layout is refused naming the file and tensor",
          "[io][safetensors][errors]") {
    using st_test::entry;
    using st_test::error_of;
    using st_test::file_of;
    using st_test::names_file_and;
    const std::string data = st_test::conv1_1_data();
    const std::string bias = entry("features.0.bias", "F32", "4", 432, 448);
    CHECK(error_of(st_test::conv1_1_file()).empty());

    // Truncated: every prefix of a valid file is an io_error (never a crash or another exception).
    const std::string good = st_test::conv1_1_file();
    std::size_t clean = 0;
    for (std::size_t n = 0; n < good.size(); ++n) clean += !error_of(good.substr(0, n)).empty();
    CHECK(clean == good.size());
    CHECK_THAT(error_of(good.substr(0, 5)), names_file_and("truncated: the 8-byte header length"));
    CHECK_THAT(error_of(good.substr(0, 100)), names_file_and("runs past the end of the file (100 bytes)"));
    CHECK_THAT(error_of(st_test::le64(200000000) + "{}"), names_file_and("more than the 100000000"));

    // Not JSON, not an object, not starting with '{', a key twice, a bad string.
    CHECK_THAT(error_of(file_of("{not json}", "")), names_file_and("the safetensors header is not valid JSON"));
    CHECK_THAT(error_of(file_of("{\"a\":1,}", "")), names_file_and("not valid JSON"));
    CHECK_THAT(error_of(file_of(" {}", "")), names_file_and("does not start with '{'"));
    CHECK_THAT(error_of(file_of("{}x", "")), names_file_and("text after the JSON value"));
    CHECK_THAT(error_of(file_of("{" + st_test::conv1_1_entries() + "," + bias + "}", data)),
               names_file_and("duplicate key \"features.0.bias\""));
    CHECK_THAT(error_of(file_of("{\"a\xff\":{}}", "")), names_file_and("invalid UTF-8"));
    CHECK_THAT(error_of(file_of("{\"\\ud800\":{}}", "")), names_file_and("surrogate"));
    CHECK_THAT(error_of(file_of("{\"a\":" + std::string(70, '['), "")), names_file_and("nesting deeper than 64"));
    CHECK_THAT(error_of(file_of("{\"__metadata__\":{\"v\":1}}", "")), names_file_and("__metadata__ \"v\" is a number"));

    // Tensor info: fields, types, sizes.
    const std::string w = "features.0.weight";
    CHECK_THAT(error_of(file_of("{\"" + w + "\":{\"dtype\":\"F32\",\"shape\":[4,3,3,3]}," + bias + "}", data)),
               names_file_and("tensor \"features.0.weight\": data_offsets is missing"));
    CHECK_THAT(error_of(file_of("{\"" + w + "\":{\"dtype\":\"F32\",\"shape\":[4,3,3,3],\"data_offsets\":[0,432],"
                                "\"x\":0}," + bias + "}", data)),
               names_file_and("tensor \"features.0.weight\": unknown field \"x\""));
    CHECK_THAT(error_of(file_of("{" + entry(w, "F32", "4,3,3,-3", 0, 432) + "," + bias + "}", data)),
               names_file_and("tensor \"features.0.weight\": shape holds -3, not a non-negative integer"));
    CHECK_THAT(error_of(file_of("{" + entry(w, "F32", "4,3,3,3", 0, 400) + "," + bias + "}", data)),
               names_file_and("tensor \"features.0.weight\": F32 4 x 3 x 3 x 3 needs 432 bytes"));
    CHECK_THAT(error_of(file_of("{" + entry(w, "F32", "4,3,3,3", 432, 0) + "," + bias + "}", data)),
               names_file_and("end before they begin"));
    CHECK_THAT(error_of(file_of("{" + entry(w, "F32", "1099511627776,1099511627776,3,3", 0, 432) + "," + bias + "}",
                                data)),
               names_file_and("implausibly large"));

    // Offsets: out of range, overlapping, leaving a gap or trailing bytes.
    CHECK_THAT(error_of(file_of("{" + entry(w, "F32", "4,3,3,3", 448, 880) + "," + bias + "}", data)),
               names_file_and("tensor \"features.0.weight\": data_offsets [448, 880] out of range: the data buffer has 448"));
    CHECK_THAT(error_of(file_of("{" + entry(w, "F32", "4,3,3,3", 0, 432) + "," +
                                entry("features.0.bias", "F32", "4", 428, 444) + "}", data)),
               names_file_and("tensor \"features.0.bias\": data_offsets [428, 444] overlap tensor \"features.0.weight\""));
    CHECK_THAT(error_of(file_of("{" + entry(w, "F32", "4,3,3,3", 4, 436) + "," +
                                entry("features.0.bias", "F32", "4", 436, 452) + "}", data + "1234")),
               names_file_and("bytes 0..4 of the data buffer belong to no tensor"));
    CHECK_THAT(error_of(file_of("{" + st_test::conv1_1_entries() + "}", data + "1234")),
               names_file_and("bytes 448..452 of the data buffer belong to no tensor (after the last)"));
}

TEST_CASE("safetensors: VGG tensors of a wrong shape, dtype or value, or missing, are refused naming the layer",
          "[io][safetensors][errors]") {
    using st_test::entry;
    using st_test::error_of;
    using st_test::file_of;
    using st_test::names_file_and;
    const std::string data = st_test::conv1_1_data();
    const std::string bias = entry("features.0.bias", "F32", "4", 432, 448);
    CHECK_THAT(error_of(file_of("{" + entry("features.0.weight", "F32", "4,3,3,3", 0, 432) + "}", data.substr(0, 432))),
               names_file_and("features.0.bias (conv1_1) is missing"));
    CHECK_THAT(error_of(file_of("{\"__metadata__\":{}," + entry("classifier.0.bias", "F32", "1", 0, 4) + "}", "1234")),
               names_file_and("no features.N.weight tensor: not a VGG in torchvision's layout"));
    CHECK_THAT(error_of(file_of("{" + entry("features.2.weight", "F32", "4,3,3,3", 0, 432) + "," +
                                entry("features.2.bias", "F32", "4", 432, 448) + "}", data)),
               names_file_and("features.{2}.weight are neither VGG19's"));
    CHECK_THAT(error_of(file_of("{" + entry("features.0.weight", "F32", "3,4,3,3", 0, 432) + "," + bias + "}", data)),
               names_file_and("features.0.weight (conv1_1): expected 3 x 3 x 3 x 3, got 3 x 4 x 3 x 3"));
    CHECK_THAT(error_of(file_of("{" + entry("features.0.weight", "F32", "4,3,3,3", 0, 432) + "," +
                                entry("features.0.bias", "F32", "2,2", 432, 448) + "}", data)),
               names_file_and("features.0.bias (conv1_1): expected 4, got 2 x 2"));
    CHECK_THAT(error_of(file_of("{" + entry("features.0.weight", "I32", "4,3,3,3", 0, 432) + "," + bias + "}", data)),
               names_file_and("features.0.weight (conv1_1): stored as I32, not a float type"));
    CHECK_THAT(error_of(file_of("{" + entry("features.0.weight", "F4", "4,3,3,3", 0, 432) + "," + bias + "}", data)),
               names_file_and("tensor \"features.0.weight\": unknown or unsupported dtype \"F4\""));
    CHECK_THAT(error_of(file_of("{" + st_test::conv1_1_entries() + "}", data.substr(0, 432) + st_test::f32_bytes(4, NAN))),
               names_file_and("features.0.bias (conv1_1): value nan at element 0 is not finite"));
    CHECK_THAT(error_of(file_of("{" + entry("features.0.weight", "F32", "4,3,3,3", 0, 432) + "," + bias + "," +
                                entry("features.0.running_mean", "F32", "4", 448, 464) + "}", data + data.substr(432))),
               names_file_and("features.0.running_mean is not a plain VGG's"));
}
