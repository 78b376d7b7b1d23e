// A minimal reader of Protocol Buffers' wire format (what Caffe's .caffemodel files are): the
// fields of one message, one at a time, over bytes held in memory. It knows no schema; the
// caller interprets field numbers. Every read is bounds-checked and every malformed input
// (truncated varint or field, a varint longer than 10 bytes, a length beyond the message, a
// reserved wire type, an unbalanced group) is an io_error stating `what` and the byte offset.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail::protobuf {

enum class wire_type : unsigned {
    varint = 0,
    fixed64 = 1,
    length_delimited = 2,
    start_group = 3,  // deprecated groups: skipped, never interpreted
    end_group = 4,
    fixed32 = 5,
};

// One field as it appears on the wire.
struct field {
    std::uint32_t number = 0;
    wire_type type = wire_type::varint;
    std::uint64_t value = 0;                 // varint, fixed64 or fixed32 (raw bits)
    const unsigned char* bytes = nullptr;    // length_delimited: the payload
    std::size_t size = 0;                    //   and its length
    std::size_t offset = 0;                  // where the field's tag starts (file offset)
    std::size_t payload_offset = 0;          // length_delimited: where the payload starts
};

// Reads the fields of one message. `base` is the message's offset in the file, for messages.
class reader {
public:
    reader(const unsigned char* data, std::size_t size, std::string what, std::size_t base = 0)
        : data_(data), size_(size), what_(std::move(what)), base_(base) {}

    // The payload of a length-delimited field as a message of its own.
    static reader nested(const field& f, const std::string& what) {
        return reader(f.bytes, f.size, what, f.payload_offset);
    }

    // Reads the next field into f; false at the end of the message.
    bool next(field& f) {
        for (;;) {
            if (pos_ == size_) return false;
            f = field{};
            f.offset = base_ + pos_;
            const std::uint64_t tag = varint();
            const std::uint64_t number = tag >> 3;
            if (number == 0 || number > 0x1FFFFFFF)
                fail("field number " + std::to_string(number) + " is outside 1..2^29-1", f.offset);
            f.number = std::uint32_t(number);
            f.type = wire_type(tag & 7);
            if (f.type == wire_type::start_group) {
                skip_group(f.number, 1);
                continue;  // groups carry nothing Caffe uses
            }
            read_payload(f);
            return true;
        }
    }

    bool at_end() const { return pos_ == size_; }
    std::size_t position() const { return base_ + pos_; }
    // One varint (for packed integer runs, whose payload is varints without tags).
    std::uint64_t read_varint() { return varint(); }
    const std::string& what() const { return what_; }

    [[noreturn]] void fail(const std::string& problem, std::size_t at) const {
        throw io_error(what_ + ": malformed protobuf at byte " + std::to_string(at) + ": " + problem);
    }

private:
    std::uint64_t varint() {
        const std::size_t start = base_ + pos_;
        std::uint64_t result = 0;
        for (unsigned i = 0; i < 10; ++i) {
            if (pos_ == size_) fail("truncated varint", start);
            const unsigned char b = data_[pos_++];
            if (i == 9 && b > 1) fail("varint longer than 10 bytes or above 2^64 - 1", start);
            result |= std::uint64_t(b & 0x7F) << (7 * i);
            if (b < 0x80) return result;
        }
        fail("varint longer than 10 bytes or above 2^64 - 1", start);  // not reached: i == 9 returns
    }

    void need(std::size_t n, const field& f, const char* kind) {
        if (n > size_ - pos_)
            fail("field " + std::to_string(f.number) + " (" + kind + ") needs " + std::to_string(n) +
                     " bytes, only " + std::to_string(size_ - pos_) + " remain (truncated file?)",
                 f.offset);
    }

    std::uint64_t little_endian(std::size_t n) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(data_[pos_ + i]) << (8 * i);
        pos_ += n;
        return v;
    }

    void read_payload(field& f) {
        switch (f.type) {
            case wire_type::varint: f.value = varint(); return;
            case wire_type::fixed64: need(8, f, "64-bit"); f.value = little_endian(8); return;
            case wire_type::fixed32: need(4, f, "32-bit"); f.value = little_endian(4); return;
            case wire_type::length_delimited: {
                const std::uint64_t length = varint();
                if (length > size_ - pos_)
                    fail("field " + std::to_string(f.number) + " declares " + std::to_string(length) +
                             " bytes, only " + std::to_string(size_ - pos_) + " remain (truncated file?)",
                         f.offset);
                f.bytes = data_ + pos_;
                f.payload_offset = base_ + pos_;
                f.size = std::size_t(length);
                pos_ += f.size;
                return;
            }
            case wire_type::end_group: fail("end of a group that was never started", f.offset);
            default: fail("reserved wire type " + std::to_string(unsigned(f.type)), f.offset);
        }
    }

    // Skips to the end_group tag matching `number`; nesting is bounded so no input recurses deeply.
    void skip_group(std::uint32_t number, unsigned depth) {
        const std::size_t start = base_ + pos_;
        if (depth > 32) fail("groups nested deeper than 32", start);
        for (;;) {
            if (pos_ == size_) fail("group " + std::to_string(number) + " is never closed", start);
            field f;
            f.offset = base_ + pos_;
            const std::uint64_t tag = varint();
            f.number = std::uint32_t(tag >> 3);
            f.type = wire_type(tag & 7);
            if (f.type == wire_type::end_group) {
                if (f.number != number)
                    fail("group " + std::to_string(number) + " closed as " + std::to_string(f.number), f.offset);
                return;
            }
            if (f.type == wire_type::start_group)
                skip_group(f.number, depth + 1);
            else
                read_payload(f);
        }
    }

    const unsigned char* data_;
    std::size_t size_;
    std::string what_;
    std::size_t base_;
    std::size_t pos_ = 0;
};

// The payload of a length-delimited field as text.
inline std::string as_string(const field& f) { return std::string(reinterpret_cast<const char*>(f.bytes), f.size); }

// A varint field as a signed 64-bit integer (int32 and int64 both encode negatives as 2^64 + v).
inline std::int64_t as_int64(const field& f) {
    std::int64_t v;
    std::memcpy(&v, &f.value, sizeof v);
    return v;
}

namespace detail_ {
inline float float_from_bits(std::uint32_t bits) {
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}
inline double double_from_bits(std::uint64_t bits) {
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}
inline std::uint64_t little_endian_at(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(p[i]) << (8 * i);
    return v;
}
}  // namespace detail_

// Room for n more values, growing geometrically: an exact reserve per packed run reallocated and
// copied everything read so far on every run (a blob's data in 40,000 one-float runs, 240 KB:
// 2 GB under AddressSanitizer, 85 s for 640,000 runs).
template <class T> void make_room(std::vector<T>& out, std::size_t n) {
    if (out.capacity() - out.size() < n) out.reserve(std::max(out.size() + n, 2 * out.capacity()));
}

/*  Appends the values of a repeated float field: packed (one length-delimited run of 4-byte
    values) or not (one fixed32 field per value); both are valid encodings of the same field.
    throws: io_error via r.fail for another wire type or a packed run not a multiple of 4. */
inline void append_floats(const reader& r, const field& f, std::vector<float>& out) {
    if (f.type == wire_type::fixed32) {
        out.push_back(detail_::float_from_bits(std::uint32_t(f.value)));
        return;
    }
    if (f.type != wire_type::length_delimited || f.size % 4 != 0)
        r.fail("field " + std::to_string(f.number) + " should hold 32-bit floats", f.offset);
    make_room(out, f.size / 4);
    for (std::size_t i = 0; i < f.size; i += 4)
        out.push_back(detail_::float_from_bits(std::uint32_t(detail_::little_endian_at(f.bytes + i, 4))));
}

// The same for a repeated double field (fixed64 values).
inline void append_doubles(const reader& r, const field& f, std::vector<double>& out) {
    if (f.type == wire_type::fixed64) {
        out.push_back(detail_::double_from_bits(f.value));
        return;
    }
    if (f.type != wire_type::length_delimited || f.size % 8 != 0)
        r.fail("field " + std::to_string(f.number) + " should hold 64-bit doubles", f.offset);
    make_room(out, f.size / 8);
    for (std::size_t i = 0; i < f.size; i += 8)
        out.push_back(detail_::double_from_bits(detail_::little_endian_at(f.bytes + i, 8)));
}

// The same for a repeated integer field (varints, packed or not).
inline void append_int64s(const reader& r, const field& f, std::vector<std::int64_t>& out) {
    if (f.type == wire_type::varint) {
        out.push_back(as_int64(f));
        return;
    }
    if (f.type != wire_type::length_delimited)
        r.fail("field " + std::to_string(f.number) + " should hold integers", f.offset);
    reader values = reader::nested(f, r.what());
    while (!values.at_end()) {
        const std::uint64_t bits = values.read_varint();
        std::int64_t v;
        std::memcpy(&v, &bits, sizeof v);
        out.push_back(v);
    }
}

}  // namespace detail::protobuf
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
