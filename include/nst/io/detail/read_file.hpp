// Reads a whole file into memory, reporting why it could not (errno), so image decoders can
// work from memory and still name the real cause (missing, permission denied, a directory...).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// "cannot read <what> 'path': reason" as an io_error.
inline io_error read_error(const std::string& what, const std::string& path, const std::string& reason) {
    return io_error("cannot read " + what + " '" + path + "': " + reason);
}

// Looks at the first bytes of a file (up to 64 KiB, or all of a smaller one) before the rest is
// read; throws to stop reading.
using file_start_check = std::function<void(const unsigned char* bytes, std::size_t size)>;

/*  requires: nothing (any path); `what` names the kind of file in messages ("image", ...)
    ensures:  returns the file's bytes; throws io_error naming the file and the system's reason
              (e.g. "No such file or directory", "Is a directory") when it cannot be read, and
              when it holds more than max_bytes (checked while reading, so a huge file or an
              endless pipe costs at most max_bytes of memory); whatever check_start throws on
              the first bytes, having read no more. */
inline std::vector<unsigned char> read_file_bytes(const std::string& path,
                                                  const std::string& what = "file",
                                                  std::size_t max_bytes = std::size_t(-1),
                                                  const file_start_check& check_start = nullptr) {
    struct closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    errno = 0;
    std::unique_ptr<std::FILE, closer> file(std::fopen(path.c_str(), "rb"));
    if (!file) throw read_error(what, path, std::strerror(errno));

    std::vector<unsigned char> bytes;
    unsigned char buffer[1 << 16];
    for (;;) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        if (bytes.empty() && check_start && !std::ferror(file.get())) check_start(buffer, n);
        if (n > max_bytes - bytes.size())
            throw read_error(what, path, "larger than " + std::to_string(max_bytes) + " bytes");
        bytes.insert(bytes.end(), buffer, buffer + n);
        if (n < sizeof buffer) break;
    }
    // fopen succeeds on a directory on Linux; the read then fails with EISDIR.
    if (std::ferror(file.get())) throw read_error(what, path, std::strerror(errno));
    return bytes;
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
