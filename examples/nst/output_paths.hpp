// The paths nst and nst-batch write: checked before any work (folder, name, kind of file), and
// compared with the run's inputs through links (comparable_path, same_file), so a run is neither
// lost to a path that can never be written nor allowed to overwrite what it reads.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

#include <nst/io/detail/atomic_file.hpp>

#include "usage_error.hpp"

namespace nst::cli::detail {

inline std::string lower_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

inline std::filesystem::path folder_of(const std::string& path) {
    const std::filesystem::path p(path);
    return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

// Whether a file can be created in `folder`, tried for real (0, or the errno of the failure):
// access() says yes where the create then fails (/proc as root, a file system out of inodes), and
// the run was lost at its end. The probe file is removed at once.
inline int cannot_create_files_in(const std::string& folder) {
    std::string probe = (std::filesystem::path(folder) / ".nst-probe-XXXXXX").string();
    const int fd = ::mkstemp(probe.data());
    if (fd < 0) return errno;
    ::close(fd);
    ::unlink(probe.c_str());
    return 0;
}

// An existing output that its owner made read-only (or that this user may not write) is not
// replaced, as `cp` would not (root included: a rename would replace it whatever its mode).
inline void refuse_write_protected(const std::string& target, const std::string& option, const std::string& named) {
    struct stat file;
    if (::stat(target.c_str(), &file) != 0 || !S_ISREG(file.st_mode)) return;
    if ((file.st_mode & 0222) != 0 && ::access(target.c_str(), W_OK) == 0) return;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(file.st_mode & 07777));
    throw usage_error(option + " " + named + " exists and is write-protected (mode " + mode +
                      "): it is not replaced (make it writable or remove it first)");
}

// An output file must go into an existing folder we can create files in, have a name its file
// system allows, and be neither a folder nor an existing file protected from writing: checked
// before any work, so a run is not lost to a path that can never be written. A path that is a symbolic link is written through it
// (detail/atomic_file.hpp), so these hold for the file the link leads to, in its own folder.
inline void check_writable_file(const std::string& path, const std::string& option) {
    std::error_code ec;
    const std::string target = nst::detail::link_target(path).string();
    const std::string named = "'" + path + "'" + (target == path ? "" : " (a link to '" + target + "')");
    const std::string folder = folder_of(target).string();
    if (!std::filesystem::is_directory(folder, ec))
        throw usage_error(option + " " + named + ": the folder '" + folder + "' " +
                          (std::filesystem::exists(folder, ec) ? "is not a folder" : "does not exist"));
    if (std::filesystem::is_directory(path, ec)) throw usage_error(option + " " + named + " is a directory");
    const std::size_t name = std::filesystem::path(target).filename().string().size();
    if (const std::size_t longest = nst::detail::longest_file_name(folder); name > longest)
        throw usage_error(option + " " + named + ": the name is " + std::to_string(name) +
                          " bytes long, its file system allows " + std::to_string(longest));
    if (const int error = cannot_create_files_in(folder))
        throw usage_error(option + " " + named + ": cannot create files in the folder '" + folder +
                          "': " + std::strerror(error));
    refuse_write_protected(target, option, named);
}

// A file written whole (an image, the log, the parameters: detail/atomic_file.hpp) must also not be
// a device or pipe, which the final rename would replace (`--log /dev/stdout`, through its link).
inline void check_whole_file_output(const std::string& path, const std::string& option) {
    check_writable_file(path, option);
    std::error_code ec;
    const std::filesystem::file_status status = std::filesystem::status(path, ec);
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
        throw usage_error(option + " '" + path + "' is not a regular file (a device or pipe): nst writes its outputs "
                          "whole, through a temporary file (give a file path)");
}

// An image we can write: the extension names PNG or JPEG.
inline void require_image_extension(const std::string& path, const std::string& option) {
    const std::string ext = lower_extension(path);
    if (ext != ".png" && ext != ".jpg" && ext != ".jpeg")
        throw usage_error(option + " '" + path + "': unknown image extension '" + ext + "' (use .png, .jpg or .jpeg)");
}

// --bit-depth 16 asks for what a JPEG cannot store: refused rather than written at 8 bits unasked.
inline void require_format_holds_bit_depth(const std::string& path, int bit_depth, const std::string& option) {
    const std::string ext = lower_extension(path);
    if (bit_depth > 8 && (ext == ".jpg" || ext == ".jpeg"))
        throw usage_error(option + " '" + path + "' is a JPEG, which stores 8 bits per sample: --bit-depth " +
                          std::to_string(bit_depth) + " needs a .png output");
}

// An output image must also end in an image extension we can write.
inline void check_writable_image(const std::string& path, const std::string& option) {
    require_image_extension(path, option);
    check_whole_file_output(path, option);
}

// A path made absolute, with links, "." and ".." resolved as far as it exists: two paths of one
// file compare equal (hard links aside). A link to a file not made yet counts as that file (an
// output written through it lands there), so `--loss-plot plot.png`, a link to the `-o` file
// still to be written, is that file.
inline std::string comparable_path(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path absolute = fs::absolute(nst::detail::link_target(path), ec);
    const fs::path resolved = fs::weakly_canonical(absolute, ec);
    return (ec ? absolute.lexically_normal() : resolved).string();
}

// Whether two paths name the same file: the same existing file (also through any link), or, while
// one does not exist yet, the same comparable_path.
inline bool same_file(const std::string& a, const std::string& b) {
    std::error_code ec;
    if (std::filesystem::exists(a, ec) && std::filesystem::exists(b, ec)) return std::filesystem::equivalent(a, b, ec);
    return comparable_path(a) == comparable_path(b);
}

using named_path = std::pair<std::string, std::string>;  // option, path

}  // namespace nst::cli::detail
