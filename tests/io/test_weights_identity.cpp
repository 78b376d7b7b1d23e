// Which weight file is in use (io/weights_identity.hpp) rests on the SHA-256 of its bytes
// (io/detail/sha256.hpp): the standard test vectors, however the input is split into pieces.
// Known files, pins and the hash of real files are tested with the loader in test_keras_weights.cpp.
#include <algorithm>
#include <cstddef>
#include <string>

#include <catch2/catch.hpp>

#include <nst/io/weights_identity.hpp>

namespace {

std::string sha256_hex(const std::string& text) {
    nst::detail::sha256 hash;
    hash.update(text.data(), text.size());
    return hash.hex_digest();
}

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
