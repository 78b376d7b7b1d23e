// A small strict JSON reader (RFC 8259) for the headers of weight files (safetensors): a text
// becomes a tree of values, or an io_error naming what was read, the reason and the byte offset.
// Strict where JSON is: no comments, no trailing commas, no leading zeros or '+', no control
// characters or invalid UTF-8 in strings, no lone surrogate escapes; stricter than RFC 8259 in
// refusing an object that repeats a key (safetensors forbids it and a reader that kept the first
// or the last would see a different file than another reader) and nesting deeper than 64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail::json {

enum class kind { null, boolean, number, string, array, object };

struct value {
    kind type = kind::null;
    std::string text;               // string: its decoded UTF-8; number: the literal; boolean: true/false
    std::vector<value> items;       // array elements; object members' values
    std::vector<std::string> keys;  // object members' keys, parallel to items, in text order
    std::size_t offset = 0;         // where the value starts in the text
};

inline const char* kind_name(kind k) {
    switch (k) {
    case kind::null: return "null";
    case kind::boolean: return "a boolean";
    case kind::number: return "a number";
    case kind::string: return "a string";
    case kind::array: return "an array";
    case kind::object: return "an object";
    }
    return "?";
}

// A number value that is a non-negative integer literal fitting 64 bits; false otherwise.
inline bool to_u64(const value& v, std::uint64_t& out) {
    if (v.type != kind::number || v.text.empty()) return false;
    out = 0;
    for (const char c : v.text) {
        if (c < '0' || c > '9') return false;  // '-', '.', exponent
        const std::uint64_t d = std::uint64_t(c - '0');
        if (out > (UINT64_MAX - d) / 10) return false;
        out = out * 10 + d;
    }
    return true;
}

class parser {
public:
    static constexpr int max_depth = 64;

    // `what` starts every message (e.g. "model.safetensors: the header").
    parser(const std::string& text, std::string what) : s_(text), what_(std::move(what)) {}

    // The one value the whole text holds (whitespace around it allowed).
    value document() {
        skip_space();
        value v = parse_value(0);
        skip_space();
        if (at_ != s_.size()) fail("text after the JSON value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& reason) const {
        throw io_error(what_ + " is not valid JSON: " + reason + " at byte " + std::to_string(at_));
    }
    bool done() const { return at_ >= s_.size(); }
    unsigned char peek() const { return done() ? 0 : static_cast<unsigned char>(s_[at_]); }
    void skip_space() {
        while (!done() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) ++at_;
    }
    void expect(char c, const char* context) {
        if (done() || s_[at_] != c) fail(std::string("'") + c + "' expected " + context);
        ++at_;
    }

    value parse_value(int depth) {
        if (depth >= max_depth) fail("nesting deeper than " + std::to_string(max_depth));
        value v;
        v.offset = at_;
        switch (peek()) {
        case '{': parse_object(v, depth); break;
        case '[': parse_array(v, depth); break;
        case '"':
            v.type = kind::string;
            v.text = parse_string();
            break;
        case 't': literal(v, "true", kind::boolean); break;
        case 'f': literal(v, "false", kind::boolean); break;
        case 'n': literal(v, "null", kind::null); break;
        default:
            if (peek() == '-' || (peek() >= '0' && peek() <= '9')) parse_number(v);
            else fail(done() ? "the text ends where a value was expected" : "a value expected");
        }
        return v;
    }

    void literal(value& v, const std::string& word, kind k) {
        if (s_.compare(at_, word.size(), word) != 0) fail("a value expected");
        at_ += word.size();
        v.type = k;
        v.text = word;
    }

    void parse_object(value& v, int depth) {
        v.type = kind::object;
        ++at_;
        skip_space();
        if (peek() == '}') {
            ++at_;
            return;
        }
        std::unordered_set<std::string> seen;
        for (;;) {
            skip_space();
            if (peek() != '"') fail("a string key expected in an object");
            const std::size_t key_at = at_;
            std::string key = parse_string();
            if (!seen.insert(key).second) {
                at_ = key_at;
                fail("duplicate key \"" + key + "\"");
            }
            skip_space();
            expect(':', "after an object key");
            skip_space();
            v.items.push_back(parse_value(depth + 1));
            v.keys.push_back(std::move(key));
            skip_space();
            if (peek() == '}') {
                ++at_;
                return;
            }
            expect(',', "or '}' after an object member");
        }
    }

    void parse_array(value& v, int depth) {
        v.type = kind::array;
        ++at_;
        skip_space();
        if (peek() == ']') {
            ++at_;
            return;
        }
        for (;;) {
            skip_space();
            v.items.push_back(parse_value(depth + 1));
            skip_space();
            if (peek() == ']') {
                ++at_;
                return;
            }
            expect(',', "or ']' after an array element");
        }
    }

    void parse_number(value& v) {
        v.type = kind::number;
        const std::size_t start = at_;
        auto digits = [&] {
            const std::size_t from = at_;
            while (peek() >= '0' && peek() <= '9') ++at_;
            if (at_ == from) fail("a digit expected in a number");
        };
        if (peek() == '-') ++at_;
        if (peek() == '0') {
            ++at_;
            if (peek() >= '0' && peek() <= '9') fail("a number with a leading zero");
        } else {
            digits();
        }
        if (peek() == '.') {
            ++at_;
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            ++at_;
            if (peek() == '+' || peek() == '-') ++at_;
            digits();
        }
        v.text = s_.substr(start, at_ - start);
    }

    unsigned hex4() {
        unsigned u = 0;
        for (int i = 0; i < 4; ++i, ++at_) {
            const unsigned char c = peek();
            const int d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
            if (d < 0) fail("four hex digits expected after \\u");
            u = u * 16 + unsigned(d);
        }
        return u;
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xc0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += char(0xe0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        } else {
            out += char(0xf0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3f));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        }
    }

    // Length of the well-formed UTF-8 sequence at at_ (Unicode's table 3-7), 0 when ill-formed.
    std::size_t utf8_length() const {
        auto byte = [&](std::size_t i) { return at_ + i < s_.size() ? static_cast<unsigned char>(s_[at_ + i]) : 0; };
        auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
            return byte(i) >= lo && byte(i) <= hi;
        };
        const unsigned char b = byte(0);
        if (b < 0x80) return 1;
        if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
        if (b == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
        if (b == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
        if (b >= 0xe1 && b <= 0xef) return cont(1) && cont(2) ? 3 : 0;
        if (b == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
        if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
        if (b == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
        return 0;
    }

    std::string parse_string() {
        ++at_;  // the opening quote
        std::string out;
        for (;;) {
            if (done()) fail("the text ends inside a string");
            const unsigned char c = peek();
            if (c == '"') {
                ++at_;
                return out;
            }
            if (c < 0x20) fail("a control character in a string (it must be escaped)");
            if (c != '\\') {
                const std::size_t n = utf8_length();
                if (n == 0) fail("invalid UTF-8 in a string");
                out.append(s_, at_, n);
                at_ += n;
                continue;
            }
            ++at_;
            const unsigned char e = peek();
            ++at_;
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                std::uint32_t cp = hex4();
                if (cp >= 0xdc00 && cp <= 0xdfff) fail("a lone low surrogate escape");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (s_.compare(at_, 2, "\\u") != 0) fail("a high surrogate escape without its low half");
                    at_ += 2;
                    const std::uint32_t low = hex4();
                    if (low < 0xdc00 || low > 0xdfff) fail("a high surrogate escape without its low half");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                }
                append_utf8(out, cp);
                break;
            }
            default: --at_; fail("an unknown escape in a string");
            }
        }
    }

    const std::string& s_;
    std::string what_;
    std::size_t at_ = 0;
};

/*  The JSON value `text` holds. throws: io_error "<what> is not valid JSON: <reason> at byte <n>". */
inline value parse(const std::string& text, const std::string& what) { return parser(text, what).document(); }

}  // namespace detail::json
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
