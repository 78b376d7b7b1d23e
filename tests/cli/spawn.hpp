// Starting the programs under test (nst, nst-batch, mpirun) as separate processes: their own
// arguments and environment, stdout to /dev/null, stderr to a file the test reads.
#pragma once

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
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

    std::vector<std::string> argv_storage{program};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    spawned p;
    p.stderr_path = stderr_path;
    const int rc = posix_spawn(&p.pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    return p;
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

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace nst::test
