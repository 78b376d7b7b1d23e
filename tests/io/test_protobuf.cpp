// The protobuf wire-format reader (io/detail/protobuf.hpp) on hand-written byte sequences:
// every wire type, packed and unpacked repeated numbers, skipped groups, and each malformation
// (truncation, overlong varints, lengths beyond the message, reserved wire types).
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nst/io/detail/protobuf.hpp>

namespace protobuf_test {

namespace pb = nst::detail::protobuf;
using bytes = std::vector<unsigned char>;

std::vector<pb::field> wire_fields(const bytes& b) {
    pb::reader r(b.data(), b.size(), "test.pb");
    std::vector<pb::field> fields;
    for (pb::field f; r.next(f);) fields.push_back(f);
    return fields;
}

std::string wire_error_of(const bytes& b) {
    try {
        wire_fields(b);
    } catch (const nst::io_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace protobuf_test

using namespace protobuf_test;

TEST_CASE("protobuf: varint, 64-bit, length-delimited and 32-bit fields decode", "[io][protobuf]") {
    // field 1 varint 300; field 2 fixed64; field 3 "hi"; field 5 fixed32 1.5f; field 100 varint 1
    const bytes b{0x08, 0xAC, 0x02, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1A, 2, 'h', 'i',
                  0x2D, 0x00, 0x00, 0xC0, 0x3F, 0xA0, 0x06, 0x01};
    const auto f = wire_fields(b);
    REQUIRE(f.size() == 5);
    CHECK(f[0].number == 1);
    CHECK(f[0].type == pb::wire_type::varint);
    CHECK(f[0].value == 300);
    CHECK(f[1].value == 0x0807060504030201ull);
    CHECK(pb::as_string(f[2]) == "hi");
    CHECK(f[2].payload_offset == 14);
    CHECK(f[3].offset == 16);
    std::vector<float> floats;
    pb::reader r(b.data(), b.size(), "test.pb");
    pb::append_floats(r, f[3], floats);
    CHECK(floats == std::vector<float>{1.5f});
    CHECK(f[4].number == 100);
    CHECK(f[4].value == 1);
}

TEST_CASE("protobuf: negative int32 and int64 varints read back as signed", "[io][protobuf]") {
    // -1 as a 10-byte varint (how int32 and int64 encode negatives)
    const bytes b{0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    const auto f = wire_fields(b);
    REQUIRE(f.size() == 1);
    CHECK(pb::as_int64(f[0]) == -1);
}

TEST_CASE("protobuf: packed and unpacked repeated numbers give the same values", "[io][protobuf]") {
    // packed floats {1, -2}; unpacked double 0.5; packed varints {3, 300, -1}
    const bytes b{0x2A, 8, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0,
                  0x41, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F,
                  0x0A, 13, 0x03, 0xAC, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    pb::reader r(b.data(), b.size(), "test.pb");
    std::vector<float> floats;
    std::vector<double> doubles;
    std::vector<std::int64_t> ints;
    pb::field f;
    REQUIRE(r.next(f));
    pb::append_floats(r, f, floats);
    REQUIRE(r.next(f));
    pb::append_doubles(r, f, doubles);
    REQUIRE(r.next(f));
    pb::append_int64s(r, f, ints);
    CHECK_FALSE(r.next(f));
    CHECK(floats == std::vector<float>{1.0f, -2.0f});
    CHECK(doubles == std::vector<double>{0.5});
    CHECK(ints == std::vector<std::int64_t>{3, 300, -1});
}

TEST_CASE("protobuf: groups are skipped, nested ones too", "[io][protobuf]") {
    // field 7 start group { field 1 varint 5, field 8 group { } }, end 7; then field 2 varint 9
    const bytes b{0x3B, 0x08, 0x05, 0x43, 0x44, 0x3C, 0x10, 0x09};
    const auto f = wire_fields(b);
    REQUIRE(f.size() == 1);
    CHECK(f[0].number == 2);
    CHECK(f[0].value == 9);
}

TEST_CASE("protobuf: malformed input is an io_error naming the problem and the offset", "[io][protobuf]") {
    using Catch::Matchers::Contains;
    CHECK_THAT(wire_error_of({0x08, 0x80}), Contains("test.pb") && Contains("truncated varint") && Contains("byte 1"));
    CHECK_THAT(wire_error_of({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}),
               Contains("varint longer than 10 bytes"));
    CHECK_THAT(wire_error_of({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}),
               Contains("above 2^64 - 1"));
    CHECK_THAT(wire_error_of({0x1A, 0x05, 'a'}), Contains("declares 5 bytes, only 1 remain"));
    CHECK_THAT(wire_error_of({0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}), Contains("declares"));
    CHECK_THAT(wire_error_of({0x11, 1, 2, 3}), Contains("64-bit") && Contains("truncated"));
    CHECK_THAT(wire_error_of({0x15, 1, 2}), Contains("32-bit"));
    CHECK_THAT(wire_error_of({0x0E, 0}), Contains("reserved wire type 6"));
    CHECK_THAT(wire_error_of({0x0F, 0}), Contains("reserved wire type 7"));
    CHECK_THAT(wire_error_of({0x00, 0}), Contains("field number 0"));
    CHECK_THAT(wire_error_of({0x0C}), Contains("never started"));
    CHECK_THAT(wire_error_of({0x3B, 0x08, 0x05}), Contains("never closed"));
    CHECK_THAT(wire_error_of({0x3B, 0x44}), Contains("closed as 8"));
    bytes deep;
    for (int i = 0; i < 40; ++i) deep.push_back(0x0B);
    CHECK_THAT(wire_error_of(deep), Contains("nested deeper"));

    const bytes odd{0x2A, 3, 0, 0, 0};  // a packed float run of 3 bytes
    pb::reader r(odd.data(), odd.size(), "test.pb");
    pb::field f;
    REQUIRE(r.next(f));
    std::vector<float> floats;
    CHECK_THROWS_WITH(pb::append_floats(r, f, floats), Contains("32-bit floats"));
    std::vector<double> doubles;
    CHECK_THROWS_WITH(pb::append_doubles(r, f, doubles), Contains("64-bit doubles"));
    const bytes bad_packed{0x0A, 1, 0x80};  // a packed varint run ending mid-varint
    pb::reader r2(bad_packed.data(), bad_packed.size(), "test.pb");
    REQUIRE(r2.next(f));
    std::vector<std::int64_t> ints;
    CHECK_THROWS_WITH(pb::append_int64s(r2, f, ints), Contains("truncated varint"));
}
