// Image input/output and resizing (io/image.hpp). Fixture files are written by the tests
// themselves (stb_image_write for BMP/TGA/PNG, tiny hand-made encoders for 16-bit PNG, GIF, PSD
// and PNM) into a fresh temporary folder.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#ifndef _WIN32
#include <csignal>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "test_helpers.hpp"

using namespace nst;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

using nst::test::max_abs_diff;
using nst::test::random_image;

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

// --- Minimal encoders for formats stb_image_write does not produce -------------------------

void put16be(bytes& b, unsigned v) { b.insert(b.end(), {(unsigned char)(v >> 8), (unsigned char)v}); }
void put32be(bytes& b, std::uint32_t v) { put16be(b, v >> 16); put16be(b, v & 0xFFFF); }
void put16le(bytes& b, unsigned v) { b.insert(b.end(), {(unsigned char)v, (unsigned char)(v >> 8)}); }
void put32le(bytes& b, std::uint32_t v) { put16le(b, v & 0xFFFF); put16le(b, v >> 16); }

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

// --- Hostile and real-world files: bombs, EXIF orientation, CMYK JPEGs -----------------------

// `base` with `piece` inserted at `at`, after removing `erase` bytes there.
bytes splice(bytes base, std::size_t at, const bytes& piece, std::size_t erase = 0) {
    base.erase(base.begin() + long(at), base.begin() + long(at + erase));
    base.insert(base.begin() + long(at), piece.begin(), piece.end());
    return base;
}

// A zlib stream (fixed-Huffman deflate) of `count` zero bytes: one literal, then matches of
// length 258 at distance 1 (13 bits each, a ratio of about 160), then literals.
bytes zeros_zlib(std::size_t count) {
    bytes z = {0x78, 0x01};
    std::uint32_t bits = 0;
    int used = 0;
    const auto put = [&](std::uint32_t value, int n, bool huffman) {  // Huffman codes MSB first
        for (int i = 0; i < n; ++i) {
            const std::uint32_t bit = huffman ? (value >> (n - 1 - i)) & 1u : (value >> i) & 1u;
            bits |= bit << used;
            if (++used == 8) z.push_back((unsigned char)bits), bits = 0, used = 0;
        }
    };
    put(1, 1, false);  // final block
    put(1, 2, false);  // fixed Huffman
    std::size_t left = count;
    if (left > 0) put(0x30, 8, true), --left;  // literal 0
    for (; left >= 258; left -= 258) put(0xC5, 8, true), put(0, 5, true);  // length 258, distance 1
    for (; left > 0; --left) put(0x30, 8, true);
    put(0, 7, true);  // end of block
    if (used) z.push_back((unsigned char)bits);
    put32be(z, std::uint32_t(((count % 65521) << 16) | 1));  // Adler-32 of zeros
    return z;
}

// A grey 8-bit PNG declaring width x height whose IDAT is `zlib`.
bytes png_with_idat(std::uint32_t width, std::uint32_t height, const bytes& zlib) {
    bytes png = make_png(1, 1, 8, 0, {0});
    bytes ihdr;
    put32be(ihdr, 13);
    ihdr.insert(ihdr.end(), {'I', 'H', 'D', 'R'});
    put32be(ihdr, width);
    put32be(ihdr, height);
    ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});
    put32be(ihdr, crc32(ihdr.data() + 4, 17));
    bytes idat;
    put32be(idat, std::uint32_t(zlib.size()));
    idat.insert(idat.end(), {'I', 'D', 'A', 'T'});
    idat.insert(idat.end(), zlib.begin(), zlib.end());
    put32be(idat, crc32(idat.data() + 4, zlib.size() + 4));
    ihdr.insert(ihdr.end(), idat.begin(), idat.end());
    return splice(splice(png, 8, ihdr), 8 + ihdr.size(), {}, png.size() - 20);  // keep IEND
}

// A TIFF-structured EXIF block whose IFD0 holds a Make tag and the orientation tag (SHORT).
bytes exif_block(bool big_endian, unsigned orientation) {
    bytes t;
    const auto p16 = [&](unsigned v) { big_endian ? put16be(t, v) : put16le(t, v); };
    const auto p32 = [&](std::uint32_t v) {
        big_endian ? put32be(t, v) : put32le(t, v);
    };
    t.insert(t.end(), {(unsigned char)(big_endian ? 'M' : 'I'), (unsigned char)(big_endian ? 'M' : 'I')});
    p16(42);
    p32(8);
    p16(2);
    p16(0x010F), p16(2), p32(4), t.insert(t.end(), {'a', 'b', 'c', 0});  // Make "abc"
    p16(0x0112), p16(3), p32(1), p16(orientation), p16(0);
    p32(0);  // no next IFD
    return t;
}

// `jpeg` with an APP1 Exif segment holding `tiff` right after SOI.
bytes with_app1(const bytes& jpeg, const bytes& tiff) {
    bytes seg = {0xFF, 0xE1};
    put16be(seg, unsigned(tiff.size() + 8));
    seg.insert(seg.end(), {'E', 'x', 'i', 'f', 0, 0});
    seg.insert(seg.end(), tiff.begin(), tiff.end());
    return splice(jpeg, 2, seg);
}

// `png` with an eXIf chunk holding `tiff` right after IHDR.
bytes with_exif_chunk(const bytes& png, const bytes& tiff) {
    bytes chunk;
    put32be(chunk, std::uint32_t(tiff.size()));
    chunk.insert(chunk.end(), {'e', 'X', 'I', 'f'});
    chunk.insert(chunk.end(), tiff.begin(), tiff.end());
    put32be(chunk, crc32(chunk.data() + 4, tiff.size() + 4));
    return splice(png, 33, chunk);  // after the signature and IHDR
}

// A baseline JPEG with 4 components (no subsampling) made of flat 8 x 8 blocks, so decoding is
// exact up to rounding: blocks[b][c] is component c of block b, blocks left to right.
// adobe_transform < 0 writes no Adobe APP14 segment.
bytes make_4_channel_jpeg(const std::vector<std::array<int, 4>>& blocks, int adobe_transform) {
    bytes j = {0xFF, 0xD8};
    const auto segment = [&j](unsigned marker, const bytes& body) {
        j.insert(j.end(), {0xFF, (unsigned char)marker});
        put16be(j, unsigned(body.size() + 2));
        j.insert(j.end(), body.begin(), body.end());
    };
    if (adobe_transform >= 0)
        segment(0xEE, {'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, (unsigned char)adobe_transform});
    bytes dqt = {0};
    dqt.insert(dqt.end(), 64, 1);  // quantisation step 1: DC values are exact
    segment(0xDB, dqt);
    bytes sof = {8, 0, 8};
    put16be(sof, unsigned(8 * blocks.size()));
    sof.push_back(4);
    for (unsigned char c = 1; c <= 4; ++c) sof.insert(sof.end(), {c, 0x11, 0});
    segment(0xC0, sof);
    // DC: the standard luminance table (categories 0..11); AC: only end-of-block, code "0".
    bytes dht = {0x00, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    const bytes ac = {0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    dht.insert(dht.end(), ac.begin(), ac.end());
    segment(0xC4, dht);
    segment(0xDA, {4, 1, 0, 2, 0, 3, 0, 4, 0, 0, 63, 0});

    static const unsigned dc_code[12] = {0, 2, 3, 4, 5, 6, 14, 30, 62, 126, 254, 510};
    static const int dc_length[12] = {2, 3, 3, 3, 3, 3, 4, 5, 6, 7, 8, 9};
    std::uint32_t bits = 0;
    int used = 0;
    const auto put = [&](unsigned value, int n) {
        for (int i = n - 1; i >= 0; --i) {
            bits = (bits << 1) | ((value >> i) & 1u);
            if (++used == 8) {
                j.push_back((unsigned char)bits);
                if (bits == 0xFF) j.push_back(0);  // byte stuffing
                bits = 0, used = 0;
            }
        }
    };
    int previous[4] = {0, 0, 0, 0};
    for (const auto& block : blocks)
        for (int c = 0; c < 4; ++c) {
            const int dc = 8 * (block[std::size_t(c)] - 128), diff = dc - previous[c];
            previous[c] = dc;
            int category = 0;
            while ((std::abs(diff) >> category) != 0) ++category;
            put(dc_code[category], dc_length[category]);
            if (category) put(unsigned(diff < 0 ? diff + (1 << category) - 1 : diff), category);
            put(0, 1);  // end of block
        }
    if (used) put(0x7F, 8 - used);  // pad with ones
    j.insert(j.end(), {0xFF, 0xD9});
    return j;
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

TEST_CASE("a mask reads alpha as coverage: transparent is 0, not white", "[images][masks]") {
    temp_folder dir;
    // White strokes on a transparent layer, as an image editor exports them; the transparent
    // pixels' stored colour is white too (GIMP can keep it), so only alpha tells them apart.
    // Row 0: stroke, transparent, half-covered stroke (alpha 102/255 = 0.4).
    const unsigned char grey_alpha[6] = {255, 255, 255, 0, 255, 102};
    REQUIRE(stbi_write_png((dir / "ga.png").c_str(), 3, 1, 2, grey_alpha, 6));
    const unsigned char rgba[12] = {255, 255, 255, 255, 255, 255, 255, 0, 255, 255, 255, 102};
    REQUIRE(stbi_write_png((dir / "rgba.png").c_str(), 3, 1, 4, rgba, 12));
    write_file(dir / "ga16.png", make_png(3, 1, 16, 4, {65535, 65535, 65535, 0, 65535, 26214}));
    for (const char* name : {"ga.png", "rgba.png", "ga16.png"}) {
        INFO(name);
        const image mask = load_mask_image(dir / name);
        REQUIRE(mask.shape() == shape3{1, 3, 3});
        for (std::size_t c = 0; c < 3; ++c) {
            CHECK(mask(0, 0, c) == Approx(255.0f));
            CHECK(mask(0, 1, c) == 0.0f);
            CHECK(mask(0, 2, c) == Approx(102.0f));
        }
        // As stylize weighs it (style_transfer/region_masks.hpp): 1 on the stroke, 0 beside it.
        const tensor2<float> weights = mask_weights(mask, 1, 3);
        CHECK(weights(0, 0) == Approx(1.0f));
        CHECK(weights(0, 1) == 0.0f);
        CHECK(weights(0, 2) == Approx(0.4f));
        // A picture composites on white: the same file is all white there.
        const image picture = load_image(dir / name);
        CHECK(picture(0, 1, 0) == Approx(255.0f));
        const bytes file = read_file(dir / name);
        CHECK(max_abs_diff(decode_mask_image(file.data(), file.size(), name), mask) == 0.0f);
    }
    // Coloured strokes keep their colour scaled by alpha; an image without alpha reads as a picture.
    const unsigned char red[8] = {200, 0, 100, 51, 10, 20, 30, 255};
    REQUIRE(stbi_write_png((dir / "red.png").c_str(), 2, 1, 4, red, 8));
    const image coloured = load_mask_image(dir / "red.png");
    CHECK(coloured(0, 0, 0) == Approx(40.0f));
    CHECK(coloured(0, 0, 1) == 0.0f);
    CHECK(coloured(0, 0, 2) == Approx(20.0f));
    CHECK((coloured(0, 1, 0) == 10.0f && coloured(0, 1, 1) == 20.0f && coloured(0, 1, 2) == 30.0f));
    const unsigned char grey[2] = {0, 77};
    REQUIRE(stbi_write_png((dir / "g.png").c_str(), 2, 1, 1, grey, 2));
    CHECK(max_abs_diff(load_mask_image(dir / "g.png"), load_image(dir / "g.png")) == 0.0f);
    // Errors are load_image's, naming the file.
    CHECK_THROWS_WITH(load_mask_image(dir / "missing.png"), Contains("missing.png"));
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

#ifndef _WIN32
TEST_CASE("load_image refuses what starts as no image without reading the rest", "[images]") {
    temp_folder dir;
    // An endless file (as /dev/zero, or a video given by mistake is a long one): a pipe fed with
    // zeros until the reader goes away. Read to the end, it would cost 2 GiB before a refusal.
    const std::string endless = dir / "endless.png";
    REQUIRE(mkfifo(endless.c_str(), 0600) == 0);
    std::thread writer([&] {
        sigset_t pipe_signal;
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);  // the reader leaving: EPIPE, not a signal
        const int fd = open(endless.c_str(), O_WRONLY);
        const std::vector<char> zeros(1 << 16);
        while (fd >= 0 && write(fd, zeros.data(), zeros.size()) > 0) {
        }
        if (fd >= 0) close(fd);
    });
    const std::string what = message_of<io_error>([&] { load_image(endless); });
    writer.join();
    CHECK_THAT(what, Contains(endless) && Contains("not a supported image"));

    // A JPEG whose frame header comes after 128 KiB of APP segments (large EXIF or ICC data) is
    // known by its start marker and still loads.
    std::mt19937 rng(5);
    const image small = random_image(8, 12, rng);
    save_image(small, dir / "plain.jpg");
    const bytes plain = read_file(dir / "plain.jpg");
    bytes padded(plain.begin(), plain.begin() + 2);  // SOI
    for (int segment = 0; segment < 2; ++segment) {
        padded.insert(padded.end(), {0xFF, 0xE9, 0xFF, 0xFF});  // APP9, 65535 bytes with the length
        padded.insert(padded.end(), 65533, 0x00);
    }
    padded.insert(padded.end(), plain.begin() + 2, plain.end());
    write_file(dir / "padded.jpg", padded);
    const image loaded = load_image(dir / "padded.jpg");
    CHECK(loaded.shape() == load_image(dir / "plain.jpg").shape());
    CHECK(max_abs_diff(loaded, load_image(dir / "plain.jpg")) == 0.0f);
}
#endif

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
    // A failed system call's errno rides along (a batch stops on ENOSPC); a refusal of our own has none.
    const auto system_error_of = [&](const std::string& path) {
        try {
            save_image(img, path);
        } catch (const io_error& e) {
            return e.system_error();
        }
        return -1;
    };
    CHECK(system_error_of(nowhere) == 0);
    CHECK(system_error_of("/proc/nst_test_out.png") > 0);  // /proc takes no new files, even from root
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

TEST_CASE("save_image writes through a link, refuses devices, takes the longest names", "[images]") {
    temp_folder dir;
    std::mt19937 rng(5);
    const image img = random_image(4, 4, rng);
    // A link (relative, into another folder, to a file not made yet): the file it names is written,
    // the link stays a link.
    fs::create_directory(dir.path / "renders");
    fs::create_symlink("renders/today.png", dir.path / "latest.png");
    save_image(img, dir / "latest.png");
    CHECK(fs::is_symlink(fs::symlink_status(dir.path / "latest.png")));
    CHECK(load_image(dir / "renders/today.png").shape() == img.shape());
    save_image(random_image(5, 4, rng), dir / "latest.png");  // again, replacing the named file
    CHECK(fs::is_symlink(fs::symlink_status(dir.path / "latest.png")));
    CHECK(load_image(dir / "renders/today.png").shape(0) == 5);
    std::vector<std::string> renders;
    for (const auto& e : fs::directory_iterator(dir.path / "renders")) renders.push_back(e.path().filename().string());
    CHECK(renders == std::vector<std::string>{"today.png"});  // no temporary left

    // A device (a link to one too) is not replaced by a rename: refused, and it stays a device.
    fs::create_symlink("/dev/null", dir.path / "null.png");
    CHECK_THAT(message_of<io_error>([&] { save_image(img, dir / "null.png"); }),
               Contains("null.png") && Contains("not a regular file"));
    CHECK(fs::is_character_file("/dev/null"));

    // A name of the file system's longest length: its temporary's name is shortened, not refused.
    const std::string longest = std::string(nst::detail::longest_file_name(dir.path) - 4, 'n') + ".png";
    save_image(img, dir / longest);
    CHECK(load_image(dir / longest).shape() == img.shape());
}

TEST_CASE("save_image: a new file gets 0666 less the umask, a replaced one keeps its permissions", "[images]") {
    temp_folder dir;
    std::mt19937 rng(6);
    const auto mode_of = [&](const std::string& name) {
        return fs::status(dir.path / name).permissions() & fs::perms::mask;
    };
    const mode_t before = ::umask(027);
    save_image(random_image(4, 4, rng), dir / "new.png");
    ::umask(022);
    CHECK(mode_of("new.png") == fs::perms(0640));
    // Replacing a 0600 file (kept private by its owner) under umask 022 made it 0644.
    save_image(random_image(4, 4, rng), dir / "new.png");
    fs::permissions(dir.path / "new.png", fs::perms(0600));
    save_image(random_image(5, 4, rng), dir / "new.png");
    CHECK(mode_of("new.png") == fs::perms(0600));
    CHECK(load_image(dir / "new.png").shape(0) == 5);
    // The library replaces a read-only file (the programs refuse to), and it stays read-only.
    fs::permissions(dir.path / "new.png", fs::perms(0444));
    save_image(random_image(6, 4, rng), dir / "new.png");
    CHECK(mode_of("new.png") == fs::perms(0444));
    CHECK(load_image(dir / "new.png").shape(0) == 6);
    ::umask(before);
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

TEST_CASE("a small file declaring a huge image is refused before decoding", "[images][limits]") {
    temp_folder dir;
    // 20000 x 20000 grey (400 megapixels) with a real 2.5 MB bomb: its IDAT inflates to 400 MB.
    const std::string bomb = dir / "bomb.png";
    write_file(bomb, png_with_idat(20000, 20000, zeros_zlib(20000u * 20001u)));
    CHECK(fs::file_size(bomb) < 3'000'000);
    const std::string message = message_of<image_too_large>([&] { load_image(bomb); });
    CHECK_THAT(message, Contains(bomb) && Contains("20000 x 20000") && Contains("400000000") &&
                            Contains("100000000") && Contains("max_pixels"));
    CHECK_THROWS_AS(load_image(bomb), io_error);  // image_too_large is an io_error

    // GIF: stb sizes its canvas (9 bytes a pixel) from the logical screen in the header.
    bytes gif = make_gif(2, 1, bytes(12, 0), {{1, 2}});
    gif[6] = gif[7] = gif[8] = gif[9] = 0xFF;  // 65535 x 65535
    write_file(dir / "huge.gif", gif);
    CHECK_THAT(message_of<image_too_large>([&] { load_image(dir / "huge.gif"); }),
               Contains("65535 x 65535"));
    // An 18-byte GIF: header, screen descriptor and the trailer only.
    bytes tiny_gif(gif.begin(), gif.begin() + 13);
    tiny_gif[10] = 0;  // no colour table
    tiny_gif.insert(tiny_gif.end(), {0x21, 0xF9, 0, 0, 0x3B});
    REQUIRE(tiny_gif.size() == 18);
    CHECK_THROWS_AS(decode_image(tiny_gif.data(), tiny_gif.size(), "tiny.gif"), image_too_large);

    // The limit is the caller's: 4 x 3 = 12 pixels pass a limit of 12 and fail one of 11.
    std::mt19937 rng(7);
    save_image(random_image(3, 4, rng), dir / "small.png");
    CHECK(load_image(dir / "small.png", image_limits{12}).shape() == shape3{3, 4, 3});
    CHECK_THAT(message_of<image_too_large>([&] { load_image(dir / "small.png", image_limits{11}); }),
               Contains("4 x 3") && Contains("11"));
    // Extreme aspect ratios: decoders pad each side to whole blocks.
    write_file(dir / "line.png", png_with_idat(1, 1000000, zeros_zlib(2000000)));
    CHECK_THAT(message_of<image_too_large>([&] { load_image(dir / "line.png", image_limits{1000000}); }),
               Contains("elongated"));
    // A PNG past stb's own header limit (~350 megapixels): the pixel limit speaks, not stb's
    // "unknown image type".
    write_file(dir / "vast.png", png_with_idat(20000, 20000, zeros_zlib(100)));
    CHECK_THAT(message_of<image_too_large>([&] { load_image(dir / "vast.png"); }),
               Contains("declares 20000 x 20000") && Contains("more than the limit of 100000000"));
}

TEST_CASE("a PNG whose data inflates far beyond its declared size is refused", "[images][limits]") {
    // stb_image grows its inflate buffer without bound: 64 x 64 pixels that inflate to 64 MB.
    temp_folder dir;
    write_file(dir / "deep.png", png_with_idat(64, 64, zeros_zlib(64u << 20)));
    CHECK(fs::file_size(dir / "deep.png") < 500'000);
    CHECK_THAT(message_of<image_too_large>([&] { load_image(dir / "deep.png"); }),
               Contains("deep.png") && Contains("64 x 64") && Contains("inflates"));
    // The same stream cut to the exact size decodes (all black), as does a little slack.
    for (const std::size_t extra : {std::size_t(0), std::size_t(100)}) {
        write_file(dir / "exact.png", png_with_idat(64, 64, zeros_zlib(64 * 65 + extra)));
        const image img = load_image(dir / "exact.png");
        REQUIRE(img.shape() == shape3{64, 64, 3});
        CHECK(xt::allclose(img, 0.0f));
    }
}

TEST_CASE("resize targets above the pixel limit are refused", "[images][limits]") {
    const image img = xt::zeros<float>({4, 4, 3});
    CHECK_THROWS_AS(resize_image(img, 20000, 20000), image_too_large);
    CHECK_THROWS_AS(resize_longer_side(img, 100, image_limits{99 * 99}), image_too_large);
    CHECK(resize_image(img, 3, 3, image_limits{9}).shape() == shape3{3, 3, 3});
}

namespace {

// Where EXIF puts a stored image's row 0 and column 0 when shown (EXIF 2.3, tag 0x0112).
enum side { top, bottom, left, right };
struct exif_sides {
    side row0, column0;
};
const exif_sides exif_definition[9] = {{top, left},     {top, left},   {top, right},
                                       {bottom, right}, {bottom, left}, {left, top},
                                       {right, top},    {right, bottom}, {left, bottom}};
side opposite(side s) { return s == top ? bottom : s == bottom ? top : s == left ? right : left; }

// The pixel just inside the displayed corner where sides a and b (one horizontal, one vertical
// edge) meet, in an h x w image.
std::array<std::size_t, 2> corner(side a, side b, std::size_t h, std::size_t w) {
    const bool at_bottom = a == bottom || b == bottom, at_right = a == right || b == right;
    return {at_bottom ? h - 3 : 2, at_right ? w - 3 : 2};
}

// A stored 16 x 32 image with flat quadrants: red, green / blue, white.
image quadrants() {
    image img({16, 32, 3});
    const float colour[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
    for (std::size_t y = 0; y < 16; ++y)
        for (std::size_t x = 0; x < 32; ++x)
            for (std::size_t c = 0; c < 3; ++c) img(y, x, c) = colour[2 * (y / 8) + x / 16][c];
    return img;
}

// Checks that `shown` is quadrants() displayed under `orientation` per the EXIF definition.
void check_upright(const image& shown, int orientation, float tolerance) {
    INFO("orientation " << orientation);
    const exif_sides d = exif_definition[orientation];
    const bool swapped = d.row0 == left || d.row0 == right;
    REQUIRE(shown.shape() == (swapped ? shape3{32, 16, 3} : shape3{16, 32, 3}));
    const image stored = quadrants();
    const std::size_t h = shown.shape(0), w = shown.shape(1);
    // Stored corners: (row 0 | last row) x (column 0 | last column).
    for (const bool last_row : {false, true})
        for (const bool last_column : {false, true}) {
            const side a = last_row ? opposite(d.row0) : d.row0;
            const side b = last_column ? opposite(d.column0) : d.column0;
            const auto at = corner(a, b, h, w);
            for (std::size_t c = 0; c < 3; ++c)
                CHECK(std::abs(shown(at[0], at[1], c) - stored(last_row ? 15 : 0, last_column ? 31 : 0, c)) <=
                      tolerance);
        }
}

}  // namespace

TEST_CASE("EXIF orientation 1-8 is applied to JPEG (APP1) and PNG (eXIf)", "[images][exif]") {
    temp_folder dir;
    save_image(quadrants(), dir / "q.jpg");
    save_image(quadrants(), dir / "q.png");
    const bytes jpeg = read_file(dir / "q.jpg"), png = read_file(dir / "q.png");
    for (int o = 1; o <= 8; ++o)
        for (const bool big_endian : {false, true}) {
            const std::string name = "o" + std::to_string(o) + (big_endian ? "mm" : "ii");
            write_file(dir / (name + ".jpg"), with_app1(jpeg, exif_block(big_endian, unsigned(o))));
            write_file(dir / (name + ".png"), with_exif_chunk(png, exif_block(big_endian, unsigned(o))));
            check_upright(load_image(dir / (name + ".jpg")), o, 40.0f);
            check_upright(load_image(dir / (name + ".png")), o, 0.0f);
        }
    // 16-bit PNGs and grey+alpha go through the same placement.
    bytes png16 = make_png(2, 1, 16, 4, {0, 65535, 65535, 65535});  // black, white; opaque
    png16 = with_exif_chunk(png16, exif_block(true, 6));
    const image rotated = decode_image(png16.data(), png16.size(), "p16.png");
    REQUIRE(rotated.shape() == shape3{2, 1, 3});  // rotated 90 clockwise: stored row 0 on the right
    CHECK((rotated(0, 0, 0) == 0.0f && rotated(1, 0, 0) == Approx(255.0f)));
}

TEST_CASE("malformed EXIF is ignored: the image loads as stored", "[images][exif]") {
    temp_folder dir;
    save_image(quadrants(), dir / "q.jpg");
    const bytes jpeg = read_file(dir / "q.jpg");
    std::vector<bytes> broken;
    bytes t = exif_block(false, 6);
    t[4] = 0xF0;  // IFD0 offset far past the end
    broken.push_back(t);
    t = exif_block(false, 6);
    t[8] = t[9] = 0xFF;  // 65535 entries claimed
    broken.push_back(t);
    t = exif_block(false, 9);  // out of range
    broken.push_back(t);
    t = exif_block(false, 6);
    t[2] = 43;  // not TIFF
    broken.push_back(t);
    broken.push_back(bytes(t.begin(), t.begin() + 5));  // truncated header
    for (const bytes& exif : broken) {
        const bytes file = with_app1(jpeg, exif);
        check_upright(decode_image(file.data(), file.size(), "broken.jpg"), 1, 40.0f);
    }
}

TEST_CASE("CMYK and YCCK JPEGs with the Adobe marker get the right colours and others a clear error",
          "[images][cmyk]") {
    // Ink amounts 0..255 (C, M, Y, K) and the colour they show: 255 (1 - ink) (1 - k).
    const std::vector<std::array<int, 4>> inks = {{255, 0, 0, 0}, {0, 128, 255, 64}, {40, 90, 10, 200}};
    const auto shown = [](const std::array<int, 4>& ink, int c) {
        return 255.0 * (1.0 - ink[std::size_t(c)] / 255.0) * (1.0 - ink[3] / 255.0);
    };
    // Adobe CMYK stores inverted values (255 = no ink).
    std::vector<std::array<int, 4>> stored;
    for (const auto& ink : inks) stored.push_back({255 - ink[0], 255 - ink[1], 255 - ink[2], 255 - ink[3]});
    const bytes cmyk = make_4_channel_jpeg(stored, 0);
    const image a = decode_image(cmyk.data(), cmyk.size(), "cmyk.jpg");
    REQUIRE(a.shape() == shape3{8, 8 * inks.size(), 3});
    // YCCK stores the inks' C, M, Y as if they were R, G, B in YCbCr, and K inverted.
    stored.clear();
    for (const auto& ink : inks) {
        const double r = ink[0], g = ink[1], b = ink[2];
        const auto level = [](double v) { return int(std::lround(std::clamp(v, 0.0, 255.0))); };
        stored.push_back({level(0.299 * r + 0.587 * g + 0.114 * b),
                          level(128 - 0.168736 * r - 0.331264 * g + 0.5 * b),
                          level(128 + 0.5 * r - 0.418688 * g - 0.081312 * b), 255 - ink[3]});
    }
    const bytes ycck = make_4_channel_jpeg(stored, 2);
    const image y = decode_image(ycck.data(), ycck.size(), "ycck.jpg");
    REQUIRE(y.shape() == a.shape());
    for (std::size_t i = 0; i < inks.size(); ++i)
        for (int c = 0; c < 3; ++c) {
            INFO("block " << i << " channel " << c);
            CHECK(a(4, 8 * i + 4, std::size_t(c)) == Approx(shown(inks[i], c)).margin(2.0));
            CHECK(y(4, 8 * i + 4, std::size_t(c)) == Approx(shown(inks[i], c)).margin(3.0));
        }
    // Without Adobe's marker (or with a transform meaning neither), the meaning is unknown.
    for (const int transform : {-1, 1}) {
        const bytes plain = make_4_channel_jpeg(stored, transform);
        CHECK_THAT(message_of<io_error>([&] { decode_image(plain.data(), plain.size(), "plain.jpg"); }),
                   Contains("plain.jpg") && Contains("CMYK"));
    }
}

// stb decodes missing data as zeros, so a header alone used to cost a whole decode (an 18-byte
// TGA declaring 10000 x 10000: ~4 s and 1.5 GB). Every format's file must hold the fewest bytes
// its declared size needs (io/detail/pixel_data_bound.hpp); complete files still load.
TEST_CASE("a file too small for the pixels it declares is refused before decoding", "[images][bomb]") {
    const auto refused = [](const bytes& file, const std::string& name, const std::string& reason) {
        const std::string message = message_of<io_error>([&] { decode_image(file.data(), file.size(), name); });
        CHECK_THAT(message, Contains(name) && Contains("truncated or forged") && Contains("3000 x 2000") &&
                                Contains(reason) && Contains("the file has " + std::to_string(file.size())));
    };
    const auto put16le = [](bytes& b, std::size_t at, unsigned v) {
        b[at] = (unsigned char)(v & 0xFF), b[at + 1] = (unsigned char)(v >> 8);
    };
    // Raw TGA (type 2, 24 bits): complete, it loads; one byte short, it is truncated.
    bytes tga(18, 0);
    tga[2] = 2, tga[16] = 24, tga[17] = 0x20;  // top-left origin
    put16le(tga, 12, 5), put16le(tga, 14, 4);
    tga.resize(18 + 5 * 4 * 3, 77);
    CHECK(decode_image(tga.data(), tga.size(), "raw.tga").shape() == shape3{4, 5, 3});
    const std::string short_message = message_of<io_error>([&] { decode_image(tga.data(), tga.size() - 19, "raw.tga"); });
    CHECK_THAT(short_message, Contains("5 x 4") && Contains("need at least 60 bytes"));
    put16le(tga, 12, 3000), put16le(tga, 14, 2000);
    refused(tga, "raw.tga", "a raw TGA stores 3 bytes per pixel");
    // Run-length TGA: one 4-byte packet per 128 pixels at best. The fuzzer's 48-byte input
    // (tests/fuzz/regressions/decode_image/tga_rle_48_bytes_declare_2310_x_386.tga) is one.
    bytes rle(18, 0);
    rle[2] = 10, rle[16] = 24, rle[17] = 0x20;
    put16le(rle, 12, 256), put16le(rle, 14, 2);
    for (int packet = 0; packet < 4; ++packet) rle.insert(rle.end(), {0xFF, 10, 20, 30});  // 4 x 128 pixels
    CHECK(decode_image(rle.data(), rle.size(), "rle.tga").shape() == shape3{2, 256, 3});
    put16le(rle, 12, 3000), put16le(rle, 14, 2000);
    refused(rle, "rle.tga", "a run-length TGA packet of 4 bytes covers at most 128 pixels");
    // BMP, PNM: raw rasters.
    temp_folder dir;
    const bytes pixels(4 * 3 * 3, 90);
    REQUIRE(stbi_write_bmp((dir / "a.bmp").c_str(), 4, 3, 3, pixels.data()));
    bytes bmp = read_file(dir / "a.bmp");
    put16le(bmp, 18, 3000), put16le(bmp, 22, 2000);
    refused(bmp, "a.bmp", "a BMP of 24 bits per pixel stores 9000 bytes per row");
    const std::string ppm_header = "P6\n3000 2000\n255\n";
    refused(bytes(ppm_header.begin(), ppm_header.end()), "a.ppm", "a binary PNM stores 3 bytes per pixel");
    // JPEG, GIF, PSD, HDR: compressed, but never below their densest coding.
    std::mt19937 rng(3);
    save_image(random_image(16, 16, rng), dir / "a.jpg");
    bytes jpeg = read_file(dir / "a.jpg");
    for (std::size_t i = 2; i + 8 < jpeg.size(); ++i)
        if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {  // SOF0: height, width (big-endian)
            jpeg[i + 5] = 2000 >> 8, jpeg[i + 6] = 2000 & 0xFF, jpeg[i + 7] = 3000 >> 8, jpeg[i + 8] = 3000 & 0xFF;
            break;
        }
    refused(jpeg, "a.jpg", "a JPEG codes each 8 x 8 block in at least 1 bit");
    bytes gif = make_gif(2, 1, bytes(12, 0), {{1, 2}});
    put16le(gif, 6, 3000), put16le(gif, 8, 2000);
    refused(gif, "a.gif", "8192 GIF pixels per byte");
    bytes psd = make_psd(4, 3, bytes(12, 1), bytes(12, 2), bytes(12, 3));
    psd[14] = 0, psd[15] = 0, psd[16] = 2000 >> 8, psd[17] = 2000 & 0xFF;  // height, big-endian
    psd[18] = 0, psd[19] = 0, psd[20] = 3000 >> 8, psd[21] = 3000 & 0xFF;  // width
    refused(psd, "a.psd", "a PSD row takes 2 bytes per 128 pixels at least");
    const std::string hdr = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2000 +X 3000\n";
    refused(bytes(hdr.begin(), hdr.end()), "a.hdr", "an HDR row takes 8 bytes per 127 pixels at least");
}

// Not run by default: writes the image fuzzer's seed corpus (tests/fuzz/corpus/decode_image),
// one small file per format and feature, with the encoders above:
//   NST_FUZZ_SEED_DIR=tests/fuzz/corpus/decode_image build/tests/test_io "write the image fuzzer*"
TEST_CASE("write the image fuzzer's seed corpus", "[.fuzz-seeds]") {
    const char* dir_env = std::getenv("NST_FUZZ_SEED_DIR");
    REQUIRE(dir_env != nullptr);
    const fs::path dir = dir_env;
    fs::create_directories(dir);
    std::mt19937 rng(8);
    const image img = random_image(5, 6, rng);
    bytes pixels(img.size());
    for (std::size_t i = 0; i < img.size(); ++i) pixels[i] = (unsigned char)img.data()[i];
    save_image(img, (dir / "rgb.png").string());
    save_image(quadrants(), (dir / "quadrants.jpg").string(), 90);  // subsampled chroma
    save_image(img, (dir / "rgb.jpg").string(), 95);
    REQUIRE(stbi_write_bmp((dir / "rgb.bmp").c_str(), 6, 5, 3, pixels.data()));
    REQUIRE(stbi_write_tga((dir / "rgb_rle.tga").c_str(), 6, 5, 3, pixels.data()));
    std::vector<float> hdr(pixels.begin(), pixels.end());
    REQUIRE(stbi_write_hdr((dir / "rgb.hdr").c_str(), 6, 5, 3, hdr.data()));
    const unsigned char grey_alpha[8] = {0, 255, 77, 128, 200, 0, 255, 255};
    REQUIRE(stbi_write_png((dir / "grey_alpha.png").c_str(), 2, 2, 2, grey_alpha, 4));
    write_file(dir / "rgba16.png", make_png(2, 1, 16, 6, {65535, 0, 0x80FF, 32768, 257, 1, 2, 65535}));
    write_file(dir / "exif6.png", with_exif_chunk(read_file((dir / "rgb.png").string()), exif_block(true, 6)));
    write_file(dir / "exif8.jpg", with_app1(read_file((dir / "rgb.jpg").string()), exif_block(false, 8)));
    write_file(dir / "cmyk.jpg", make_4_channel_jpeg({{10, 20, 30, 40}, {200, 100, 50, 0}}, 0));
    write_file(dir / "ycck.jpg", make_4_channel_jpeg({{10, 20, 30, 40}}, 2));
    write_file(dir / "bomb.png", png_with_idat(8, 8, zeros_zlib(1 << 16)));
    const bytes palette = {0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255};
    write_file(dir / "two_frames.gif", make_gif(3, 2, palette, {{1, 2, 3, 0, 1, 2}, {3, 3, 3, 3, 3, 3}}));
    bytes r(30), g(30), b(30);
    for (std::size_t i = 0; i < 30; ++i) r[i] = pixels[3 * i], g[i] = pixels[3 * i + 1], b[i] = pixels[3 * i + 2];
    write_file(dir / "rgb.psd", make_psd(6, 5, r, g, b));
    bytes ppm = {'P', '6', '\n', '6', ' ', '5', '\n', '2', '5', '5', '\n'};
    ppm.insert(ppm.end(), pixels.begin(), pixels.end());
    write_file(dir / "rgb.ppm", ppm);
    write_file(dir / "grey16.pgm", {'P', '5', ' ', '2', ' ', '1', ' ', '6', '5', '5', '3', '5', '\n', 1, 2, 255, 0});
}

TEST_CASE("a PNG whose last chunk header declares a huge IDAT is refused before stb reserves it", "[images][limits]") {
    // Found by fuzz_decode_image: 44 bytes whose final IDAT header (no CRC left) declares
    // 736 MB, which stb would reallocate before noticing the data is missing.
    const std::string path = std::string(NST_TEST_SOURCE_DIR) +
                             "/fuzz/regressions/decode_image/png_idat_header_at_the_end_declares_736_mb.png";
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
    REQUIRE(bytes.size() == 44);
    REQUIRE_THROWS_WITH(nst::decode_image(bytes.data(), bytes.size(), "huge_idat.png"),
                        Catch::Contains("huge_idat.png") && Catch::Contains("IDAT") &&
                            Catch::Contains("declares 771751936 bytes"));
}

namespace {

// An uncompressed 8-bit palette BMP (40-byte info header), 3 x 2 pixels: `palette` BGR entries,
// then the rows of `indices` (bottom row first, each padded to 4 bytes).
bytes palette_bmp(const std::vector<std::array<unsigned char, 3>>& palette, const std::vector<unsigned char>& indices) {
    const std::uint32_t offset = 14 + 40 + 4 * std::uint32_t(palette.size());
    bytes b{'B', 'M'};
    put32le(b, offset + 8);  // file size: two rows of 3 bytes, each padded to 4
    put32le(b, 0);
    put32le(b, offset);
    for (std::uint32_t v : {40u, 3u, 2u}) put32le(b, v);
    put16le(b, 1);  // planes
    put16le(b, 8);  // bits per pixel
    for (std::uint32_t v : {0u, 8u, 2835u, 2835u, std::uint32_t(palette.size()), 0u}) put32le(b, v);
    for (const auto& c : palette) b.insert(b.end(), {c[0], c[1], c[2], 0});
    for (std::size_t row = 0; row < 2; ++row) {
        b.insert(b.end(), indices.begin() + std::ptrdiff_t(3 * row), indices.begin() + std::ptrdiff_t(3 * row + 3));
        b.push_back(0);
    }
    return b;
}

}  // namespace

TEST_CASE("a palette BMP is decoded with its own colours, one using an entry its palette lacks is refused",
          "[images][bmp]") {
    // Two entries, blue and red (stored B, G, R); the bottom row comes first in the file.
    const bytes good = palette_bmp({{255, 0, 0}, {0, 0, 255}}, {0, 1, 0, 1, 1, 0});
    const image img = decode_image(good.data(), good.size(), "two_colours.bmp");
    REQUIRE(img.shape() == shape3{2, 3, 3});
    CHECK(img(1, 0, 2) == 255.0f);  // bottom left: entry 0, blue
    CHECK(img(1, 0, 0) == 0.0f);
    CHECK(img(1, 1, 0) == 255.0f);  // entry 1, red
    CHECK(img(0, 0, 0) == 255.0f);  // top left (the file's second row): entry 1
    CHECK(img(0, 2, 2) == 255.0f);

    // Index 5 with two entries: stb would show an uninitialised table entry there.
    const bytes past = palette_bmp({{255, 0, 0}, {0, 0, 255}}, {0, 1, 0, 1, 5, 0});
    CHECK_THROWS_AS(decode_image(past.data(), past.size(), "past.bmp"), nst::io_error);
    CHECK_THROWS_WITH(decode_image(past.data(), past.size(), "past.bmp"),
                      Contains("past.bmp") && Contains("corrupt BMP") && Contains("palette entry 5, past its 2"));

    // The data offset inside the header: stb's entry count comes out negative and reads none
    // (fuzz_decode_image's finding; the file is kept in tests/fuzz/regressions/decode_image).
    bytes inside = good;
    inside[10] = 51;  // 14 + 40 - 3
    CHECK_THROWS_WITH(decode_image(inside.data(), inside.size(), "inside.bmp"),
                      Contains("inside.bmp") && Contains("without palette entries"));
    // stb reads the compression field as a signed int and decodes a negative one as uncompressed
    // (the second CI finding).
    inside[33] = 0xCD;
    CHECK_THROWS_WITH(decode_image(inside.data(), inside.size(), "negative.bmp"),
                      Contains("negative.bmp") && Contains("without palette entries"));
}
