// The zip container of torch.save since torch 1.6: `<name>/data.pkl`, `<name>/data/<key>`, ...
// torch writes every entry uncompressed ("stored"), so this reader only locates entries: it
// reads the central directory (zip64 records included) and each entry's local header; a
// compressed or encrypted entry is refused with a message saying so. CRCs are not checked (the
// file's SHA-256 identifies it; values are checked after decoding).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"
#include "byte_source.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail::zip {

struct entry {
    std::string name;
    std::uint64_t header_offset = 0;  // of the local file header
    std::uint64_t size = 0;           // uncompressed == stored size
    std::uint16_t method = 0;         // 0 = stored
    std::uint16_t flags = 0;
};

inline std::uint64_t le(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

class archive {
public:
    static constexpr std::uint32_t end_signature = 0x06054b50, end64_signature = 0x06064b50,
                                   locator_signature = 0x07064b50, central_signature = 0x02014b50,
                                   local_signature = 0x04034b50;

    explicit archive(const byte_source& source) : source_(source) {
        std::uint64_t count = 0, directory_size = 0, directory_offset = 0;
        const std::uint64_t end = find_end_record(count, directory_size, directory_offset);
        if (count == 0xffff || directory_size == 0xffffffff || directory_offset == 0xffffffff)
            read_zip64_end(end, count, directory_size, directory_offset);
        if (directory_offset > source_.size() || directory_size > source_.size() - directory_offset)
            fail("the central directory lies beyond the end of the file (truncated?)");
        if (count > directory_size / 46) fail("the central directory is too small for its " + std::to_string(count) + " entries");
        byte_cursor in(source_, directory_offset);
        for (std::uint64_t i = 0; i < count; ++i) entries_.push_back(read_central_entry(in));
    }

    const std::vector<entry>& entries() const { return entries_; }
    const entry* find(const std::string& name) const {
        for (const auto& e : entries_)
            if (e.name == name) return &e;
        return nullptr;
    }

    /*  Offset of the entry's data in the file.
        throws: io_error naming the entry when it is compressed, encrypted, or its data or local
                header lie outside the file. */
    std::uint64_t data_offset(const entry& e) const {
        if (e.method != 0)
            fail("entry " + e.name + " is compressed (method " + std::to_string(e.method) +
                 "); torch.save writes uncompressed entries: load and save the file again with torch.save, "
                 "or store it without compression (zip -0)");
        if (e.flags & 1) fail("entry " + e.name + " is encrypted");
        unsigned char header[30];
        source_.read(e.header_offset, header, sizeof header, "the local header of " + e.name);
        if (le(header, 4) != local_signature) fail("entry " + e.name + ": no local header at its offset");
        const std::uint64_t data = e.header_offset + 30 + le(header + 26, 2) + le(header + 28, 2);
        if (data > source_.size() || e.size > source_.size() - data)
            fail("entry " + e.name + ": its " + std::to_string(e.size) + " bytes lie beyond the end of the file (truncated?)");
        return data;
    }

private:
    [[noreturn]] void fail(const std::string& why) const { throw io_error(source_.name() + ": zip: " + why); }

    // Finds the end-of-central-directory record (the last 22 bytes plus up to 64 KB of comment).
    std::uint64_t find_end_record(std::uint64_t& count, std::uint64_t& size, std::uint64_t& offset) const {
        const std::uint64_t n = source_.size();
        if (n < 22) fail("shorter than a zip's end record");
        const std::uint64_t tail = std::min<std::uint64_t>(n, 22 + 0xffff);
        std::vector<unsigned char> bytes(tail);
        source_.read(n - tail, bytes.data(), bytes.size(), "the zip end record");
        for (std::size_t at = std::size_t(tail - 22) + 1; at-- > 0;) {
            const unsigned char* p = bytes.data() + at;
            if (le(p, 4) != end_signature || at + 22 + le(p + 20, 2) != tail) continue;
            count = le(p + 10, 2);
            size = le(p + 12, 4);
            offset = le(p + 16, 4);
            return n - tail + at;
        }
        fail("no end-of-central-directory record (not a zip file, or truncated)");
    }

    void read_zip64_end(std::uint64_t end, std::uint64_t& count, std::uint64_t& size, std::uint64_t& offset) const {
        if (end < 20) fail("zip64 end record locator missing");
        unsigned char locator[20];
        source_.read(end - 20, locator, sizeof locator, "the zip64 locator");
        if (le(locator, 4) != locator_signature) return;  // the plain values were real
        unsigned char record[56];
        source_.read(le(locator + 8, 8), record, sizeof record, "the zip64 end record");
        if (le(record, 4) != end64_signature) fail("the zip64 end record has a wrong signature");
        count = le(record + 32, 8);
        size = le(record + 40, 8);
        offset = le(record + 48, 8);
    }

    entry read_central_entry(byte_cursor& in) const {
        unsigned char h[46];
        in.read(h, sizeof h, "a central directory entry");
        if (le(h, 4) != central_signature) fail("a central directory entry has a wrong signature");
        entry e;
        e.flags = std::uint16_t(le(h + 8, 2));
        e.method = std::uint16_t(le(h + 10, 2));
        const std::uint64_t compressed = le(h + 20, 4);
        e.size = le(h + 24, 4);
        e.header_offset = le(h + 42, 4);
        e.name = in.text(le(h + 28, 2), "an entry name");
        const std::string extra = in.text(le(h + 30, 2), "an entry's extra field");
        in.text(le(h + 32, 2), "an entry comment");
        apply_zip64_extra(extra, e, compressed);
        return e;
    }

    // The zip64 extra field (id 1) holds, in order, those of usize, csize, offset that are 0xffffffff.
    void apply_zip64_extra(const std::string& extra, entry& e, std::uint64_t compressed) const {
        const auto* p = reinterpret_cast<const unsigned char*>(extra.data());
        for (std::size_t at = 0; at + 4 <= extra.size();) {
            const std::uint64_t id = le(p + at, 2), length = le(p + at + 2, 2);
            if (at + 4 + length > extra.size()) fail("entry " + e.name + ": a malformed extra field");
            if (id == 1) {
                std::size_t field = at + 4;
                const auto next = [&](std::uint64_t& value) {
                    if (value != 0xffffffff) return;
                    if (field + 8 > at + 4 + length) fail("entry " + e.name + ": a short zip64 extra field");
                    value = le(p + field, 8);
                    field += 8;
                };
                next(e.size);
                next(compressed);
                next(e.header_offset);
            }
            at += 4 + std::size_t(length);
        }
        if (e.method == 0 && compressed != e.size)
            fail("entry " + e.name + ": stored entry with different compressed and uncompressed sizes");
    }

    const byte_source& source_;
    std::vector<entry> entries_;
};

}  // namespace detail::zip
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
