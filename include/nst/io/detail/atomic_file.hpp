// Writes a file all-or-nothing: the bytes go to a unique temporary file next to the target,
// which replaces the target by a rename only once everything was written and closed. A reader
// never sees a half-written file, and a failure leaves neither a partial target nor the
// temporary behind.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

class atomic_file {
public:
    /*  requires: the folder of `path` exists and is writable
        ensures:  an empty temporary file "<path>.tmp-XXXXXX" is open for writing; throws
                  io_error naming `path` (missing folder, permission denied, ...) otherwise. */
    explicit atomic_file(std::string path) : path_(std::move(path)) {
        namespace fs = std::filesystem;
        const fs::path target(path_);
        const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
        std::error_code ec;
        if (!fs::is_directory(folder, ec))
            throw io_error("cannot write '" + path_ + "': the folder '" + folder.string() +
                           "' does not exist");
        if (fs::is_directory(target, ec))
            throw io_error("cannot write '" + path_ + "': it is a directory");

        // "x" (C11/C++17 fopen) fails if the name exists, so two writers never share a
        // temporary; fopen also creates the file with the usual umask permissions.
        std::random_device seed;
        std::mt19937 rng(seed());
        const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        for (int attempt = 0; attempt < 100 && !file_; ++attempt) {
            std::string suffix(6, 'x');
            for (char& c : suffix) c = digits[rng() % (sizeof digits - 1)];
            temp_ = path_ + ".tmp-" + suffix;
            errno = 0;
            file_ = std::fopen(temp_.c_str(), "wbx");
            if (!file_ && errno != EEXIST) break;
        }
        if (!file_)
            throw io_error("cannot write '" + path_ + "': cannot create a temporary file in '" +
                           folder.string() + "': " + std::strerror(errno));
    }

    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;

    // Not committed (an exception, an early return): the temporary file is removed.
    ~atomic_file() {
        if (file_) std::fclose(file_);
        if (!committed_) std::remove(temp_.c_str());
    }

    // Appends bytes; a failure is remembered and reported by commit().
    void write(const void* data, std::size_t size) {
        if (failed_ || size == 0) return;
        if (std::fwrite(data, 1, size, file_) != size) {
            failed_ = true;
            error_ = errno;
        }
    }

    /*  ensures: the target holds exactly the bytes written, or io_error is thrown and the
                 target is untouched (and the temporary removed by the destructor). */
    void commit() {
        if (!file_) throw io_error("cannot write '" + path_ + "': already committed");
        if (!failed_ && std::fflush(file_) != 0) {
            failed_ = true;
            error_ = errno;
        }
        std::FILE* f = file_;
        file_ = nullptr;
        if (std::fclose(f) != 0 && !failed_) {
            failed_ = true;
            error_ = errno;
        }
        if (failed_)
            throw io_error("cannot write '" + path_ + "': " +
                           (error_ ? std::strerror(error_) : "write failed"));
        std::error_code ec;
        std::filesystem::rename(temp_, path_, ec);  // replaces an existing file atomically
        if (ec) throw io_error("cannot write '" + path_ + "': rename failed: " + ec.message());
        committed_ = true;
    }

    const std::string& temporary_path() const { return temp_; }

private:
    std::string path_;
    std::string temp_;
    std::FILE* file_ = nullptr;
    bool failed_ = false;
    int error_ = 0;
    bool committed_ = false;
};

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
