// nst-batch's --report file: one line per job, appended as the job ends and synced to disk before
// the next job's line. A job's output is synced before it is renamed into place (atomic_file), so
// after a crash or a power loss the report holds the line of every finished job but at most the
// last one; written through a stream and never synced, the last minutes of lines could be lost
// while their images were on disk. The report is not written whole through a temporary file:
// what was done so far is what it is for.
#pragma once

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <nst/io/detail/atomic_file.hpp>

#include "../nst/usage_error.hpp"

namespace nst::batch {

class report_file {
public:
    /*  Creates `path` or empties it (through a link, as a stream would).
        throws: usage_error "--report '<path>': cannot be written: <reason>". */
    explicit report_file(const std::string& path) : path_(path) {
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd_ < 0)
            throw nst::cli::usage_error("--report '" + path + "': cannot be written: " + std::strerror(errno));
        // The new name made durable once (a link's file, in its own folder).
        nst::detail::sync_folder_of(nst::detail::link_target(path_));
    }
    report_file(const report_file&) = delete;
    report_file& operator=(const report_file&) = delete;
    ~report_file() { ::close(fd_); }

    /*  Appends `line` and a newline, then syncs the file to disk.
        ensures: true, or false with error() the errno of the write or sync that failed (then
                 nothing more is written: a line after a lost one would hide the gap). */
    bool append(const std::string& line) {
        if (error_ != 0) return false;
        const std::string text = line + '\n';
        for (std::size_t done = 0; done < text.size();) {
            const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return fail(n < 0 ? errno : EIO);
            done += std::size_t(n);
        }
        // A pipe, a terminal or /dev/stdout cannot be synced (EINVAL): nothing to make durable there.
        if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) return fail(errno);
        return true;
    }

    bool failed() const { return error_ != 0; }
    int error() const { return error_; }

private:
    bool fail(int error) {
        error_ = error;
        return false;
    }

    std::string path_;
    int fd_ = -1;
    int error_ = 0;
};

}  // namespace nst::batch
