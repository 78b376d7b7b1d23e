// A check of a JPEG's tables and scans before stb_image decodes it. Debian's stb_image (2022)
// trusts them: a Huffman table declaring more than 256 symbols overruns its arrays, a scan may use
// a Huffman or quantisation table no DHT / DQT segment defined, a frame component may be in no
// scan, and a scan may lack the restart markers its restart interval asks for (stb then stops the
// scan early and leaves the rest undecoded): stb then reads uninitialised memory, the picture
// shows whatever the heap held and two decodes of one file differ. A code that matches no symbol makes its decoder index outside
// the table and fail an assertion, which aborts the process (nothings/stb #1289, fixed upstream
// after that copy). Such files are refused here. The check rebuilds each Huffman table exactly as
// stb does and tries every 16-bit code prefix.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../core/isa_namespace.hpp"
#include "image_headers.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// counts[i]: how many codes of length i + 1. Returns "" when every code prefix stb's decoder can
// meet leads to a symbol of the table or to stb's own "bad code" error; else what is wrong.
inline std::string check_huffman_table(const unsigned char* counts) {
    constexpr int fast_bits = 9;  // stb's FAST_BITS
    std::array<unsigned char, 257> size{};
    int n = 0;
    for (int i = 0; i < 16; ++i)
        for (int j = 0; j < counts[i]; ++j) {
            if (n == 256) return "a Huffman table with more than 256 symbols";
            size[std::size_t(n++)] = static_cast<unsigned char>(i + 1);
        }
    std::array<std::uint32_t, 257> code{};
    std::array<std::uint32_t, 18> maxcode{};
    std::array<int, 17> delta{};
    std::uint32_t next = 0;
    int k = 0;
    for (int len = 1; len <= 16; ++len) {
        delta[std::size_t(len)] = k - int(next);
        while (k < n && size[std::size_t(k)] == len) code[std::size_t(k++)] = next++;
        if (next > 0 && next - 1 >= (1u << len)) return "";  // stb rejects it: "bad code lengths"
        maxcode[std::size_t(len)] = next << (16 - len);
        next <<= 1;
    }
    maxcode[17] = 0xffffffffu;
    std::array<bool, 1u << fast_bits> fast{};
    for (int i = 0; i < n; ++i)
        if (size[std::size_t(i)] <= fast_bits) {
            const int s = size[std::size_t(i)];
            const std::uint32_t first = code[std::size_t(i)] << (fast_bits - s);
            for (std::uint32_t j = 0; j < (1u << (fast_bits - s)); ++j) fast[first + j] = true;
        }
    for (std::uint32_t prefix = 0; prefix < (1u << 16); ++prefix) {
        if (fast[prefix >> (16 - fast_bits)]) continue;
        int len = fast_bits + 1;
        while (len < 17 && prefix >= maxcode[std::size_t(len)]) ++len;
        if (len == 17) continue;  // stb: "code not found", a clean error
        const int c = int(prefix >> (16 - len)) + delta[std::size_t(len)];
        if (c < 0 || c >= n || size[std::size_t(c)] != len)
            return "a Huffman table with codes that match no symbol";
    }
    return "";
}

// Reads a JPEG's markers the way stb does (bytes between segments skipped, fill bytes too,
// entropy-coded data skipped up to the next marker) and returns what is wrong with its tables or
// scans for stb, or "" when nothing is (also for data that is not a JPEG or that stb rejects by
// itself with a clean error, such as a DHT segment whose tables overrun its length or a file
// without its end-of-image marker). What each scan uses must be defined before it: a progressive
// file could define a quantisation table later (stb applies them at the end), encoders do not.
inline std::string check_jpeg_tables(const unsigned char* data, std::size_t size) {
    byte_reader r{data, size};
    if (r.u16(0) != 0xFFD8) return "";
    std::array<bool, 8> defined{};  // Huffman tables: DC 0-3, then AC 0-3
    std::array<bool, 4> quantisation{};
    struct component {
        unsigned id = 0, table = 0;  // table: its quantisation table
        std::size_t h = 1, v = 1;    // sampling factors
        bool decoded = false;        // a scan wrote its blocks (progressive: a first DC scan)
    };
    std::array<component, 4> frame{};
    std::size_t components = 0;  // 0 until the frame header (SOF)
    std::size_t width = 0, height = 0, h_max = 1, v_max = 1, restart_interval = 0;
    bool progressive = false;
    for (std::size_t at = 2;;) {
        while (at < size && data[at] != 0xFF) ++at;
        while (at < size && data[at] == 0xFF) ++at;
        if (at >= size) return "";
        const unsigned marker = data[at++];
        if (marker == 0xD9) {  // EOI: stb succeeds only here
            for (std::size_t c = 0; c < components; ++c)
                if (!frame[c].decoded) return "a frame component that no scan decodes";
            return "";
        }
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
        if (at + 2 > size) return "";
        const std::size_t length = r.u16(at), body = at + 2;
        if (length < 2) return "";
        const std::size_t end = at + length;
        if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2) {  // the frame: stb refuses a second one
            if (components != 0 || !r.has(body, 6)) return "";
            const std::size_t n = data[body + 5];
            if ((n != 1 && n != 3 && n != 4) || !r.has(body, 6 + 3 * n)) return "";
            for (std::size_t c = 0; c < n; ++c) {
                frame[c].id = data[body + 6 + 3 * c];
                frame[c].h = data[body + 7 + 3 * c] >> 4;
                frame[c].v = data[body + 7 + 3 * c] & 15;
                frame[c].table = data[body + 8 + 3 * c];
                if (frame[c].h < 1 || frame[c].h > 4 || frame[c].v < 1 || frame[c].v > 4 || frame[c].table > 3)
                    return "";  // stb: "bad H", "bad V", "bad TQ"
                h_max = std::max(h_max, frame[c].h);
                v_max = std::max(v_max, frame[c].v);
            }
            height = r.u16(body + 1);
            width = r.u16(body + 3);
            components = n;
            progressive = marker == 0xC2;
        }
        if (marker == 0xDD) {  // DRI: stb asks for a restart marker after every that many MCUs
            if (length != 4 || !r.has(body, 2)) return "";  // stb: "bad DRI len"
            restart_interval = r.u16(body);
        }
        if (marker == 0xDB) {  // DQT: tables read on from the stream, as stb does, until L <= 0
            std::ptrdiff_t left = std::ptrdiff_t(length) - 2;
            for (std::size_t t = body; left > 0;) {
                const unsigned kind = t < size ? data[t] : 0;  // stb reads zeros past the end
                if ((kind >> 4) > 1 || (kind & 15) > 3) return "";  // stb: "bad DQT type / table"
                quantisation[kind & 15] = true;
                const std::size_t bytes = (kind >> 4) ? 129 : 65;
                left -= std::ptrdiff_t(bytes);
                t += bytes;
            }
            if (left != 0) return "";  // stb stops decoding
        }
        if (marker == 0xC4) {  // DHT: tables read on from the stream, as stb does, until L <= 0
            std::ptrdiff_t left = std::ptrdiff_t(length) - 2;
            for (std::size_t t = body; left > 0;) {
                if (!r.has(t, 17)) return "";
                const unsigned cls = data[t] >> 4, id = data[t] & 15;
                if (cls > 1 || id > 3) return "";  // stb rejects it: "bad DHT header"
                const std::string problem = check_huffman_table(data + t + 1);
                if (!problem.empty()) return problem;
                std::size_t symbols = 0;
                for (std::size_t i = 0; i < 16; ++i) symbols += data[t + 1 + i];
                defined[cls * 4 + id] = true;
                left -= std::ptrdiff_t(17 + symbols);
                t += 17 + symbols;
            }
            if (left != 0) return "";  // stb stops decoding: "bad DHT header"
        }
        if (marker == 0xDA) {  // SOS: the tables its components use must exist
            const std::size_t count = r.get(body, 1);
            if (components == 0 || count < 1 || count > components) return "";  // stb refuses it
            if (!r.has(body, 1 + 2 * count + 3)) return "";
            const unsigned spectral_start = data[body + 1 + 2 * count];
            const unsigned approximation_high = data[body + 3 + 2 * count] >> 4;
            const bool dc = !progressive || spectral_start == 0, ac = !progressive || spectral_start != 0;
            for (std::size_t c = 0; c < count; ++c) {
                const unsigned tables = data[body + 2 + 2 * c];
                if ((dc && ((tables >> 4) > 3 || !defined[tables >> 4])) ||
                    (ac && ((tables & 15) > 3 || !defined[4 + (tables & 15)])))
                    return "a scan that uses a Huffman table the file never defines";
                // stb decodes into the first frame component with the scan's component id
                component* decoded = nullptr;
                for (std::size_t k = 0; k < components && !decoded; ++k)
                    if (frame[k].id == data[body + 1 + 2 * c]) decoded = &frame[k];
                if (!decoded) return "";  // stb refuses it
                if (!quantisation[decoded->table])
                    return "a scan that uses a quantisation table the file never defines";
                // A progressive file's later scans add to the blocks its first DC scan cleared.
                if (!progressive || (spectral_start == 0 && approximation_high == 0)) decoded->decoded = true;
            }
            // The entropy-coded data runs to the next marker but a restart marker; 0xFF 0x00 is
            // a data byte, and 0xFF fill bytes may come before a marker.
            std::size_t restarts = 0;
            for (at = end; at < size;) {
                if (data[at] != 0xFF) {
                    ++at;
                    continue;
                }
                std::size_t next = at + 1;
                while (next < size && data[next] == 0xFF) ++next;
                if (next >= size || (data[next] != 0x00 && (data[next] < 0xD0 || data[next] > 0xD7))) break;
                restarts += data[next] != 0x00;
                at = next + 1;
            }
            // stb decodes a restart interval's MCUs, then stops the scan unless a restart marker
            // comes next, and succeeds only if the next marker it then finds is none: a scan it
            // stops early yet decodes has fewer restart markers than intervals less one.
            if (restart_interval != 0) {
                const auto blocks = [](std::size_t pixels, std::size_t per_block) {
                    return (pixels + per_block - 1) / per_block;
                };
                std::size_t mcus = blocks(width, 8 * h_max) * blocks(height, 8 * v_max);
                if (count == 1) {  // one component alone: its own 8 x 8 blocks
                    const component* c = nullptr;
                    for (std::size_t k = 0; k < components && !c; ++k)
                        if (frame[k].id == data[body + 1]) c = &frame[k];
                    mcus = blocks(blocks(width * c->h, h_max), 8) * blocks(blocks(height * c->v, v_max), 8);
                }
                if (restarts + 1 < blocks(mcus, restart_interval))
                    return "a scan with fewer restart markers than its restart interval asks for";
            }
            continue;
        }
        at = end;
    }
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
