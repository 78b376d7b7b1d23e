// Runs a committed fixture script (tests/fixtures/*.py) at test time, for fixtures too large to
// commit (full-size weight files). The script exits 77 when a Python module it needs is missing;
// the test then skips the same way (exit code 77), as it does when Python itself is absent.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace nst::test {

// The interpreter: $NST_PYTHON, else Debian's /usr/bin/python3 (which has numpy, h5py, protobuf).
inline std::string fixture_python() {
    const char* env = std::getenv("NST_PYTHON");
    return env && *env ? env : "/usr/bin/python3";
}

/*  Runs tests/fixtures/<script> with `args` (each quoted for the shell).
    ensures: returns normally when the script succeeded; ends the test process with 77 (skip)
             when Python or a module is missing; returns the exit code otherwise. */
inline int run_fixture_script(const std::string& script, const std::vector<std::string>& args) {
    const std::string python = fixture_python();
    if (!std::filesystem::exists(python)) {
        std::printf("SKIPPED: no Python at %s (set NST_PYTHON)\n", python.c_str());
        std::fflush(stdout);
        std::_Exit(77);
    }
    auto quoted = [](const std::string& s) {
        std::string q = "'";
        for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
        return q + "'";
    };
    std::string command = quoted(python) + " " + quoted(std::string(NST_TEST_SOURCE_DIR) + "/fixtures/" + script);
    for (const auto& a : args) command += " " + quoted(a);
    std::fflush(stdout);
    const int status = std::system(command.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 77) {
        std::printf("SKIPPED: %s needs a Python module that is missing\n", script.c_str());
        std::fflush(stdout);
        std::_Exit(77);
    }
    return code;
}

}  // namespace nst::test
