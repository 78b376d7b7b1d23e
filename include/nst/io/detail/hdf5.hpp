// Small RAII layer over libhdf5's C API, just what the weight loaders need: owned handles,
// silenced automatic error printing, the innermost HDF5 error text for messages, string-list
// attributes (fixed- and variable-length) and float datasets read with shape/dtype checks.
// Every failure throws nst::io_error; callers prefix it with the file and layer.
//
// Thread safety: Debian's libhdf5 (serial) must never be entered from two threads at once, so
// every HDF5 call nst makes holds library_mutex(), one process-wide recursive mutex (handles
// take it to close themselves, wherever they are destroyed).
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"
#include "weight_value.hpp"

// Outside the per-instruction-set namespace (core/isa_namespace.hpp): one lock for the whole
// process, whatever flags each translation unit was compiled with.
namespace nst::process_wide {
inline std::recursive_mutex& hdf5_mutex() {
    static std::recursive_mutex mutex;
    return mutex;
}
}  // namespace nst::process_wide

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail::hdf5 {

inline std::recursive_mutex& library_mutex() { return process_wide::hdf5_mutex(); }
using library_lock = std::lock_guard<std::recursive_mutex>;

// Turns HDF5's automatic error printing off for its lifetime, restoring the caller's handler
// after (a program that wants HDF5's own stack traces keeps them outside nst's calls).
class quiet_errors {
public:
    quiet_errors() {
        H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~quiet_errors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
    quiet_errors(const quiet_errors&) = delete;
    quiet_errors& operator=(const quiet_errors&) = delete;

private:
    H5E_auto2_t function_ = nullptr;
    void* data_ = nullptr;
};

// The most specific message on HDF5's error stack (e.g. "truncated file: eof = ..."), or ""
// when the stack is empty. Clears the stack.
inline std::string last_error() {
    std::string message;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_UPWARD,
        [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
            auto& text = *static_cast<std::string*>(out);
            if (text.empty() && e && e->desc && *e->desc) text = e->desc;
            return 0;
        },
        &message);
    H5Eclear2(H5E_DEFAULT);
    return message;
}

// " (HDF5: <detail>)" or "" - appended to messages after a failed call.
inline std::string detail_suffix() {
    const std::string e = last_error();
    return e.empty() ? "" : " (HDF5: " + e + ")";
}

// An owned hid_t, closed with the matching H5?close when it goes out of scope.
class handle {
public:
    using closer = herr_t (*)(hid_t);
    handle() = default;
    handle(hid_t id, closer close) : id_(id), close_(close) {}
    handle(handle&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
    handle& operator=(handle&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, -1);
            close_ = other.close_;
        }
        return *this;
    }
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    ~handle() { reset(); }

    bool valid() const { return id_ >= 0; }
    hid_t get() const { return id_; }
    operator hid_t() const { return id_; }  // NOLINT: lets handles go straight into H5 calls

    void reset() {
        if (id_ >= 0 && close_) {
            library_lock lock(library_mutex());
            quiet_errors quiet;
            close_(id_);
        }
        id_ = -1;
    }

private:
    hid_t id_ = -1;
    closer close_ = nullptr;
};

// Throws io_error(what + HDF5 detail) when id < 0; otherwise takes ownership.
inline handle checked(hid_t id, handle::closer close, const std::string& what) {
    if (id < 0) throw io_error(what + detail_suffix());
    return handle(id, close);
}

// "float32", "int64", "uint8", "string", ... for messages.
inline std::string type_name(hid_t type) {
    const std::size_t bits = H5Tget_size(type) * 8;
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: return "float" + std::to_string(bits);
    case H5T_INTEGER:
        return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_REFERENCE: return "reference";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return "bitfield";
    default: return "unknown type";
    }
}

// Dimensions of a dataspace; empty for a scalar. Throws for a null/invalid space.
inline std::vector<hsize_t> dimensions(hid_t space, const std::string& what) {
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) throw io_error(what + ": unreadable dataspace" + detail_suffix());
    std::vector<hsize_t> dims(std::size_t(rank), 0);
    if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0)
        throw io_error(what + ": unreadable dataspace" + detail_suffix());
    return dims;
}

// "3 x 3 x 64 x 128" ("scalar" for no dimensions).
inline std::string dims_string(const std::vector<hsize_t>& dims) {
    if (dims.empty()) return "scalar";
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i)
        s += (i ? " x " : "") + std::to_string(dims[i]);
    return s;
}

// Whether obj has an attribute `name` (false, not an error, when it has none).
inline bool has_attribute(hid_t obj, const std::string& name) {
    return H5Aexists(obj, name.c_str()) > 0;
}

// Reads a string attribute holding one string (scalar) or a 1-D list of strings, stored either
// fixed-length (what Keras writes: numpy "S" arrays, NUL-padded) or variable-length (h5py str).
// requires: has_attribute(obj, name). An empty list (Keras' weight_names of a pool layer) is
// returned as an empty vector.
inline std::vector<std::string> read_string_list(hid_t obj, const std::string& name,
                                                 const std::string& what) {
    handle attr = checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose,
                          what + ": cannot open attribute '" + name + "'");
    handle type = checked(H5Aget_type(attr), H5Tclose, what + ": attribute '" + name + "'");
    if (H5Tget_class(type) != H5T_STRING)
        throw io_error(what + ": attribute '" + name + "' should hold strings, it holds " +
                       type_name(type));
    handle space = checked(H5Aget_space(attr), H5Sclose, what + ": attribute '" + name + "'");
    const hssize_t count = H5Sget_simple_extent_npoints(space);
    if (count < 0) throw io_error(what + ": attribute '" + name + "': unreadable dataspace");
    // Keras lists hold a few hundred names; a damaged count would keep HDF5 busy for minutes.
    const hssize_t max_count = 1 << 16;
    const std::size_t max_bytes = std::size_t(1) << 26;
    if (count > max_count || H5Tget_size(type) > max_bytes / std::size_t(count > 0 ? count : 1))
        throw io_error(what + ": attribute '" + name + "' claims " + std::to_string(count) +
                       " strings of " + std::to_string(H5Tget_size(type)) +
                       " bytes (a damaged file?)");
    std::vector<std::string> out;
    if (count == 0) return out;
    out.reserve(std::size_t(count));

    if (H5Tis_variable_str(type) > 0) {
        handle memory = checked(H5Tcopy(H5T_C_S1), H5Tclose, what + ": string type");
        H5Tset_size(memory, H5T_VARIABLE);
        H5Tset_cset(memory, H5Tget_cset(type));
        std::vector<char*> strings(std::size_t(count), nullptr);
        const herr_t read = H5Aread(attr, memory, strings.data());
        const std::string failure = read < 0 ? detail_suffix() : "";
        for (const char* s : strings) out.emplace_back(s ? s : "");
        // Also after a failed read: the strings read before the failure are allocated.
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(memory, space, H5P_DEFAULT, strings.data());
#else
        H5Dvlen_reclaim(memory, space, H5P_DEFAULT, strings.data());
#endif
        if (read < 0) throw io_error(what + ": cannot read attribute '" + name + "'" + failure);
        return out;
    }

    // Fixed length: read the raw bytes in the file's own string type, then cut each element
    // at its first NUL (null-terminated and null-padded) or trailing spaces (space-padded).
    const std::size_t size = H5Tget_size(type);
    std::vector<char> bytes(size * std::size_t(count));
    if (H5Aread(attr, type, bytes.data()) < 0)
        throw io_error(what + ": cannot read attribute '" + name + "'" + detail_suffix());
    const bool space_padded = H5Tget_strpad(type) == H5T_STR_SPACEPAD;
    for (hssize_t i = 0; i < count; ++i) {
        const char* begin = bytes.data() + std::size_t(i) * size;
        std::size_t length = 0;
        while (length < size && begin[length] != '\0') ++length;
        if (space_padded)
            while (length > 0 && begin[length - 1] == ' ') --length;
        out.emplace_back(begin, length);
    }
    return out;
}

template <class T> hid_t native_type();
template <> inline hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> inline hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }

// Reads the floating-point dataset `path` (relative to `location`) into `values` (T, row-major;
// resized, so a vector reused across datasets keeps its memory).
// requires: the dataset has exactly the dimensions `expected` and a floating-point type;
// float32 is what Keras writes, float16/float64 are accepted and converted by HDF5 (the values
// are the same weights at another precision), anything else is rejected. Throws io_error
// "<what>: expected <expected> float32, got <actual> <dtype>" on a mismatch, and naming the
// element and its value when one is not finite or its magnitude exceeds max_abs.
template <class T>
void read_float_dataset(hid_t location, const std::string& path, const std::vector<hsize_t>& expected,
                        const std::string& what, double max_abs, std::vector<T>& values) {
    const std::string wanted = dims_string(expected) + " float32";
    if (H5Lexists(location, path.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        throw io_error(what + ": dataset '" + path + "' named in weight_names does not exist");
    }
    handle dataset = checked(H5Dopen2(location, path.c_str(), H5P_DEFAULT), H5Dclose,
                             what + ": cannot open dataset '" + path + "'");
    handle type = checked(H5Dget_type(dataset), H5Tclose, what + ": dataset '" + path + "'");
    handle space = checked(H5Dget_space(dataset), H5Sclose, what + ": dataset '" + path + "'");
    const std::vector<hsize_t> dims = dimensions(space, what);
    if (dims != expected || H5Tget_class(type) != H5T_FLOAT)
        throw io_error(what + ": expected " + wanted + ", got " + dims_string(dims) + " " +
                       type_name(type));
    std::size_t count = 1;
    for (hsize_t d : dims) count *= std::size_t(d);
    values.resize(count);
    if (H5Dread(dataset, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        throw io_error(what + ": cannot read the " + dims_string(dims) +
                       " values (truncated or damaged file?)" + detail_suffix());
    check_weight_values(values.data(), count, max_abs, what);
}

}  // namespace detail::hdf5
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
