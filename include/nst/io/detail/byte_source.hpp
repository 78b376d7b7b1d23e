// Random access to the bytes of a weight file, from memory or from disk, with every read
// bounds-checked. Weight files can be hundreds of MB (torchvision's VGG19 with its classifier is
// 548 MB) of which nst needs the convolutions only, so files are read piecewise, never whole.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

class byte_source {
public:
    virtual ~byte_source() = default;
    // The name used in messages (the file's path, or a stand-in for memory).
    virtual const std::string& name() const = 0;
    virtual std::uint64_t size() const = 0;

    // Copies bytes [offset, offset + n) to dst; io_error naming `what` when they lie beyond the end.
    void read(std::uint64_t offset, void* dst, std::size_t n, const std::string& what) const {
        if (offset > size() || n > size() - offset)
            throw io_error(name() + ": truncated: " + what + " needs bytes " + std::to_string(offset) +
                           ".." + std::to_string(offset + n) + " but the file has " +
                           std::to_string(size()));
        if (n > 0) read_unchecked(offset, dst, n);
    }

protected:
    virtual void read_unchecked(std::uint64_t offset, void* dst, std::size_t n) const = 0;
};

// Bytes held by the caller (they must outlive the source).
class memory_source final : public byte_source {
public:
    memory_source(const void* data, std::size_t size, std::string name)
        : data_(static_cast<const unsigned char*>(data)), size_(size), name_(std::move(name)) {}
    const std::string& name() const override { return name_; }
    std::uint64_t size() const override { return size_; }

private:
    void read_unchecked(std::uint64_t offset, void* dst, std::size_t n) const override {
        std::memcpy(dst, data_ + offset, n);
    }
    const unsigned char* data_;
    std::size_t size_;
    std::string name_;
};

// A file on disk, opened for the source's lifetime. Not for concurrent use (one file position).
class file_source final : public byte_source {
public:
    explicit file_source(std::string path) : name_(std::move(path)), file_(std::fopen(name_.c_str(), "rb")) {
        if (!file_) throw io_error(name_ + ": cannot open: " + std::strerror(errno));
        if (std::fseek(file_.get(), 0, SEEK_END) != 0 || (size_ = std::ftell(file_.get())) < 0)
            throw io_error(name_ + ": cannot determine the file size (not a regular file?)");
    }
    const std::string& name() const override { return name_; }
    std::uint64_t size() const override { return std::uint64_t(size_); }

private:
    void read_unchecked(std::uint64_t offset, void* dst, std::size_t n) const override {
        if (std::fseek(file_.get(), long(offset), SEEK_SET) != 0 ||
            std::fread(dst, 1, n, file_.get()) != n)
            throw io_error(name_ + ": read of " + std::to_string(n) + " bytes at offset " +
                           std::to_string(offset) + " failed");
    }
    struct closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::string name_;
    std::unique_ptr<std::FILE, closer> file_;
    long size_ = 0;
};

// A part of another source: [offset, offset + size) (a zip entry), read as a whole file.
class slice_source final : public byte_source {
public:
    slice_source(const byte_source& parent, std::uint64_t offset, std::uint64_t size, std::string name)
        : parent_(parent), offset_(offset), size_(size), name_(std::move(name)) {
        if (offset > parent.size() || size > parent.size() - offset)
            throw io_error(name_ + ": lies beyond the end of " + parent.name());
    }
    const std::string& name() const override { return name_; }
    std::uint64_t size() const override { return size_; }

private:
    void read_unchecked(std::uint64_t offset, void* dst, std::size_t n) const override {
        parent_.read(offset_ + offset, dst, n, name_);
    }
    const byte_source& parent_;
    std::uint64_t offset_, size_;
    std::string name_;
};

// A sequential reader over a byte_source (the pickle streams are read this way).
class byte_cursor {
public:
    byte_cursor(const byte_source& source, std::uint64_t position) : source_(source), position_(position) {}
    std::uint64_t position() const { return position_; }
    std::uint64_t remaining() const { return position_ >= source_.size() ? 0 : source_.size() - position_; }
    const byte_source& source() const { return source_; }

    void read(void* dst, std::size_t n, const std::string& what) {
        source_.read(position_, dst, n, what);
        position_ += n;
    }
    // Moves n bytes on; requires n <= remaining().
    void skip(std::uint64_t n) { position_ += n; }
    unsigned char byte(const std::string& what) {
        unsigned char b = 0;
        read(&b, 1, what);
        return b;
    }
    // An n-byte little-endian unsigned integer (n <= 8).
    std::uint64_t little_endian(std::size_t n, const std::string& what) {
        unsigned char b[8] = {};
        read(b, n, what);
        std::uint64_t v = 0;
        for (std::size_t i = n; i-- > 0;) v = (v << 8) | b[i];
        return v;
    }
    // n bytes as a string; n is checked against what is left before anything is allocated.
    std::string text(std::uint64_t n, const std::string& what) {
        if (n > remaining())
            throw io_error(source_.name() + ": truncated: " + what + " declares " + std::to_string(n) +
                           " bytes at offset " + std::to_string(position_) + ", only " +
                           std::to_string(remaining()) + " remain");
        std::string s(std::size_t(n), '\0');
        read(s.data(), s.size(), what);
        return s;
    }

private:
    const byte_source& source_;
    std::uint64_t position_;
};

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
