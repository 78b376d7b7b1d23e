// The PNG encoder (io/detail/png_writer.hpp) and what save_image records (16-bit PNG, the
// parameters text in a PNG iTXt chunk or JPEG COM segments; io/detail/jpeg_comment.hpp):
// every chunk is walked and its CRC checked, and stb decodes what was written.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <stb_image.h>

#include "test_helpers.hpp"

namespace png_writer_tests {

using bytes = std::vector<unsigned char>;

struct chunk {
    std::string type;
    bytes data;
};

std::uint32_t be32(const unsigned char* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// The chunks of a PNG, checking the signature, the lengths and every CRC.
std::vector<chunk> chunks_of(const bytes& png) {
    const bytes signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    REQUIRE(png.size() >= 8);
    REQUIRE(bytes(png.begin(), png.begin() + 8) == signature);
    std::vector<chunk> out;
    for (std::size_t at = 8; at < png.size();) {
        REQUIRE(at + 12 <= png.size());
        const std::size_t length = be32(&png[at]);
        REQUIRE(at + 12 + length <= png.size());
        const std::uint32_t crc = be32(&png[at + 8 + length]);
        CHECK(crc == nst::detail::png_crc32(&png[at + 4], length + 4));
        out.push_back({std::string(png.begin() + std::ptrdiff_t(at + 4), png.begin() + std::ptrdiff_t(at + 8)),
                       bytes(png.begin() + std::ptrdiff_t(at + 8), png.begin() + std::ptrdiff_t(at + 8 + length))});
        at += 12 + length;
    }
    return out;
}

bytes read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), {});
}

// The text of every COM segment of a JPEG, concatenated in order (segments before SOS only).
std::string jpeg_comments(const bytes& jpeg) {
    std::string text;
    REQUIRE(jpeg.size() > 4);
    REQUIRE((jpeg[0] == 0xFF && jpeg[1] == 0xD8));
    for (std::size_t at = 2; at + 4 <= jpeg.size() && jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA;) {
        const std::size_t length = std::size_t(jpeg[at + 2]) << 8 | jpeg[at + 3];
        if (jpeg[at + 1] == 0xFE) text.append(jpeg.begin() + std::ptrdiff_t(at + 4), jpeg.begin() + std::ptrdiff_t(at + 2 + length));
        at += 2 + length;
    }
    return text;
}

}  // namespace png_writer_tests

namespace pw = png_writer_tests;

TEST_CASE("png_crc32 is the PNG/zlib CRC-32", "[images][png]") {
    const std::string check = "123456789";
    CHECK(nst::detail::png_crc32(reinterpret_cast<const unsigned char*>(check.data()), check.size()) == 0xCBF43926u);
    CHECK(nst::detail::png_crc32(nullptr, 0) == 0u);
}

TEST_CASE("encode_png writes IHDR, iTXt, IDAT, IEND with valid CRCs, stb decodes the pixels", "[images][png]") {
    std::mt19937 rng(3);
    for (const int depth : {8, 16}) {
        INFO("bit depth " << depth);
        const std::size_t w = 13, h = 7, bytes_per_sample = std::size_t(depth / 8);
        pw::bytes samples(w * h * 3 * bytes_per_sample);
        for (auto& b : samples) b = static_cast<unsigned char>(rng() % 256);
        const std::string text = "{\"k\": \"caf\xc3\xa9\"}";
        const pw::bytes png = nst::detail::encode_png(samples.data(), w, h, depth, "nst-parameters", text);
        const std::vector<pw::chunk> c = pw::chunks_of(png);
        REQUIRE(c.size() == 4);
        CHECK(c[0].type == "IHDR");
        CHECK(c[1].type == "iTXt");
        CHECK(c[2].type == "IDAT");
        CHECK(c[3].type == "IEND");
        REQUIRE(c[0].data.size() == 13);
        CHECK(pw::be32(&c[0].data[0]) == w);
        CHECK(pw::be32(&c[0].data[4]) == h);
        CHECK(pw::bytes(c[0].data.begin() + 8, c[0].data.end()) == pw::bytes{static_cast<unsigned char>(depth), 2, 0, 0, 0});
        pw::bytes itxt{'n', 's', 't', '-', 'p', 'a', 'r', 'a', 'm', 'e', 't', 'e', 'r', 's', 0, 0, 0, 0, 0};
        itxt.insert(itxt.end(), text.begin(), text.end());
        CHECK(c[1].data == itxt);

        int x = 0, y = 0, n = 0;
        const int size = int(png.size());
        REQUIRE(bool(stbi_is_16_bit_from_memory(png.data(), size)) == (depth == 16));
        if (depth == 8) {
            unsigned char* decoded = stbi_load_from_memory(png.data(), size, &x, &y, &n, 0);
            REQUIRE(decoded);
            CHECK(pw::bytes(decoded, decoded + samples.size()) == samples);
            stbi_image_free(decoded);
        } else {
            stbi_us* decoded = stbi_load_16_from_memory(png.data(), size, &x, &y, &n, 0);
            REQUIRE(decoded);
            for (std::size_t i = 0; i < w * h * 3; ++i)
                REQUIRE(decoded[i] == (unsigned(samples[2 * i]) << 8 | samples[2 * i + 1]));
            stbi_image_free(decoded);
        }
        CHECK((x == int(w) && y == int(h) && n == 3));
    }
    // No text: no iTXt chunk.
    const pw::bytes pixel{1, 2, 3};
    CHECK(pw::chunks_of(nst::detail::encode_png(pixel.data(), 1, 1, 8, "k", "")).size() == 3);
    CHECK_THROWS_AS(nst::detail::encode_png(pixel.data(), 1, 1, 8, "", "text"), nst::invalid_argument);
    CHECK_THROWS_AS(nst::detail::encode_png(pixel.data(), 1, 1, 8, std::string(80, 'k'), "text"), nst::invalid_argument);
    CHECK_THROWS_AS(nst::detail::encode_png(pixel.data(), 1, 1, 12, "k", ""), nst::invalid_argument);
}

TEST_CASE("save_image: 16-bit PNGs keep 1/257 of a level and the text is recorded", "[images][png]") {
    nst::test::temp_folder dir;
    nst::image img({3, 5, 3});
    for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] = float(i) * 9.37f - 20.0f;  // some out of 0..255
    nst::image_save_options o;
    o.png_bit_depth = 16;
    o.metadata = "{\"size\": 512}";
    nst::save_image(img, dir / "deep.png", o);
    const nst::image back = nst::load_image(dir / "deep.png");
    for (std::size_t i = 0; i < img.size(); ++i) {
        const float expected = std::min(std::max(img.data()[i], 0.0f), 255.0f);
        REQUIRE(std::abs(back.data()[i] - expected) <= 0.5f / 257.0f + 1e-4f);
    }
    const std::vector<pw::chunk> c = pw::chunks_of(pw::read_bytes(dir / "deep.png"));
    REQUIRE(c.size() == 4);
    CHECK(std::string(c[1].data.begin() + 19, c[1].data.end()) == o.metadata);

    // 8-bit with text: the pixels are exact as before.
    o.png_bit_depth = 8;
    nst::save_image(img, dir / "flat.png", o);
    CHECK(pw::chunks_of(pw::read_bytes(dir / "flat.png"))[1].type == "iTXt");
    o.png_bit_depth = 12;
    CHECK_THROWS_AS(nst::save_image(img, dir / "bad.png", o), nst::invalid_argument);
}

TEST_CASE("save_image: JPEG records the text in COM segments, split beyond 65533 bytes", "[images][jpeg]") {
    nst::test::temp_folder dir;
    nst::image img = xt::zeros<float>({16, 16, 3}) + 100.0f;
    nst::image_save_options o;
    o.metadata = "{\"a\": 1}";
    nst::save_image(img, dir / "small.jpg", o);
    CHECK(pw::jpeg_comments(pw::read_bytes(dir / "small.jpg")) == o.metadata);
    CHECK(nst::load_image(dir / "small.jpg").shape(1) == 16);

    o.metadata = std::string(70000, 'x') + "end";
    nst::save_image(img, dir / "long.jpg", o);
    CHECK(pw::jpeg_comments(pw::read_bytes(dir / "long.jpg")) == o.metadata);
    CHECK(nst::load_image(dir / "long.jpg").shape(0) == 16);

    nst::save_image(img, dir / "none.jpg");
    CHECK(pw::jpeg_comments(pw::read_bytes(dir / "none.jpg")).empty());
}
