// Input folders (nst's --style DIR, nst-batch's --contents / --styles DIR): the images they hold,
// in name order, less hidden files and the files the run itself writes there.
#pragma once

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "output_paths.hpp"
#include "usage_error.hpp"

namespace nst::cli::detail {

// The extensions of the images load_image reads.
inline const std::vector<std::string>& image_extension_list() {
    static const std::vector<std::string> known{".jpg", ".jpeg", ".png", ".bmp", ".tga", ".gif",
                                                ".psd", ".pnm", ".ppm", ".pgm", ".hdr"};
    return known;
}

// ".jpg, .jpeg, ..." for messages.
inline std::string image_extensions() {
    std::string text;
    for (const auto& e : image_extension_list()) text += (text.empty() ? "" : ", ") + e;
    return text;
}

// Image files by extension.
inline bool is_image_name(const std::filesystem::path& p) {
    const auto& known = image_extension_list();
    return std::find(known.begin(), known.end(), lower_extension(p.string())) != known.end();
}

// Inputs with each folder replaced by the images it holds, and what was left out.
struct expanded_inputs {
    std::vector<std::string> files;
    std::vector<std::string> left_out;  // folder entries `own` claimed: this run's outputs
};

/*  Each folder among `items` replaced by the images in it, sorted by name; files stay as given.
    Hidden files (".x.png", macOS's "._x.png") are not images; nor are the entries `own` says this
    run writes (an earlier run's output and snapshots left in a style or content folder: used as
    inputs, or refused as outputs that are inputs, the same command could not run twice).
    throws: usage_error naming `option` for a folder that cannot be listed or holds no image. */
inline expanded_inputs expand_image_folders(const std::vector<std::string>& items, const std::string& option,
                                            const std::function<bool(const std::string&)>& own = {}) {
    expanded_inputs out;
    for (const auto& item : items) {
        std::error_code ec;
        if (!std::filesystem::is_directory(item, ec)) {
            out.files.push_back(item);
            continue;
        }
        std::vector<std::string> found;
        for (const auto& entry : std::filesystem::directory_iterator(item, ec)) {
            const std::string name = entry.path().filename().string();
            if (name[0] == '.' || !entry.is_regular_file(ec) || !is_image_name(entry.path())) continue;
            (own && own(entry.path().string()) ? out.left_out : found).push_back(entry.path().string());
        }
        if (ec) throw usage_error(option + " '" + item + "': cannot list the folder: " + ec.message());
        if (found.empty())
            throw usage_error(option + " '" + item + "': the folder holds no images (" + image_extensions() + ")" +
                              (out.left_out.empty() ? "" : " besides this run's outputs"));
        std::sort(found.begin(), found.end());
        out.files.insert(out.files.end(), found.begin(), found.end());
    }
    std::sort(out.left_out.begin(), out.left_out.end());
    return out;
}

// "a.png, b.png and 3 more": files a notice names.
inline std::string some_names(const std::vector<std::string>& paths) {
    std::string text;
    for (std::size_t i = 0; i < paths.size() && i < 3; ++i)
        text += (i ? ", " : "") + std::filesystem::path(paths[i]).filename().string();
    if (paths.size() > 3) text += " and " + std::to_string(paths.size() - 3) + " more";
    return text;
}

}  // namespace nst::cli::detail
