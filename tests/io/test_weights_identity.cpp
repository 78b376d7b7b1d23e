// Which weight file is in use (io/weights_identity.hpp): SHA-256 of a file against the published
// test vectors (FIPS 180-2), known files recognised by hash, and a pin that refuses other files.
#include <cctype>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include <nst/io/weights_identity.hpp>

#include "temp_folder.hpp"

using nst::test::temp_folder;

TEST_CASE("weights identity: SHA-256 of a file matches the published test vectors",
          "[io][weights_identity]") {
    const temp_folder tmp;
    std::ofstream(tmp / "empty.bin");
    std::ofstream(tmp / "abc.bin") << "abc";
    {
        std::ofstream million(tmp / "million_a.bin");  // more than one 1 MiB read
        for (int i = 0; i < 1000000; ++i) million.put('a');
    }
    CHECK(nst::detail::sha256_of_file(tmp / "empty.bin") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(nst::detail::sha256_of_file(tmp / "abc.bin") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(nst::detail::sha256_of_file(tmp / "million_a.bin") ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK_THROWS_WITH(nst::detail::sha256_of_file(tmp / "missing.bin"),
                      Catch::Contains(tmp / "missing.bin"));
}

TEST_CASE("weights identity: known files are named, a pin refuses any other file",
          "[io][weights_identity]") {
    const std::string shared = nst::known_weight_files().at(0).sha256;
    const std::string other(64, '0');
    CHECK_FALSE(nst::known_weights_name(shared).empty());
    CHECK(nst::known_weights_name(other).empty());

    nst::weights_options any;
    const nst::weights_info info = nst::detail::identify_weights("w.h5", shared, any);
    CHECK(info.path == "w.h5");
    CHECK(info.sha256 == shared);
    CHECK(info.known_name == nst::known_weights_name(shared));

    nst::weights_options pin;
    std::string upper = shared;
    for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
    pin.expected_sha256 = upper;  // either case
    CHECK(nst::detail::identify_weights("w.h5", shared, pin).sha256 == shared);
    CHECK_THROWS_AS(nst::detail::identify_weights("w.h5", other, pin), nst::io_error);
    CHECK_THROWS_WITH(nst::detail::identify_weights("w.h5", other, pin),
                      Catch::Contains("w.h5: SHA-256 is " + other) &&
                          Catch::Contains("not a known weight file") && Catch::Contains("pinned"));

    for (const std::string& bad : {std::string(63, 'a'), std::string(65, 'a'), std::string(64, 'g')}) {
        pin.expected_sha256 = bad;
        CHECK_THROWS_AS(nst::detail::identify_weights("w.h5", shared, pin), nst::invalid_argument);
    }
}
