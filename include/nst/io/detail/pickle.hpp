// A safe reader for the pickle streams of PyTorch state dicts (torch.save, pickle protocol 2).
//
// Python's unpickler runs code: GLOBAL names any function and REDUCE calls it, so a weight file
// read with it can do anything. This reader instead knows the handful of names a state dict
// uses and builds plain data from them:
//   collections.OrderedDict()                      -> a dict (Python 2's ([[k, v], ...],) too)
//   torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) and _rebuild_tensor
//                                                  -> a tensor record (nothing is computed)
//   torch.FloatStorage, HalfStorage, DoubleStorage, BFloat16Storage (and the integer storages,
//   which can be described but not loaded)        -> storage types inside persistent ids
// Any other GLOBAL, and every opcode outside the list below (INST, OBJ, NEWOBJ, EXT*, PERSID,
// ...), is refused with an io_error naming it, before anything else happens.
//
// Opcodes: PROTO FRAME STOP NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 BINUNICODE
// SHORT_BINUNICODE BINSTRING SHORT_BINSTRING EMPTY_TUPLE TUPLE TUPLE1-3 EMPTY_LIST APPEND APPENDS
// EMPTY_DICT DICT SETITEM SETITEMS MARK BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET GLOBAL
// STACK_GLOBAL BINPERSID REDUCE BUILD (on a dict: OrderedDict's _metadata, ignored).
//
// Values live in one arena (a vector, referenced by index), so shared memo entries cost nothing,
// nothing recurses and a hostile stream cannot build cycles that leak. Every length is checked
// against the bytes that remain; the number of values is capped (a state dict needs a few
// thousand), so a stream cannot make the reader allocate more than a few MB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"
#include "byte_source.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail::pickle {

enum class kind { none, boolean, integer, big_integer, string, tuple, list, dict, global, storage, tensor };

// The element type of a torch storage.
struct storage_type {
    std::string name;              // "torch.FloatStorage", ...
    std::size_t element_size = 0;  // bytes
    bool floating = false;         // float32/16/64 or bfloat16: loadable as weights
};

// A storage named by a persistent id ('storage', type, key, location, numel[, view]).
struct storage_ref {
    storage_type type;
    std::string key;               // the storage's key: its entry in a zip, its place in a legacy file
    std::uint64_t numel = 0;       // elements of the whole (root) storage
    std::uint64_t view_offset = 0; // old files: a storage that is a view into its root
    std::uint64_t view_numel = 0;  // elements visible through the view (numel if not a view)
};

// torch._utils._rebuild_tensor[_v2](storage, storage_offset, size, stride, ...).
struct tensor_ref {
    storage_ref storage;
    std::uint64_t offset = 0;  // in elements, relative to the (view) storage
    std::vector<std::uint64_t> size, stride;
};

struct value {
    kind type = kind::none;
    std::int64_t integer = 0;      // integer, boolean
    std::string text;              // string; global "module.name"; big_integer's bytes
    std::vector<std::size_t> items;  // tuple/list: elements; dict: key, value, key, value, ...
    std::size_t ref = 0;           // storage/tensor: index into unpickled::storages/tensors
};

struct unpickled {
    std::vector<value> values;
    std::vector<storage_ref> storages;
    std::vector<tensor_ref> tensors;
    std::size_t root = 0;
    const value& at(std::size_t i) const { return values[i]; }
    const value& top() const { return values[root]; }
};

// The storage type named by a GLOBAL, or element_size 0 when it is not a storage type.
inline storage_type storage_type_of(const std::string& global) {
    struct entry {
        const char* name;
        std::size_t size;
        bool floating;
    };
    static const entry table[] = {
        {"torch.FloatStorage", 4, true},   {"torch.HalfStorage", 2, true},  {"torch.DoubleStorage", 8, true},
        {"torch.BFloat16Storage", 2, true}, {"torch.LongStorage", 8, false}, {"torch.IntStorage", 4, false},
        {"torch.ShortStorage", 2, false},   {"torch.CharStorage", 1, false}, {"torch.ByteStorage", 1, false},
        {"torch.BoolStorage", 1, false},
    };
    for (const auto& e : table)
        if (global == e.name) return {e.name, e.size, e.floating};
    return {};
}

inline bool is_allowed_global(const std::string& name) {
    return name == "collections.OrderedDict" || name == "torch._utils._rebuild_tensor_v2" ||
           name == "torch._utils._rebuild_tensor" || storage_type_of(name).element_size != 0;
}

// The longest storage key read. torch writes short ones ("0", "1", ...; legacy files a storage's
// address, ~15 digits); each tensor keeps a copy of its storage's key, so a long key repeated by
// BINGET + BINPERSID would cost its length per tensor (a 180 KB file asked for 2.6 GB).
inline constexpr std::size_t max_storage_key_bytes = 256;

// Reads one pickle (up to and including STOP) from a cursor.
class reader {
public:
    static constexpr std::size_t max_values = 1 << 18;

    explicit reader(byte_cursor& in) : in_(in) {}

    unpickled read() {
        for (;;) {
            const std::uint64_t at = in_.position();
            const unsigned char op = in_.byte("a pickle opcode");
            if (op == '.') break;
            step(op, at);
        }
        if (stack_.size() != 1 || !marks_.empty())
            fail("the pickle ends with " + std::to_string(stack_.size()) + " values on its stack (expected 1)");
        out_.root = stack_.back();
        return std::move(out_);
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw io_error(in_.source().name() + ": pickle at byte " + std::to_string(in_.position()) + ": " + why);
    }

    std::size_t make(value v) {
        if (out_.values.size() >= max_values)
            fail("more than " + std::to_string(max_values) + " values: not a state dict");
        out_.values.push_back(std::move(v));
        return out_.values.size() - 1;
    }
    void push(std::size_t index) {
        if (stack_.size() >= max_values) fail("stack deeper than " + std::to_string(max_values));
        stack_.push_back(index);
    }
    void push_new(value v) { push(make(std::move(v))); }
    std::size_t pop(const char* op) {
        if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back()))
            fail(std::string(op) + " on an empty stack");
        const std::size_t v = stack_.back();
        stack_.pop_back();
        return v;
    }
    // The values pushed since the last MARK, which is removed.
    std::vector<std::size_t> pop_to_mark(const char* op) {
        if (marks_.empty()) fail(std::string(op) + " without a MARK");
        std::vector<std::size_t> items(stack_.begin() + std::ptrdiff_t(marks_.back()), stack_.end());
        stack_.resize(marks_.back());
        marks_.pop_back();
        return items;
    }
    value& top(const char* op, kind expected) {
        if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back()))
            fail(std::string(op) + " on an empty stack");
        value& v = out_.values[stack_.back()];
        if (v.type != expected) fail(std::string(op) + " on a value that is not a " + (expected == kind::dict ? "dict" : "list"));
        return v;
    }

    static value integer(std::int64_t i, kind k = kind::integer) {
        value v;
        v.type = k;
        v.integer = i;
        return v;
    }
    static value text(std::string s, kind k = kind::string) {
        value v;
        v.type = k;
        v.text = std::move(s);
        return v;
    }
    static value sequence(kind k, std::vector<std::size_t> items) {
        value v;
        v.type = k;
        v.items = std::move(items);
        return v;
    }

    void memo_put(std::uint64_t index) {
        if (stack_.empty()) fail("memo store on an empty stack");
        if (memo_.size() >= max_values && memo_.count(index) == 0)
            fail("more than " + std::to_string(max_values) + " memo entries: not a state dict");
        memo_[index] = stack_.back();
    }
    void memo_get(std::uint64_t index) {
        const auto found = memo_.find(index);
        if (found == memo_.end()) fail("memo entry " + std::to_string(index) + " is read before it is stored");
        push(found->second);
    }

    void long1() {
        const std::size_t n = in_.byte("LONG1 length");
        if (n <= 8) {
            std::uint64_t u = n == 0 ? 0 : in_.little_endian(n, "LONG1");
            if (n > 0 && n < 8 && (u >> (8 * n - 1)) != 0) u |= ~std::uint64_t(0) << (8 * n);  // sign
            push_new(integer(std::int64_t(u)));
        } else {
            push_new(text(in_.text(n, "LONG1"), kind::big_integer));
        }
    }

    void global(std::string name) {
        if (!is_allowed_global(name))
            fail("refusing GLOBAL '" + name +
                 "': a weights file may only name collections.OrderedDict, torch._utils._rebuild_tensor_v2 "
                 "and torch storage types (loading it with Python's pickle could run code)");
        push_new(text(std::move(name), kind::global));
    }
    std::string line(const char* what) {
        std::string s;
        for (;;) {
            const char c = char(in_.byte(what));
            if (c == '\n') return s;
            if (s.size() >= 256) fail(std::string(what) + " longer than 256 bytes");
            s += c;
        }
    }

    // Tuples, lists and dicts: true when `op` is one of their opcodes (and was applied).
    bool container_op(unsigned char op) {
        switch (op) {
            case ')': push_new(sequence(kind::tuple, {})); return true;
            case 't': push_new(sequence(kind::tuple, pop_to_mark("TUPLE"))); return true;
            case 0x85: case 0x86: case 0x87: {
                std::vector<std::size_t> items(std::size_t(op - 0x84));
                for (std::size_t i = items.size(); i-- > 0;) items[i] = pop("TUPLEn");
                push_new(sequence(kind::tuple, std::move(items)));
                return true;
            }
            case ']': push_new(sequence(kind::list, {})); return true;
            case 'a': {
                const std::size_t item = pop("APPEND");
                top("APPEND", kind::list).items.push_back(item);
                return true;
            }
            case 'e': {
                const std::vector<std::size_t> items = pop_to_mark("APPENDS");
                auto& list = top("APPENDS", kind::list).items;
                list.insert(list.end(), items.begin(), items.end());
                return true;
            }
            case '}': push_new(sequence(kind::dict, {})); return true;
            case 'd': {
                std::vector<std::size_t> items = pop_to_mark("DICT");
                if (items.size() % 2 != 0) fail("DICT with an odd number of items");
                push_new(sequence(kind::dict, std::move(items)));
                return true;
            }
            case 's': {
                const std::size_t v = pop("SETITEM"), k = pop("SETITEM");
                auto& dict = top("SETITEM", kind::dict).items;
                dict.push_back(k);
                dict.push_back(v);
                return true;
            }
            case 'u': {
                const std::vector<std::size_t> items = pop_to_mark("SETITEMS");
                if (items.size() % 2 != 0) fail("SETITEMS with an odd number of items");
                auto& dict = top("SETITEMS", kind::dict).items;
                dict.insert(dict.end(), items.begin(), items.end());
                return true;
            }
            default: return false;
        }
    }

    void step(unsigned char op, std::uint64_t at) {
        if (container_op(op)) return;
        switch (op) {
            case 0x80: in_.byte("PROTO version"); return;  // any protocol: the opcodes decide
            case 0x95: in_.little_endian(8, "FRAME length"); return;
            case 'N': push_new(value{}); return;
            case 0x88: push_new(integer(1, kind::boolean)); return;
            case 0x89: push_new(integer(0, kind::boolean)); return;
            case 'J': push_new(integer(std::int32_t(std::uint32_t(in_.little_endian(4, "BININT"))))); return;
            case 'K': push_new(integer(std::int64_t(in_.little_endian(1, "BININT1")))); return;
            case 'M': push_new(integer(std::int64_t(in_.little_endian(2, "BININT2")))); return;
            case 0x8a: long1(); return;
            case 'X': case 'T': push_new(text(in_.text(in_.little_endian(4, "string length"), "string"))); return;
            case 0x8c: case 'U': push_new(text(in_.text(in_.byte("string length"), "string"))); return;
            case '(':
                if (marks_.size() >= max_values) fail("too many MARKs");
                marks_.push_back(stack_.size());
                return;
            case 'q': memo_put(in_.little_endian(1, "BINPUT")); return;
            case 'r': memo_put(in_.little_endian(4, "LONG_BINPUT")); return;
            case 0x94: memo_put(memo_.size()); return;
            case 'h': memo_get(in_.little_endian(1, "BINGET")); return;
            case 'j': memo_get(in_.little_endian(4, "LONG_BINGET")); return;
            case 'c': {
                std::string module = line("GLOBAL module");
                global(module + "." + line("GLOBAL name"));
                return;
            }
            case 0x93: {
                const value& name = out_.values[pop("STACK_GLOBAL")];
                const value& module = out_.values[pop("STACK_GLOBAL")];
                if (name.type != kind::string || module.type != kind::string) fail("STACK_GLOBAL of non-strings");
                global(module.text + "." + name.text);
                return;
            }
            case 'Q': persistent_id(); return;
            case 'R': reduce(); return;
            case 'b': {
                pop("BUILD");  // the state: OrderedDict's _metadata, not needed
                top("BUILD", kind::dict);
                return;
            }
            default: break;
        }
        const bool printable = op >= 0x20 && op < 0x7f;
        fail("opcode 0x" + hex(op) + (printable ? std::string(" '") + char(op) + "'" : std::string()) +
             " at byte " + std::to_string(at) +
             " is not allowed in a weights file (only the opcodes of plain state dicts are read; "
             "a weights file must never run code)");
    }

    static std::string hex(unsigned char b) {
        const char* digits = "0123456789abcdef";
        return {digits[b >> 4], digits[b & 15]};
    }

    const value& item(const value& tuple, std::size_t i) const { return out_.values[tuple.items[i]]; }
    std::uint64_t non_negative(const value& v, const char* what) const {
        if (v.type != kind::integer || v.integer < 0) fail(std::string(what) + " is not a non-negative integer");
        return std::uint64_t(v.integer);
    }
    std::vector<std::uint64_t> int_tuple(const value& v, const char* what) const {
        if (v.type != kind::tuple && v.type != kind::list) fail(std::string(what) + " is not a tuple");
        if (v.items.size() > 8) fail(std::string(what) + " has more than 8 dimensions");
        std::vector<std::uint64_t> out;
        for (std::size_t i = 0; i < v.items.size(); ++i) out.push_back(non_negative(item(v, i), what));
        return out;
    }

    // ('storage', storage type, key, location, numel[, view metadata]) -> a storage.
    void persistent_id() {
        const value& pid = out_.values[pop("BINPERSID")];
        if (pid.type != kind::tuple || pid.items.size() < 5 || pid.items.size() > 6 ||
            item(pid, 0).type != kind::string || item(pid, 0).text != "storage")
            fail("a persistent id that is not ('storage', type, key, location, size)");
        const value& type = item(pid, 1);
        storage_ref s;
        s.type = type.type == kind::global ? storage_type_of(type.text) : storage_type{};
        if (s.type.element_size == 0) fail("a persistent id whose storage type is not a torch storage");
        if (item(pid, 2).type != kind::string || item(pid, 3).type != kind::string)
            fail("a persistent id whose key or location is not a string");
        if (item(pid, 2).text.size() > max_storage_key_bytes)
            fail("a storage key of " + std::to_string(item(pid, 2).text.size()) + " bytes (torch writes at most a few dozen)");
        s.key = item(pid, 2).text;
        s.numel = s.view_numel = non_negative(item(pid, 4), "storage size");
        if (pid.items.size() == 6 && item(pid, 5).type != kind::none) {
            const value& view = item(pid, 5);  // (view key, offset, size) in old legacy files
            if (view.type != kind::tuple || view.items.size() != 3) fail("storage view metadata is not (key, offset, size)");
            s.view_offset = non_negative(item(view, 1), "storage view offset");
            s.view_numel = non_negative(item(view, 2), "storage view size");
            if (s.view_offset > s.numel || s.view_numel > s.numel - s.view_offset)
                fail("storage view beyond its storage");
        }
        value v;
        v.type = kind::storage;
        v.ref = out_.storages.size();
        out_.storages.push_back(std::move(s));
        push_new(std::move(v));
    }

    void reduce() {
        const std::size_t args_index = pop("REDUCE");
        const value& callable = out_.values[pop("REDUCE")];
        const value& args = out_.values[args_index];
        if (callable.type != kind::global || args.type != kind::tuple) fail("REDUCE of something not allowed");
        if (callable.text == "collections.OrderedDict") {
            value dict = sequence(kind::dict, {});
            if (args.items.size() == 1) {  // Python 2: OrderedDict([[key, value], ...])
                const value& pairs = item(args, 0);
                if (pairs.type != kind::list && pairs.type != kind::tuple) fail("OrderedDict of a non-list");
                for (std::size_t p : pairs.items) {
                    const value& pair = out_.values[p];
                    if ((pair.type != kind::list && pair.type != kind::tuple) || pair.items.size() != 2)
                        fail("OrderedDict item that is not a (key, value) pair");
                    dict.items.insert(dict.items.end(), pair.items.begin(), pair.items.end());
                }
            } else if (!args.items.empty()) {
                fail("OrderedDict called with " + std::to_string(args.items.size()) + " arguments");
            }
            push_new(std::move(dict));
            return;
        }
        if (callable.text != "torch._utils._rebuild_tensor_v2" && callable.text != "torch._utils._rebuild_tensor")
            fail("REDUCE calls " + callable.text + ", which is not a function");
        if (args.items.size() < 4) fail(callable.text + " with fewer than 4 arguments");
        const value& storage = item(args, 0);
        if (storage.type != kind::storage) fail(callable.text + ": the first argument is not a storage");
        tensor_ref t;
        t.storage = out_.storages[storage.ref];
        t.offset = non_negative(item(args, 1), "tensor storage offset");
        t.size = int_tuple(item(args, 2), "tensor size");
        t.stride = int_tuple(item(args, 3), "tensor stride");
        if (t.size.size() != t.stride.size()) fail("tensor size and stride differ in length");
        value v;
        v.type = kind::tensor;
        v.ref = out_.tensors.size();
        out_.tensors.push_back(std::move(t));
        push_new(std::move(v));
    }

    byte_cursor& in_;
    unpickled out_;
    std::vector<std::size_t> stack_;
    std::vector<std::size_t> marks_;  // stack sizes at each MARK
    std::unordered_map<std::uint64_t, std::size_t> memo_;
};

// Reads one pickle from `in` (which ends just past its STOP).
inline unpickled read(byte_cursor& in) { return reader(in).read(); }

}  // namespace detail::pickle
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
