// JPEG tables and scans that Debian's stb_image would mishandle (overrun, uninitialised Huffman
// or quantisation table, a component left undecoded, aborting assertion) are refused before
// decoding; ordinary JPEGs pass untouched.
#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <stb_image_write.h>

#include <nst/io/detail/jpeg_table_check.hpp>
#include <nst/io/image.hpp>

namespace {

// A baseline JPEG from stb's writer (two Huffman tables of each class; 16 x 8, and chroma
// subsampled, below quality 91).
std::vector<unsigned char> small_jpeg(int width = 16, int height = 8, int quality = 90) {
    std::vector<unsigned char> rgb(std::size_t(width * height * 3));
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<unsigned char>((i * 37) % 251);
    std::vector<unsigned char> out;
    stbi_write_jpg_to_func(
        [](void* context, void* data, int size) {
            auto* bytes = static_cast<std::vector<unsigned char>*>(context);
            bytes->insert(bytes->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
        },
        &out, width, height, 3, rgb.data(), quality);
    return out;
}

// Offset of the first segment with this marker (0xC0 SOF, 0xC4 DHT, 0xDA SOS).
std::size_t segment(const std::vector<unsigned char>& jpeg, unsigned char marker) {
    for (std::size_t at = 2; at + 4 <= jpeg.size();) {
        if (jpeg[at + 1] == marker) return at;
        at += 2 + std::size_t(jpeg[at + 2] << 8 | jpeg[at + 3]);
    }
    FAIL("no segment with marker " << int(marker));
    return 0;
}

std::string check(const std::vector<unsigned char>& jpeg) {
    return nst::detail::check_jpeg_tables(jpeg.data(), jpeg.size());
}

}  // namespace

TEST_CASE("an ordinary JPEG's Huffman tables pass and it decodes", "[images][jpeg]") {
    const auto jpeg = small_jpeg();
    REQUIRE(check(jpeg).empty());
    REQUIRE(nst::decode_image(jpeg.data(), jpeg.size(), "ok.jpg").shape(1) == 16);
}

TEST_CASE("a Huffman table declaring more than 256 symbols is refused", "[images][jpeg]") {
    auto jpeg = small_jpeg();
    const std::size_t counts = segment(jpeg, 0xC4) + 5;  // after marker, length, class/id
    for (std::size_t i = 0; i < 16; ++i) jpeg[counts + i] = 20;  // 320 symbols
    REQUIRE(check(jpeg) == "a Huffman table with more than 256 symbols");
    REQUIRE_THROWS_WITH(nst::decode_image(jpeg.data(), jpeg.size(), "many.jpg"),
                        Catch::Contains("many.jpg") && Catch::Contains("corrupt JPEG"));
}

TEST_CASE("a scan using a Huffman table the file never defines is refused", "[images][jpeg]") {
    auto jpeg = small_jpeg();
    const std::size_t sos = segment(jpeg, 0xDA);
    jpeg[sos + 6] = 0x33;  // first component: DC and AC table 3, which stb's writer never writes
    REQUIRE(check(jpeg) == "a scan that uses a Huffman table the file never defines");
}

// stb reads a quantisation table no DQT segment defined from uninitialised memory: the picture
// showed the heap's leftovers, and two decodes of the file differed (fuzz_decode_image's check
// that decode_mask_image reads a JPEG as decode_image does).
TEST_CASE("a scan using a quantisation table the file never defines is refused", "[images][jpeg]") {
    auto jpeg = small_jpeg();
    const std::size_t sof = segment(jpeg, 0xC0);
    REQUIRE(jpeg[sof + 9] == 3);  // three components, each (id, sampling, table)
    jpeg[sof + 12] = 3;           // the first uses table 3, which stb's writer never writes
    REQUIRE(check(jpeg) == "a scan that uses a quantisation table the file never defines");
    REQUIRE_THROWS_WITH(nst::decode_image(jpeg.data(), jpeg.size(), "noquant.jpg"),
                        Catch::Contains("noquant.jpg") && Catch::Contains("corrupt JPEG"));
}

// A frame component in no scan keeps stb's never-written buffer, which it converts to pixels.
TEST_CASE("a frame component that no scan decodes is refused", "[images][jpeg]") {
    auto jpeg = small_jpeg();
    const std::size_t sos = segment(jpeg, 0xDA);
    REQUIRE(jpeg[sos + 4] == 3);
    jpeg[sos + 3] -= 2;  // the scan names the first two components only
    jpeg[sos + 4] = 2;
    jpeg.erase(jpeg.begin() + std::ptrdiff_t(sos + 9), jpeg.begin() + std::ptrdiff_t(sos + 11));
    REQUIRE(check(jpeg) == "a frame component that no scan decodes");
    REQUIRE_THROWS_WITH(nst::decode_image(jpeg.data(), jpeg.size(), "twoof3.jpg"),
                        Catch::Contains("twoof3.jpg") && Catch::Contains("corrupt JPEG"));
}

// stb stops a scan at a restart interval's end without a restart marker and, when no marker
// follows, decodes the file with the scan's remaining blocks never written.
TEST_CASE("a scan with fewer restart markers than its restart interval asks for is refused", "[images][jpeg]") {
    const auto plain = small_jpeg(64, 16, 95);  // 8 x 8 MCUs (no subsampling): 8 x 2 of them
    const auto with_interval = [&](unsigned char mcus) {
        auto jpeg = plain;
        const std::vector<unsigned char> dri{0xFF, 0xDD, 0, 4, 0, mcus};
        jpeg.insert(jpeg.begin() + std::ptrdiff_t(segment(jpeg, 0xDA)), dri.begin(), dri.end());
        return jpeg;
    };
    const auto whole = with_interval(16);  // one interval: no restart marker needed
    REQUIRE(check(whole).empty());
    REQUIRE(nst::decode_image(whole.data(), whole.size(), "ok.jpg").shape(1) == 64);
    const auto cut = with_interval(1);  // 16 intervals, none of them ended by a marker
    REQUIRE(check(cut) == "a scan with fewer restart markers than its restart interval asks for");
    REQUIRE_THROWS_WITH(nst::decode_image(cut.data(), cut.size(), "cut.jpg"),
                        Catch::Contains("cut.jpg") && Catch::Contains("corrupt JPEG"));
}

TEST_CASE("a complete code passes, as does a table stb itself rejects", "[images][jpeg]") {
    unsigned char counts[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};  // the DC table of the standard
    REQUIRE(nst::detail::check_huffman_table(counts).empty());
    unsigned char oversubscribed[16] = {3};  // three codes of length 1: stb reports "bad code lengths"
    REQUIRE(nst::detail::check_huffman_table(oversubscribed).empty());
}

TEST_CASE("the fuzzer's JPEG findings are refused with a clear error", "[images][jpeg]") {
    for (const char* name : {"jpeg_scan_uses_undefined_huffman_table.jpg", "jpeg_huffman_table_with_300_symbols.jpg",
                             "jpeg_bytes_between_segments_hide_undefined_table.jpg",
                             "jpeg_without_quantisation_tables.jpg"}) {
        const std::string path = std::string(NST_TEST_SOURCE_DIR) + "/fuzz/regressions/decode_image/" + name;
        std::ifstream in(path, std::ios::binary);
        REQUIRE(in);
        const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
        REQUIRE_THROWS_WITH(nst::decode_image(bytes.data(), bytes.size(), name),
                            Catch::Contains(name) && Catch::Contains("corrupt JPEG"));
    }
}
