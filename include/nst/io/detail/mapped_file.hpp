// A read-only view of a whole file's bytes. Regular files are memory-mapped, so a large file
// whose parts are mostly skipped (a .caffemodel's 400 MB of dense layers) costs only the pages
// actually read; anything else (a pipe, a system without mmap) is read into memory.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "../../core/isa_namespace.hpp"
#include "../../core/error.hpp"
#include "read_file.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define NST_HAS_MMAP 1
#endif

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

class mapped_file {
public:
    // Throws io_error naming the file (`what` says which kind) and the system's reason.
    mapped_file(const std::string& path, const std::string& what) {
#ifdef NST_HAS_MMAP
        errno = 0;
        const int fd = ::open(path.c_str(), O_RDONLY);
        if (fd < 0) throw read_error(what, path, std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
            ::close(fd);
            if (S_ISDIR(st.st_mode)) throw read_error(what, path, "is a directory");
            read_whole(path, what);  // pipes, devices, empty files
            return;
        }
        void* p = ::mmap(nullptr, std::size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        const int map_errno = errno;
        ::close(fd);  // the mapping keeps the file open
        if (p == MAP_FAILED) throw read_error(what, path, std::string("cannot map it: ") + std::strerror(map_errno));
        mapping_ = p;
        data_ = static_cast<const unsigned char*>(p);
        size_ = std::size_t(st.st_size);
#else
        read_whole(path, what);
#endif
    }
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    ~mapped_file() {
#ifdef NST_HAS_MMAP
        if (mapping_) ::munmap(mapping_, size_);
#endif
    }

    const unsigned char* data() const { return data_; }
    std::size_t size() const { return size_; }

    // Hint that [offset, offset + n) will not be read again soon: a mapped region's pages leave
    // the process's resident set (they are read back from the file if touched again).
    void release(std::size_t offset, std::size_t n) const {
#if defined(NST_HAS_MMAP) && defined(MADV_DONTNEED)
        if (!mapping_) return;
        const std::size_t page = std::size_t(::sysconf(_SC_PAGESIZE));
        const std::size_t begin = (offset + page - 1) / page * page;  // whole pages only
        const std::size_t end = std::min(offset + n, size_) / page * page;
        if (end > begin) ::madvise(static_cast<char*>(mapping_) + begin, end - begin, MADV_DONTNEED);
#else
        (void)offset;
        (void)n;
#endif
    }

private:
    void read_whole(const std::string& path, const std::string& what) {
        owned_ = read_file_bytes(path, what);
        data_ = owned_.data();
        size_ = owned_.size();
    }

    void* mapping_ = nullptr;
    std::vector<unsigned char> owned_;
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
