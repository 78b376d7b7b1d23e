// What the teaching programs check in their command lines before any work: a request for help
// (anywhere among the arguments, where it was read as a file or layer name), and the output image
// (a misspelt extension or a missing folder was found only by the final save, after the whole
// optimisation, and an output named like the input replaced the photo).
#pragma once

#include <cctype>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

// Whether any argument is -h or --help: the program then prints its usage to stdout and exits 0.
inline bool asks_for_help(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) return true;
    return false;
}

// Throws std::invalid_argument naming `what` unless `path` ends in .png, .jpg or .jpeg, its
// folder exists, and it is none of `inputs` (the same file by any name).
inline void check_output_image(const std::string& path, const std::vector<std::string>& inputs,
                               const std::string& what = "OUT") {
    namespace fs = std::filesystem;
    std::string ext = fs::path(path).extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (ext != ".png" && ext != ".jpg" && ext != ".jpeg")
        throw std::invalid_argument(what + " '" + path + "': not an image name (end it in .png, .jpg or .jpeg)");
    std::error_code ec;
    const fs::path folder = fs::path(path).parent_path();
    if (!folder.empty() && !fs::is_directory(folder, ec))
        throw std::invalid_argument(what + " '" + path + "': the folder '" + folder.string() + "' does not exist");
    for (const std::string& input : inputs)
        if (fs::exists(path, ec) && fs::equivalent(path, input, ec))
            throw std::invalid_argument(what + " '" + path + "' is the input '" + input + "': it would be replaced");
}
