// Starting the programs under test (nst, nst-batch, mpirun) as separate processes: their own
// arguments and environment, stdout to /dev/null, stderr to a file the test reads (or a pipe).
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

extern char** environ;

namespace nst::test {

struct spawned {
    pid_t pid = -1;
    std::string stderr_path;
};

// `program args...` as posix_spawn takes them: null-terminated pointers into strings held here.
struct argv_list {
    std::vector<std::string> strings;
    std::vector<char*> pointers;
    argv_list(const std::string& program, const std::vector<std::string>& args) : strings{program} {
        strings.insert(strings.end(), args.begin(), args.end());
        for (auto& a : strings) pointers.push_back(a.data());
        pointers.push_back(nullptr);
    }
};

// Starts `program args...` with this process's environment changed by `env`: an entry
// NAME=VALUE replaces or adds a variable, "NAME=" alone removes it.
inline spawned spawn(const std::string& program, const std::vector<std::string>& args,
                     const std::string& stderr_path, const std::vector<std::string>& env = {}) {
    const auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=') + 1); };
    std::vector<std::string> environment;
    for (char** e = environ; *e; ++e) {
        const std::string entry = *e;
        bool changed = false;
        for (const auto& change : env) changed = changed || entry.compare(0, name_of(change).size(), name_of(change)) == 0;
        if (!changed) environment.push_back(entry);
    }
    for (const auto& change : env)
        if (change != name_of(change)) environment.push_back(change);
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);

    argv_list argv(program, args);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    spawned p;
    p.stderr_path = stderr_path;
    const int rc = posix_spawn(&p.pid, program.c_str(), &actions, nullptr, argv.pointers.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    return p;
}

// A program started with its stderr into a pipe (as a shell runs `program 2>&1 | tee run.log`):
// `read_end` is the test's end of it, to read and to close.
struct piped {
    spawned process;  // (process.stderr_path is empty)
    int read_end = -1;
};

// Starts `program args...` in this process's environment, stdout to /dev/null, stderr into a pipe.
inline piped spawn_into_pipe(const std::string& program, const std::vector<std::string>& args) {
    int ends[2];
    REQUIRE(pipe(ends) == 0);
    argv_list argv(program, args);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, ends[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, ends[0]);
    posix_spawn_file_actions_addclose(&actions, ends[1]);
    piped p;
    const int rc = posix_spawn(&p.process.pid, program.c_str(), &actions, nullptr, argv.pointers.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(ends[1]);
    p.read_end = ends[0];
    REQUIRE(rc == 0);
    return p;
}

// Reads the pipe into `got` until it holds `text` (true), or the pipe is closed by the writer or
// `seconds` have passed (false).
inline bool read_until(const piped& p, const std::string& text, int seconds, std::string& got) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (got.find(text) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd ready{p.read_end, POLLIN, 0};
        if (poll(&ready, 1, int(left.count())) <= 0) continue;  // (a timeout ends the loop above)
        char buffer[4096];
        const ssize_t n = read(p.read_end, buffer, sizeof buffer);
        if (n == 0) return false;
        if (n > 0) got.append(buffer, std::size_t(n));
    }
    return true;
}

// Waits for it to end: its exit code, or 128 + the signal that ended it (as a shell reports);
// `usage`, when given, receives its resource use (ru_maxrss: its peak resident memory in kB).
inline int exit_code(const spawned& p, rusage* usage = nullptr) {
    int status = 0;
    while (wait4(p.pid, &status, 0, usage) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// Output files being written in `folder`: their temporaries ("<name>.tmp-XXXXXX").
inline std::size_t temporaries_in(const std::string& folder) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(folder))
        n += e.path().filename().string().find(".tmp-") != std::string::npos;
    return n;
}

// Waits (3 minutes at most) until process `pid` is writing a file in `folder`, then sends it
// SIGINT and SIGTERM (two kinds: two pending SIGINTs would be one), and returns true; when no
// temporary appears it kills the process and returns false.
inline bool signal_twice_while_writing(pid_t pid, const std::string& folder) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (temporaries_in(folder) == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (temporaries_in(folder) != 1) {
        kill(pid, SIGKILL);
        return false;
    }
    REQUIRE(kill(pid, SIGINT) == 0);
    REQUIRE(kill(pid, SIGTERM) == 0);
    return true;
}

// Waits (3 minutes at most) until process `pid` has `file` open (a path as the kernel names it:
// no links), then sends it `signal` and returns true; when it never does, kills it, false.
inline bool signal_while_open(pid_t pid, const std::string& file, int signal) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
    while (std::chrono::steady_clock::now() < deadline) {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(fds, ec))
            if (std::filesystem::read_symlink(e.path(), ec) == file) return kill(pid, signal) == 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid, SIGKILL);
    return false;
}

#ifdef NST_FULL_DISK_SHIM
// The environment changes that preload the test shim (full_disk_shim.cpp) with its `settings`.
inline std::vector<std::string> with_shim(std::vector<std::string> settings) {
    const char* asan = std::getenv("ASAN_OPTIONS");
    settings.push_back("LD_PRELOAD=" NST_FULL_DISK_SHIM);
    settings.push_back("ASAN_OPTIONS=" + std::string(asan ? asan : "") + ":verify_asan_link_order=0");
    return settings;
}
#endif

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace nst::test
