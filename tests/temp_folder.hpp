// A fresh scratch folder for one test, removed with its content at the end. Shared by the test
// programs that write fixtures (kept free of nst headers so any test can include it cheaply).
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace nst::test {

struct temp_folder {
    std::filesystem::path path;

    temp_folder() {
        static int counter = 0;
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("nst_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
                std::to_string(rd()));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~temp_folder() {
        std::error_code ec;  // a test may have taken the folder's permissions away
        std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(path, ec);
    }
    temp_folder(const temp_folder&) = delete;
    temp_folder& operator=(const temp_folder&) = delete;

    // Path of a file in the folder.
    std::string operator/(const std::string& name) const { return (path / name).string(); }

    // Names of the entries in the folder.
    std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(path))
            names.push_back(e.path().filename().string());
        return names;
    }
};

}  // namespace nst::test
