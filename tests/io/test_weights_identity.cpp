// Which weight file is in use (io/weights_identity.hpp) rests on digests of its bytes: SHA-256
// (io/detail/sha256.hpp) and MD5 (io/detail/md5.hpp) against their standard test vectors, however
// the input is split into pieces; the table matching a file by each kind of digest; the pin.
// Pins and the hash of real files are tested with the loader in test_keras_weights.cpp too.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/io/weights_identity.hpp>

#include "temp_folder.hpp"

namespace {

std::string sha256_hex(const std::string& text) {
    nst::detail::sha256 hash;
    hash.update(text.data(), text.size());
    return hash.hex_digest();
}

std::string md5_hex(const std::string& text) {
    nst::detail::md5 hash;
    hash.update(text.data(), text.size());
    return hash.hex_digest();
}

// 3000 bytes, byte i = (131 i + 7) mod 256, and their digests from another implementation:
//   python3 -c "import hashlib; b = bytes((i*131+7)%256 for i in range(3000));
//               print(hashlib.sha256(b).hexdigest(), hashlib.md5(b).hexdigest())"
std::string identity_sample_bytes() {
    std::string bytes(3000, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = char((i * 131 + 7) % 256);
    return bytes;
}
const char* const identity_sample_sha256 = "4d187201784f57a664075c86f278e3ea0f989c59fbc836af78accbcc0486b8c2";
const char* const identity_sample_md5 = "0e28af5811d6c6890e51fba9f03856bd";

}  // namespace

TEST_CASE("sha256 matches the standard vectors when streamed in any pieces", "[io][sha256]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a', fed in pieces of 1, 2, ..., 1000 bytes (block boundaries fall anywhere).
    const std::string million(1000000, 'a');
    nst::detail::sha256 hash;
    for (std::size_t at = 0, piece = 1; at < million.size(); at += piece, piece = piece % 1000 + 1)
        hash.update(million.data() + at, std::min(piece, million.size() - at));
    CHECK(hash.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // 55, 56 and 64 bytes: the padding edge cases.
    CHECK(sha256_hex(std::string(55, 'x')) != sha256_hex(std::string(56, 'x')));
    CHECK(sha256_hex(std::string(64, 'a')) ==
          "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("md5 matches RFC 1321's test suite when streamed in any pieces", "[io][md5]") {
    // RFC 1321, appendix A.5.
    CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(md5_hex("a") == "0cc175b9c0f1b6a831c399e269772661");
    CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
    CHECK(md5_hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
    CHECK(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
          "d174ab98d277d9f5a5611c2c9f419d9f");
    CHECK(md5_hex("1234567890123456789012345678901234567890123456789012345678901234567890"
                  "1234567890") == "57edf4a22be3c955ac49da2e2107b67a");
    // One million 'a' (md5sum's answer), fed in pieces of 1, 2, ..., 1000 bytes.
    const std::string million(1000000, 'a');
    nst::detail::md5 hash;
    for (std::size_t at = 0, piece = 1; at < million.size(); at += piece, piece = piece % 1000 + 1)
        hash.update(million.data() + at, std::min(piece, million.size() - at));
    CHECK(hash.hex_digest() == "7707d6ae4e027c70eea2a935c2296f21");
    // 55, 56 and 64 bytes: the padding edge cases differ.
    CHECK(md5_hex(std::string(55, 'x')) != md5_hex(std::string(56, 'x')));
    CHECK(md5_hex(std::string(56, 'x')) != md5_hex(std::string(64, 'x')));
}

TEST_CASE("a table entry names a file by its full SHA-256, SHA-256 prefix or MD5, and size",
          "[io][trust]") {
    using nst::digest_kind;
    const nst::test::temp_folder tmp;
    const std::string path = (tmp.path / "sample.bin").string();
    const std::string bytes = identity_sample_bytes();
    std::ofstream(path, std::ios::binary) << bytes;
    const std::string sha = identity_sample_sha256, md5 = identity_sample_md5;

    const auto name_by = [&](const nst::known_weight_file& entry) {
        const std::vector<nst::known_weight_file> table{entry};
        const nst::file_digests digests = nst::detail::digests_of_file(path, table);
        CHECK(digests.size == 3000);
        CHECK(digests.sha256 == sha);
        return nst::known_weights_name(digests, table);
    };
    CHECK(name_by({digest_kind::sha256, sha.c_str(), 3000, "full"}) == "full");
    CHECK(name_by({digest_kind::sha256, sha.c_str(), 0, "full, no size"}) == "full, no size");
    CHECK(name_by({digest_kind::sha256_prefix, "4d187201", 0, "prefix"}) == "prefix");
    CHECK(name_by({digest_kind::md5, md5.c_str(), 3000, "md5"}) == "md5");
    // Another digest or size is another file.
    CHECK(name_by({digest_kind::sha256, sha.c_str(), 2999, "x"}).empty());
    CHECK(name_by({digest_kind::sha256, std::string(64, 'a').c_str(), 3000, "x"}).empty());
    CHECK(name_by({digest_kind::sha256_prefix, "4d187202", 0, "x"}).empty());
    CHECK(name_by({digest_kind::sha256_prefix, "4d187201", 2999, "x"}).empty());
    CHECK(name_by({digest_kind::md5, std::string(32, 'a').c_str(), 3000, "x"}).empty());

    // The MD5 is computed only for a size the table knows by MD5, and then from the same pass.
    const std::vector<nst::known_weight_file> by_md5{{digest_kind::md5, md5.c_str(), 3000, "md5"}};
    const std::vector<nst::known_weight_file> other_size{{digest_kind::md5, md5.c_str(), 2999, "md5"}};
    CHECK(nst::detail::digests_of_file(path, by_md5).md5 == md5);
    CHECK(nst::detail::digests_of_file(path, other_size).md5.empty());
    CHECK(nst::known_weights_name(nst::detail::digests_of_file(path, other_size), other_size).empty());
    nst::detail::weights_hasher pieces(bytes.size(), by_md5);
    for (std::size_t at = 0, piece = 1; at < bytes.size(); at += piece, piece = piece * 2 % 1021 + 1)
        pieces.update(bytes.data() + at, std::min(piece, bytes.size() - at));
    const nst::file_digests streamed = pieces.digests();
    CHECK((streamed.size == 3000 && streamed.sha256 == sha && streamed.md5 == md5));
}

TEST_CASE("the published table is well formed and the shared file pays no MD5", "[io][trust]") {
    for (const auto& known : nst::known_weight_files()) {
        const std::string digest = known.digest;
        CAPTURE(digest);
        const std::size_t digits = known.kind == nst::digest_kind::sha256  ? 64
                                   : known.kind == nst::digest_kind::md5 ? 32
                                                                         : 8;
        CHECK(digest.size() == digits);
        CHECK(digest.find_first_not_of("0123456789abcdef") == std::string::npos);
        CHECK(std::string(known.name).size() > 20);
        // The MD5 is computed only when the size matches: an MD5 entry without one never could.
        if (known.kind == nst::digest_kind::md5) CHECK(known.size > 0);
        // A file with the entry's digests is named by this entry, not an earlier one.
        nst::file_digests file{known.size, digest, ""};
        if (known.kind == nst::digest_kind::sha256_prefix) file.sha256 += std::string(56, '0');
        if (known.kind == nst::digest_kind::md5) file = {known.size, std::string(64, '0'), digest};
        CHECK(nst::known_weights_name(file) == known.name);
    }
    CHECK_FALSE(nst::needs_md5(80155320));  // the project's shared file
    CHECK(nst::needs_md5(80134624));        // Keras' VGG19 notop file
}

TEST_CASE("a pinned SHA-256 accepts its file in either case and refuses any other", "[io][trust]") {
    const nst::file_digests file{3000, identity_sample_sha256, ""};
    nst::weights_options pin;
    pin.expected_sha256 = identity_sample_sha256;
    std::transform(pin.expected_sha256.begin(), pin.expected_sha256.end(), pin.expected_sha256.begin(),
                   [](char c) { return char(std::toupper(static_cast<unsigned char>(c))); });
    const nst::weights_info info = nst::detail::identify_weights("sample.bin", file, pin);
    CHECK(info.sha256 == identity_sample_sha256);
    CHECK(info.size == 3000);
    pin.expected_sha256 = std::string(64, '0');
    REQUIRE_THROWS_AS(nst::detail::identify_weights("sample.bin", file, pin), nst::io_error);
    REQUIRE_THROWS_WITH(nst::detail::identify_weights("sample.bin", file, pin),
                        Catch::Contains("sample.bin") && Catch::Contains(identity_sample_sha256) &&
                            Catch::Contains("pinned to " + std::string(64, '0')));
    pin.expected_sha256 = "abc";
    REQUIRE_THROWS_AS(nst::detail::identify_weights("sample.bin", file, pin), nst::invalid_argument);
}
