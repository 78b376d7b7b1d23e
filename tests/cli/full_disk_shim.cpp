// A preload library for the CLI tests: a full disk without mounting one. With
// NST_FULL_DISK=<absolute folder> in the environment, fwrite() and write() to files inside that
// folder store NST_FULL_DISK_BYTES bytes in total (default 0) and then fail with ENOSPC, as a
// full file system does; every other file is written normally. With NST_FULL_DISK_PAUSE_MS=<n>
// too, each such write first waits n ms (a slow disk: a signal can arrive while a file there is
// half-written). Loaded with LD_PRELOAD, so stdio's fwrite (what nst's atomic_file uses) and plain
// write() both come here first. Two more settings, for the tests of what surrounds the writes:
// NST_SLOW_READS=<absolute folder> makes each fread() of a file inside it wait
// NST_FULL_DISK_PAUSE_MS first (a slow input: a signal can arrive while it is read), and
// NST_SYNC_LOG=<file> appends a line to that file for each fsync() ("fsync <path>") and
// rename() ("rename <from> <to>"), in the order they are called.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

namespace {

// The kernel's name of the open file `fd` into `target` (false when it has none).
bool name_of(int fd, char (&target)[4096]) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = fd < 0 ? -1 : readlink(link, target, sizeof target - 1);
    if (n <= 0) return false;
    target[n] = '\0';
    return true;
}

// Whether the open file `fd` lies inside the folder that the variable `setting` names.
bool inside(const char* setting, int fd) {
    const char* folder = std::getenv(setting);
    char target[4096];
    if (!folder || !*folder || !name_of(fd, target)) return false;
    const std::size_t length = std::strlen(folder);
    return std::strncmp(target, folder, length) == 0 && target[length] == '/';
}

bool on_full_disk(int fd) { return inside("NST_FULL_DISK", fd); }

std::atomic<std::size_t> stored{0};

// Bytes the "disk" still takes.
std::size_t room() {
    const char* bytes = std::getenv("NST_FULL_DISK_BYTES");
    const std::size_t capacity = bytes ? std::strtoull(bytes, nullptr, 10) : 0;
    return capacity > stored ? capacity - stored : 0;
}

// Waits NST_FULL_DISK_PAUSE_MS, if set, on through any signal handler that runs meanwhile.
void pause_if_slow() {
    const char* ms = std::getenv("NST_FULL_DISK_PAUSE_MS");
    if (!ms) return;
    const long n = std::strtol(ms, nullptr, 10);
    timespec left{n / 1000, (n % 1000) * 1000000L};
    const int saved = errno;
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
    errno = saved;
}

template <class F> F real(const char* name) { return reinterpret_cast<F>(dlsym(RTLD_NEXT, name)); }

}  // namespace

extern "C" std::size_t fwrite(const void* data, std::size_t size, std::size_t count, std::FILE* file) {
    using fwrite_fn = std::size_t (*)(const void*, std::size_t, std::size_t, std::FILE*);
    static const fwrite_fn next = real<fwrite_fn>("fwrite");
    if (size == 0 || count == 0 || !on_full_disk(fileno(file))) return next(data, size, count, file);
    pause_if_slow();
    const std::size_t fits = std::min(count, room() / size);
    const std::size_t done = fits ? next(data, size, fits, file) : 0;
    stored += done * size;
    if (done < count) errno = ENOSPC;
    return done;
}

extern "C" ssize_t write(int fd, const void* data, std::size_t size) {
    using write_fn = ssize_t (*)(int, const void*, std::size_t);
    static const write_fn next = real<write_fn>("write");
    if (size == 0 || !on_full_disk(fd)) return next(fd, data, size);
    pause_if_slow();
    const std::size_t fits = std::min(size, room());
    if (fits == 0) {
        errno = ENOSPC;
        return -1;
    }
    const ssize_t done = next(fd, data, fits);
    if (done > 0) stored += std::size_t(done);
    return done;
}

extern "C" std::size_t fread(void* data, std::size_t size, std::size_t count, std::FILE* file) {
    using fread_fn = std::size_t (*)(void*, std::size_t, std::size_t, std::FILE*);
    static const fread_fn next = real<fread_fn>("fread");
    if (inside("NST_SLOW_READS", fileno(file))) pause_if_slow();
    return next(data, size, count, file);
}

namespace {

// Appends "<what> <a>[ <b>]" as one line to $NST_SYNC_LOG, if set.
void log_call(const char* what, const char* a, const char* b = nullptr) {
    const char* path = std::getenv("NST_SYNC_LOG");
    if (!path || !*path) return;
    char line[9000];
    const int n = std::snprintf(line, sizeof line, "%s %s%s%s\n", what, a, b ? " " : "", b ? b : "");
    const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || n <= 0) return;
    const ssize_t ignored = write(fd, line, std::min(std::size_t(n), sizeof line - 1));
    (void)ignored;
    close(fd);
}

}  // namespace

extern "C" int fsync(int fd) {
    using fsync_fn = int (*)(int);
    static const fsync_fn next = real<fsync_fn>("fsync");
    char target[4096];
    if (name_of(fd, target)) log_call("fsync", target);
    return next(fd);
}

extern "C" int rename(const char* from, const char* to) {
    using rename_fn = int (*)(const char*, const char*);
    static const rename_fn next = real<rename_fn>("rename");
    log_call("rename", from, to);
    return next(from, to);
}
