// Image input/output, resizing and VGG pre/post-processing. Fixture files are written by the
// tests themselves (stb_image_write for BMP/TGA/PNG, tiny hand-made encoders for 16-bit PNG,
// GIF, PSD and PNM) into a fresh temporary folder.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <random>

#include "test_helpers.hpp"

using namespace nst;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using bytes = std::vector<unsigned char>;
using shape3 = std::array<std::size_t, 3>;

using nst::test::temp_folder;

void write_file(const std::string& path, const bytes& data) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                                std::streamsize(data.size()));
}

bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), {});
}

// The message of the E thrown by f; fails the test when f throws nothing.
template <class E, class F> std::string message_of(F f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    FAIL("expected an exception");
    return "";
}

image random_image(std::size_t h, std::size_t w, std::mt19937& rng) {
    image img({h, w, 3});
    std::uniform_int_distribution<int> level(0, 255);
    for (auto& v : img) v = float(level(rng));
    return img;
}

float max_abs_diff(const image& a, const image& b) {
    REQUIRE(a.shape() == b.shape());
    float worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
    return worst;
}

// --- Minimal encoders for formats stb_image_write does not produce -------------------------

void put16be(bytes& b, unsigned v) { b.insert(b.end(), {(unsigned char)(v >> 8), (unsigned char)v}); }
void put32be(bytes& b, std::uint32_t v) { put16be(b, v >> 16); put16be(b, v & 0xFFFF); }
void put16le(bytes& b, unsigned v) { b.insert(b.end(), {(unsigned char)v, (unsigned char)(v >> 8)}); }

std::uint32_t crc32(const unsigned char* p, std::size_t n) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

// PNG with `depth`-bit samples (8 or 16), colour type 0 (grey), 2 (RGB), 4 (grey+alpha) or
// 6 (RGBA); `samples` row-major, interleaved. Deflate "stored" blocks: no compression needed.
bytes make_png(std::uint32_t width, std::uint32_t height, int depth, int color_type,
               const std::vector<unsigned>& samples) {
    const std::size_t channels = color_type == 0 ? 1 : color_type == 2 ? 3 : color_type == 4 ? 2 : 4;
    bytes raw;
    for (std::size_t y = 0, i = 0; y < height; ++y) {
        raw.push_back(0);  // filter: none
        for (std::size_t x = 0; x < width * channels; ++x, ++i)
            depth == 16 ? put16be(raw, samples[i]) : raw.push_back((unsigned char)samples[i]);
    }
    bytes z = {0x78, 0x01};
    for (std::size_t at = 0; at < raw.size() || at == 0; at += 65535) {
        const std::size_t n = std::min<std::size_t>(65535, raw.size() - at);
        z.push_back(at + n == raw.size() ? 1 : 0);
        put16le(z, unsigned(n));
        put16le(z, unsigned(~n & 0xFFFF));
        z.insert(z.end(), raw.begin() + long(at), raw.begin() + long(at + n));
        if (raw.empty()) break;
    }
    std::uint32_t a = 1, b = 0;  // Adler-32
    for (unsigned char c : raw) a = (a + c) % 65521, b = (b + a) % 65521;
    put32be(z, (b << 16) | a);

    bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const auto chunk = [&png](const char* type, const bytes& data) {
        put32be(png, std::uint32_t(data.size()));
        bytes body(type, type + 4);
        body.insert(body.end(), data.begin(), data.end());
        png.insert(png.end(), body.begin(), body.end());
        put32be(png, crc32(body.data(), body.size()));
    };
    bytes header;
    put32be(header, width);
    put32be(header, height);
    header.insert(header.end(), {(unsigned char)depth, (unsigned char)color_type, 0, 0, 0});
    chunk("IHDR", header);
    chunk("IDAT", z);
    chunk("IEND", {});
    return png;
}

// GIF with a 4-colour palette and one or more frames of palette indices (w x h each). The LZW
// stream sends a clear code before every second pixel so the code width stays at 3 bits.
bytes make_gif(unsigned w, unsigned h, const bytes& palette_rgb, const std::vector<bytes>& frames) {
    bytes g = {'G', 'I', 'F', '8', '9', 'a'};
    put16le(g, w);
    put16le(g, h);
    g.insert(g.end(), {0x81, 0, 0});  // global colour table of 2^(1+1) entries
    g.insert(g.end(), palette_rgb.begin(), palette_rgb.end());
    for (const bytes& indices : frames) {
        g.push_back(0x2C);
        put16le(g, 0);
        put16le(g, 0);
        put16le(g, w);
        put16le(g, h);
        g.insert(g.end(), {0, 2});  // no local table; LZW minimum code size 2
        bytes data;
        unsigned bits = 0, count = 0;
        const auto code = [&](unsigned c) {
            bits |= c << count;
            for (count += 3; count >= 8; count -= 8, bits >>= 8) data.push_back((unsigned char)bits);
        };
        for (std::size_t i = 0; i < indices.size(); ++i) {
            if (i % 2 == 0) code(4);  // clear
            code(indices[i]);
        }
        code(5);  // end of information
        if (count) data.push_back((unsigned char)bits);
        for (std::size_t at = 0; at < data.size(); at += 255) {
            const std::size_t n = std::min<std::size_t>(255, data.size() - at);
            g.push_back((unsigned char)n);
            g.insert(g.end(), data.begin() + long(at), data.begin() + long(at + n));
        }
        g.push_back(0);
    }
    g.push_back(0x3B);
    return g;
}

// Photoshop PSD, RGB, 8 bits, uncompressed planar data.
bytes make_psd(unsigned w, unsigned h, const bytes& r, const bytes& gr, const bytes& b) {
    bytes p = {'8', 'B', 'P', 'S'};
    put16be(p, 1);
    p.insert(p.end(), 6, 0);
    put16be(p, 3);
    put32be(p, h);
    put32be(p, w);
    put16be(p, 8);
    put16be(p, 3);  // RGB
    put32be(p, 0);  // colour mode data
    put32be(p, 0);  // image resources
    put32be(p, 0);  // layers and masks
    put16be(p, 0);  // raw
    for (const bytes* plane : {&r, &gr, &b}) p.insert(p.end(), plane->begin(), plane->end());
    return p;
}

}  // namespace

TEST_CASE("PNG round trip is exact, JPEG is close", "[images]") {
    temp_folder dir;
    std::mt19937 rng(1);
    const image img = random_image(7, 5, rng);
    save_image(img, dir / "a.png");
    const image back = load_image(dir / "a.png");
    REQUIRE(back.shape() == img.shape());
    REQUIRE(max_abs_diff(back, img) == 0.0f);

    // A smooth image: JPEG's error there is a few levels at quality 95.
    image smooth({24, 40, 3});
    for (std::size_t y = 0; y < 24; ++y)
        for (std::size_t x = 0; x < 40; ++x) {
            smooth(y, x, 0) = float(5 * x);
            smooth(y, x, 1) = float(8 * y);
            smooth(y, x, 2) = 128.0f;
        }
    for (const char* name : {"b.jpg", "c.JPEG", "d.Jpg"}) {
        save_image(smooth, dir / name);
        const image jpeg = load_image(dir / name);
        REQUIRE(jpeg.shape() == smooth.shape());
        CHECK(max_abs_diff(jpeg, smooth) <= 8.0f);
    }
    // Quality matters: a lower quality gives a smaller file.
    save_image(random_image(32, 32, rng), dir / "q90.jpg", 90);
    const image noisy = load_image(dir / "q90.jpg");
    save_image(noisy, dir / "q10.jpg", 10);
    CHECK(fs::file_size(dir / "q10.jpg") < fs::file_size(dir / "q90.jpg"));
    save_image(img, dir / "upper.PNG");
    CHECK(max_abs_diff(load_image(dir / "upper.PNG"), img) == 0.0f);
}

TEST_CASE("save_image clamps and rounds only when writing", "[images]") {
    temp_folder dir;
    image img({1, 6, 3});
    const float values[6] = {-10.0f, 300.0f, 127.4f, 127.5f, 254.6f, std::nanf("")};
    const float expected[6] = {0.0f, 255.0f, 127.0f, 128.0f, 255.0f, 0.0f};
    for (std::size_t x = 0; x < 6; ++x)
        for (std::size_t c = 0; c < 3; ++c) img(0, x, c) = values[x];
    save_image(img, dir / "clamped.png");
    CHECK(img(0, 0, 0) == -10.0f);  // the caller's image is not modified
    const image back = load_image(dir / "clamped.png");
    for (std::size_t x = 0; x < 6; ++x)
        for (std::size_t c = 0; c < 3; ++c) CHECK(back(0, x, c) == expected[x]);
}

TEST_CASE("grey, grey+alpha and RGBA become RGB with alpha composited on white", "[images]") {
    temp_folder dir;
    const unsigned char grey[2] = {0, 77};
    REQUIRE(stbi_write_png((dir / "g.png").c_str(), 2, 1, 1, grey, 2));
    image g = load_image(dir / "g.png");
    REQUIRE(g.shape() == shape3{1, 2, 3});
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(g(0, 0, c) == 0.0f);
        CHECK(g(0, 1, c) == 77.0f);
    }
    // grey+alpha: opaque keeps the grey, transparent is white, 128/255 opaque black -> 255 - 128.
    const unsigned char grey_alpha[6] = {77, 255, 77, 0, 0, 128};
    REQUIRE(stbi_write_png((dir / "ga.png").c_str(), 3, 1, 2, grey_alpha, 6));
    g = load_image(dir / "ga.png");
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(g(0, 0, c) == 77.0f);
        CHECK(g(0, 1, c) == 255.0f);
        CHECK(g(0, 2, c) == Approx(127.0f));
    }
    // RGBA: (200, 0, 100) at alpha 51/255 = 0.2 -> 0.2 * v + 0.8 * 255.
    const unsigned char rgba[8] = {255, 0, 0, 0, 200, 0, 100, 51};
    REQUIRE(stbi_write_png((dir / "rgba.png").c_str(), 2, 1, 4, rgba, 8));
    g = load_image(dir / "rgba.png");
    for (std::size_t c = 0; c < 3; ++c) CHECK(g(0, 0, c) == 255.0f);
    CHECK(g(0, 1, 0) == Approx(244.0f));
    CHECK(g(0, 1, 1) == Approx(204.0f));
    CHECK(g(0, 1, 2) == Approx(224.0f));
}

TEST_CASE("16-bit PNGs keep their precision", "[images]") {
    temp_folder dir;
    // 0x80FF would read as 128 through an 8-bit path (high byte); its true value is 33023/257.
    write_file(dir / "rgb16.png", make_png(2, 1, 16, 2, {65535, 0, 0x80FF, 25700, 257, 0x0080}));
    const image img = load_image(dir / "rgb16.png");
    REQUIRE(img.shape() == shape3{1, 2, 3});
    CHECK(img(0, 0, 0) == Approx(255.0f));
    CHECK(img(0, 0, 1) == 0.0f);
    CHECK(img(0, 0, 2) == Approx(33023.0 / 257.0).epsilon(1e-6));
    CHECK(img(0, 1, 0) == Approx(100.0f));
    CHECK(img(0, 1, 1) == Approx(1.0f));
    CHECK(img(0, 1, 2) == Approx(128.0 / 257.0).epsilon(1e-6));
    // 16-bit grey+alpha: half-transparent black -> 255 * (1 - 32768/65535).
    write_file(dir / "ga16.png", make_png(1, 1, 16, 4, {0, 32768}));
    const image ga = load_image(dir / "ga16.png");
    for (std::size_t c = 0; c < 3; ++c) CHECK(ga(0, 0, c) == Approx(255.0 * (1.0 - 32768.0 / 65535.0)));
    // And the hand-made encoder itself is sound: its 8-bit output decodes to the same values.
    write_file(dir / "rgb8.png", make_png(1, 1, 8, 2, {1, 2, 3}));
    const image rgb8 = load_image(dir / "rgb8.png");
    CHECK((rgb8(0, 0, 0) == 1.0f && rgb8(0, 0, 1) == 2.0f && rgb8(0, 0, 2) == 3.0f));
}

TEST_CASE("BMP, TGA, GIF (first frame), PSD and PNM load", "[images]") {
    temp_folder dir;
    std::mt19937 rng(2);
    const image img = random_image(3, 4, rng);
    bytes pixels(img.size());
    for (std::size_t i = 0; i < img.size(); ++i) pixels[i] = (unsigned char)img.data()[i];
    REQUIRE(stbi_write_bmp((dir / "a.bmp").c_str(), 4, 3, 3, pixels.data()));
    REQUIRE(stbi_write_tga((dir / "a.tga").c_str(), 4, 3, 3, pixels.data()));
    CHECK(max_abs_diff(load_image(dir / "a.bmp"), img) == 0.0f);
    CHECK(max_abs_diff(load_image(dir / "a.tga"), img) == 0.0f);

    bytes ppm = {'P', '6', '\n', '4', ' ', '3', '\n', '2', '5', '5', '\n'};
    ppm.insert(ppm.end(), pixels.begin(), pixels.end());
    write_file(dir / "a.ppm", ppm);
    CHECK(max_abs_diff(load_image(dir / "a.ppm"), img) == 0.0f);
    write_file(dir / "a.pgm", {'P', '5', ' ', '2', ' ', '1', ' ', '2', '5', '5', '\n', 9, 250});
    const image pgm = load_image(dir / "a.pgm");
    CHECK((pgm(0, 0, 2) == 9.0f && pgm(0, 1, 0) == 250.0f));

    bytes r, g, b;
    for (std::size_t i = 0; i < 12; ++i) r.push_back(pixels[3 * i]), g.push_back(pixels[3 * i + 1]), b.push_back(pixels[3 * i + 2]);
    write_file(dir / "a.psd", make_psd(4, 3, r, g, b));
    CHECK(max_abs_diff(load_image(dir / "a.psd"), img) == 0.0f);

    // Two frames of 3 x 2 pixels; the palette is black, red, green, blue.
    const bytes palette = {0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255};
    write_file(dir / "a.gif", make_gif(3, 2, palette, {{1, 2, 3, 0, 1, 2}, {3, 3, 3, 3, 3, 3}}));
    const image gif = load_image(dir / "a.gif");
    REQUIRE(gif.shape() == shape3{2, 3, 3});
    const std::size_t first_frame[6] = {1, 2, 3, 0, 1, 2};
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t c = 0; c < 3; ++c)
            CHECK(gif(i / 3, i % 3, c) == palette[3 * first_frame[i] + c]);
}

TEST_CASE("bad input throws io_error naming the file and the reason", "[images]") {
    temp_folder dir;
    const std::string missing = dir / "missing.png";
    CHECK_THAT(message_of<io_error>([&] { load_image(missing); }),
               Contains(missing) && Contains("No such file"));
    CHECK_THAT(message_of<io_error>([&] { load_image(dir.path.string()); }),
               Contains(dir.path.string()) && Contains("directory"));

    const std::string text = dir / "notes.jpg";
    write_file(text, {'h', 'e', 'l', 'l', 'o', '\n'});
    CHECK_THAT(message_of<io_error>([&] { load_image(text); }),
               Contains(text) && Contains("not a supported image"));
    write_file(dir / "empty.png", {});
    CHECK_THAT(message_of<io_error>([&] { load_image(dir / "empty.png"); }), Contains("empty"));

    // Zero width (IHDR says 0 x 1).
    write_file(dir / "zero.png", make_png(0, 1, 8, 2, {}));
    CHECK_THAT(message_of<io_error>([&] { load_image(dir / "zero.png"); }), Contains("zero.png"));

    // Truncated files: noise does not compress, so half the file misses half the pixels.
    std::mt19937 rng(3);
    for (const char* name : {"t.png", "t.jpg"}) {
        save_image(random_image(32, 32, rng), dir / name);
        bytes data = read_file(dir / name);
        data.resize(data.size() * 6 / 10);
        write_file(dir / name, data);
        CHECK_THAT(message_of<io_error>([&] { load_image(dir / name); }), Contains(name));
    }
    // A corrupt PNG: one byte of the pixel data flipped breaks the zlib checksum or stream.
    write_file(dir / "c.png", make_png(4, 4, 8, 2, std::vector<unsigned>(48, 7)));
    bytes corrupt = read_file(dir / "c.png");
    corrupt[8 + 25 + 8 + 2] ^= 0xFF;  // first byte of the deflate stream after the zlib header
    write_file(dir / "c.png", corrupt);
    CHECK_THROWS_AS(load_image(dir / "c.png"), io_error);

#ifndef _WIN32
    // Permission denied (meaningless as root, who reads anything).
    const std::string locked = dir / "locked.png";
    save_image(random_image(2, 2, rng), locked);
    fs::permissions(locked, fs::perms::none);
    if (std::FILE* f = std::fopen(locked.c_str(), "rb")) {
        std::fclose(f);
        WARN("running as root: the unreadable-file case is not exercised");
    } else {
        CHECK_THAT(message_of<io_error>([&] { load_image(locked); }),
                   Contains(locked) && Contains("Permission denied"));
    }
#endif
}

TEST_CASE("save_image is atomic and rejects what it cannot write", "[images]") {
    temp_folder dir;
    std::mt19937 rng(4);
    const image img = random_image(4, 4, rng);
    save_image(img, dir / "out.png");
    save_image(random_image(4, 4, rng), dir / "out.png");  // replaces an existing file
    save_image(img, dir / "out.jpg");
    auto files = dir.files();
    std::sort(files.begin(), files.end());
    CHECK(files == std::vector<std::string>{"out.jpg", "out.png"});  // no temporary left

    const std::string nowhere = dir / "no/such/folder/out.png";
    CHECK_THAT(message_of<io_error>([&] { save_image(img, nowhere); }),
               Contains(nowhere) && Contains("does not exist"));
    CHECK_THAT(message_of<invalid_argument>([&] { save_image(img, dir / "out.bmp"); }),
               Contains(".bmp"));
    CHECK_THAT(message_of<invalid_argument>([&] { save_image(img, dir / "noext"); }),
               Contains("noext"));
    CHECK_THROWS_AS(save_image(img, dir / "q.jpg", 0), invalid_argument);
    CHECK_THROWS_AS(save_image(img, dir / "q.jpg", 101), invalid_argument);
    CHECK_THROWS_AS(save_image(image({0, 4, 3}), dir / "empty.png"), shape_error);
    CHECK_THROWS_AS(save_image(image({4, 4, 4}), dir / "four.png"), shape_error);
    fs::create_directory(dir.path / "folder.png");
    CHECK_THROWS_AS(save_image(img, dir / "folder.png"), io_error);
    files = dir.files();
    std::sort(files.begin(), files.end());
    CHECK(files == std::vector<std::string>{"folder.png", "out.jpg", "out.png"});
    // The failed saves left the earlier output untouched.
    const image back = load_image(dir / "out.jpg");
    CHECK(back.shape() == img.shape());
}

TEST_CASE("scaled_size and resize_longer_side keep the aspect ratio", "[images]") {
    using size2 = std::array<std::size_t, 2>;
    // Nearest integer, halves rounded up, never below 1.
    CHECK(scaled_size(300, 200, 512) == size2{512, 341});  // 341.33
    CHECK(scaled_size(200, 300, 512) == size2{341, 512});
    CHECK(scaled_size(768, 1024, 512) == size2{384, 512});
    CHECK(scaled_size(100, 100, 64) == size2{64, 64});
    CHECK(scaled_size(4, 3, 2) == size2{2, 2});  // 1.5 -> 2
    CHECK(scaled_size(3, 5, 10) == size2{6, 10});  // enlarging works too
    CHECK(scaled_size(1000, 1, 10) == size2{10, 1});  // 0.01 -> at least 1
    CHECK_THROWS_AS(scaled_size(0, 5, 10), invalid_argument);
    CHECK_THROWS_AS(scaled_size(5, 5, 0), invalid_argument);

    image img({300, 200, 3});
    img.fill(42.0f);
    const image small = resize_longer_side(img, 64);
    REQUIRE(small.shape() == shape3{64, 43, 3});  // 42.67
    CHECK(xt::allclose(small, 42.0f, 0.0, 1e-3));  // a constant stays constant
    const image large = resize_image(img, 301, 450);
    REQUIRE(large.shape() == shape3{301, 450, 3});
    CHECK(xt::allclose(large, 42.0f, 0.0, 1e-3));

    // A horizontal ramp halved stays a ramp: left half darker than right half, rows equal.
    image ramp({8, 16, 3});
    for (std::size_t y = 0; y < 8; ++y)
        for (std::size_t x = 0; x < 16; ++x)
            for (std::size_t c = 0; c < 3; ++c) ramp(y, x, c) = float(16 * x);
    const image half = resize_image(ramp, 4, 8);
    for (std::size_t x = 1; x < 8; ++x) CHECK(half(2, x, 0) > half(2, x - 1, 0));
    CHECK(half(0, 3, 1) == Approx(half(3, 3, 1)));
    CHECK(half(1, 4, 0) == Approx(16.0 * 8.5).margin(4.0));  // centre of pixels 8 and 9

    std::mt19937 rng(5);
    const image same = random_image(5, 6, rng);
    CHECK(max_abs_diff(resize_image(same, 5, 6), same) == 0.0f);
    CHECK_THROWS_AS(resize_image(same, 0, 6), invalid_argument);
    CHECK_THROWS_AS(resize_image(image({0, 3, 3}), 2, 2), shape_error);
}

TEST_CASE("VGG input is BGR minus the ImageNet mean, and back", "[images]") {
    image red({1, 2, 3});
    red.fill(0.0f);
    red(0, 0, 0) = 255.0f;  // pure red
    red(0, 1, 2) = 10.0f;   // a little blue
    const tensor3<float> x = to_vgg_input<float>(red);
    REQUIRE(x.shape() == shape3{3, 1, 2});
    CHECK(x(0, 0, 0) == Approx(-103.939));         // B
    CHECK(x(1, 0, 0) == Approx(-116.779));         // G
    CHECK(x(2, 0, 0) == Approx(255.0 - 123.68));   // R
    CHECK(x(0, 0, 1) == Approx(10.0 - 103.939));
    CHECK(x(2, 0, 1) == Approx(-123.68));

    std::mt19937 rng(6);
    image img = random_image(5, 7, rng);
    img(0, 0, 0) = -20.0f;  // out-of-range values pass through unclamped
    img(4, 6, 2) = 300.5f;
    CHECK(max_abs_diff(from_vgg_input(to_vgg_input<float>(img)), img) <= 1e-4f);
    CHECK(max_abs_diff(from_vgg_input(to_vgg_input<double>(img)), img) <= 1e-5f);
    const tensor3<double> xd = to_vgg_input<double>(img);
    CHECK(xd(0, 4, 6) == Approx(300.5 - 103.939).epsilon(1e-12));  // blue is channel 0

    CHECK_THROWS_AS(to_vgg_input<float>(image({2, 2, 4})), shape_error);
    CHECK_THROWS_AS(from_vgg_input(tensor3<float>({4, 2, 2})), shape_error);
}

TEST_CASE("the shared images load with their known sizes and colours", "[images][shared]") {
    const std::string dir = nst::test::require_shared_data() + "/images/";
    // Sizes from `file`, per-channel means and two pixels from Pillow/libjpeg (an independent
    // decoder: JPEG decoders may differ by a level or two per pixel).
    struct expected_image {
        const char* name;
        std::size_t height, width;
        float mean[3];
        float pixel_100_200[3];
    };
    const expected_image images[] = {
        {"tubingen.jpg", 768, 1024, {103.307f, 115.234f, 120.441f}, {82, 135, 187}},
        {"starry_night.jpg", 640, 1024, {86.264f, 113.87f, 125.416f}, {9, 62, 132}},
        {"the_scream.jpg", 1528, 1200, {112.803f, 83.524f, 53.802f}, {160, 116, 79}},
        {"shipwreck.jpg", 662, 960, {78.492f, 85.87f, 59.577f}, {121, 125, 88}},
    };
    for (const auto& e : images) {
        INFO(e.name);
        const image img = load_image(dir + e.name);
        REQUIRE(img.shape() == shape3{e.height, e.width, 3});
        for (std::size_t c = 0; c < 3; ++c) {
            double sum = 0;
            for (std::size_t y = 0; y < e.height; ++y)
                for (std::size_t x = 0; x < e.width; ++x) sum += img(y, x, c);
            CHECK(sum / double(e.height * e.width) == Approx(e.mean[c]).margin(0.5));
            CHECK(img(100, 200, c) == Approx(e.pixel_100_200[c]).margin(3.0));
        }
    }
}
