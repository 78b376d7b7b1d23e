// Writes a file all-or-nothing: the bytes go to a unique temporary file next to the target,
// which replaces the target by a rename only once everything was written and closed. A reader
// never sees a half-written file, and a failure leaves neither a partial target nor the
// temporary behind. A target that is a symbolic link is written through it (the link stays, the
// file it names is replaced: `-o latest.png` pointing into a renders folder); one that is not a
// regular file (a device, a pipe: `--log /dev/stdout`) is refused, as a rename would replace it.
// The file is synced to disk before the rename and its folder after it, so a power loss leaves
// the old file or the new one, never an empty one (ext4 and XFS may write a rename before the
// data it names). A new file gets the usual permissions (0666 less the umask); a replaced one
// keeps its own (0600 stays 0600), and its owner and group where the writer may give them.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

// The file a path names once its symbolic links are followed (a relative link from the link's
// folder), as far as they go: a link to a file not yet made gives that file's path.
inline std::filesystem::path link_target(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    fs::path p = path;
    std::error_code ec;
    for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
        const fs::path next = fs::read_symlink(p, ec);
        if (ec) break;
        p = next.is_absolute() ? next : p.parent_path() / next;
    }
    return p;
}

// Makes `file`'s entry in its folder durable (a new name or a rename): the folder synced. Best
// effort: the file's data is synced on its own, and some file systems cannot sync a folder.
inline void sync_folder_of(const std::filesystem::path& file) {
    const std::string folder = file.has_parent_path() ? file.parent_path().string() : ".";
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}

// The longest file name `folder`'s file system allows (255 where it does not say).
inline std::size_t longest_file_name(const std::filesystem::path& folder) {
    const long n = ::pathconf(folder.c_str(), _PC_NAME_MAX);
    return n > 0 ? std::size_t(n) : 255;
}

class atomic_file {
public:
    /*  requires: the folder of `path` exists and is writable
        ensures:  an empty temporary file "<target>.tmp-XXXXXX" is open for writing next to the
                  target (`path` with its links followed); throws io_error naming `path`
                  (missing folder, permission denied, a device, ...) otherwise. */
    explicit atomic_file(std::string path) : path_(std::move(path)) {
        namespace fs = std::filesystem;
        const fs::path target = link_target(path_);
        target_ = target.string();
        const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
        std::error_code ec;
        if (!fs::is_directory(folder, ec))
            throw io_error("cannot write '" + path_ + "': the folder '" + folder.string() +
                           "' does not exist");
        const fs::file_status status = fs::status(target, ec);
        if (fs::is_directory(status)) throw io_error("cannot write '" + path_ + "': it is a directory");
        if (fs::exists(status) && !fs::is_regular_file(status))
            throw io_error("cannot write '" + path_ + "': it is not a regular file (a device, pipe or socket); " +
                           "files are written whole, through a temporary file and a rename");
        // The temporary's name is the target's, shortened where the suffix would pass the file
        // system's limit (a 250-byte name is legal, its temporary would not be).
        const std::string name = target.filename().string();
        const std::size_t suffix_size = 11;  // ".tmp-" and six characters
        const std::string stem =
            name.substr(0, std::min(name.size(), std::max(longest_file_name(folder), suffix_size + 1) - suffix_size));

        // "x" (C11/C++17 fopen) fails if the name exists, so two writers never share a
        // temporary; fopen also creates the file with the usual umask permissions.
        std::random_device seed;
        std::mt19937 rng(seed());
        const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        for (int attempt = 0; attempt < 100 && !file_; ++attempt) {
            std::string suffix(6, 'x');
            for (char& c : suffix) c = digits[rng() % (sizeof digits - 1)];
            temp_ = (folder / (stem + ".tmp-" + suffix)).string();
            errno = 0;
            file_ = std::fopen(temp_.c_str(), "wbx");
            if (!file_ && errno != EEXIST) break;
        }
        if (!file_) {
            const int error = errno;
            throw io_error("cannot write '" + path_ + "': cannot create a temporary file in '" + folder.string() +
                               "': " + std::strerror(error),
                           error);
        }
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

    /*  ensures: the target holds exactly the bytes written, on disk, with the permissions of the
                 file it replaced (if any), or io_error is thrown and the target is untouched (and
                 the temporary removed by the destructor). */
    void commit() {
        if (!file_) throw io_error("cannot write '" + path_ + "': already committed");
        if (!failed_ && std::fflush(file_) != 0) {
            failed_ = true;
            error_ = errno;
        }
        // The permission bits only: set-id bits are not carried onto new contents.
        struct stat replaced;
        if (!failed_ && ::stat(target_.c_str(), &replaced) == 0 && S_ISREG(replaced.st_mode)) {
            keep_owner(replaced);
            if (::fchmod(fileno(file_), replaced.st_mode & 0777) != 0) {
                failed_ = true;
                error_ = errno;
            }
        }
        if (!failed_ && ::fsync(fileno(file_)) != 0) {
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
            throw io_error("cannot write '" + path_ + "': " + (error_ ? std::strerror(error_) : "write failed"),
                           error_);
        std::error_code ec;
        std::filesystem::rename(temp_, target_, ec);  // replaces an existing file atomically
        if (ec) throw io_error("cannot write '" + path_ + "': rename failed: " + ec.message(), ec.value());
        committed_ = true;
        // The rename itself made durable. Best effort: the file is in place whatever happens
        // here, and some file systems cannot sync a folder (EINVAL).
        sync_folder_of(target_);
    }

    const std::string& temporary_path() const { return temp_; }

private:
    // The replaced file's owner and group, where this process may give them (before the mode,
    // which a change of owner may clear): root gives both; another user keeps a group it belongs
    // to on a file it owns. The new file had the writer's: `sudo nst-batch --overwrite` left the
    // user root-owned outputs that their next run refused as write-protected. Where neither is
    // allowed the new file keeps the writer's, as a copy would.
    void keep_owner(const struct stat& replaced) const {
        struct stat made;
        if (::fstat(fileno(file_), &made) != 0) return;
        if (made.st_uid == replaced.st_uid && made.st_gid == replaced.st_gid) return;
        if (::fchown(fileno(file_), replaced.st_uid, replaced.st_gid) == 0) return;
        if (made.st_gid == replaced.st_gid) return;
        const int group_kept = ::fchown(fileno(file_), uid_t(-1), replaced.st_gid);  // (or not: as a copy)
        (void)group_kept;
    }

    std::string path_;    // as given (messages name it)
    std::string target_;  // the file written: path_ with its links followed
    std::string temp_;
    std::FILE* file_ = nullptr;
    bool failed_ = false;
    int error_ = 0;
    bool committed_ = false;
};

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
