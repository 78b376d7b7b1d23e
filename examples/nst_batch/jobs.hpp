// nst-batch's job list: every content x style pair of --contents / --styles (folders expanded
// to their images), or the rows of a --manifest CSV with optional per-job options. Every rank
// of an MPI run builds the same list from the same command line (inputs on a shared file system).
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nst/core/number_text.hpp>
#include <nst/style_transfer.hpp>

#include "../nst/options.hpp"

namespace nst::batch {

using nst::cli::usage_error;

// The manifest's optional per-job columns; an empty cell keeps the command line's value.
struct job_overrides {
    std::optional<double> size, iterations, style_scale, content_weight, style_weight, tv_weight, seed;
    std::optional<std::string> content_mask, style_mask;  // paths, read when the job runs
    std::optional<std::string> colors;                    // style | luminance | histogram
};

struct job {
    std::string content, style, output;  // output: the full path written
    std::string origin;                  // where the job comes from, for messages ("jobs.csv line 4")
    job_overrides overrides;
};

// The manifest's column names, in the order the README lists them.
inline const std::vector<std::string>& manifest_option_columns() {
    static const std::vector<std::string> names{"size",         "iterations", "style-scale",  "content-weight",
                                                "style-weight", "tv-weight",  "seed",         "content-mask",
                                                "style-mask",   "colors"};
    return names;
}

namespace detail {

inline std::string known_columns_suffix() {
    std::string text;
    for (const auto& c : manifest_option_columns()) text += ", " + c;
    return text;
}

inline std::string trim(const std::string& text) {
    const auto b = text.find_first_not_of(" \t"), e = text.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : text.substr(b, e - b + 1);
}

/*  One CSV line into cells (RFC 4180): commas separate, a cell in double quotes is its text
    exactly (commas, blanks, "" for a quote); the blanks around a cell are not part of it
    (`a.jpg, b.jpg`). A quote inside an unquoted cell is a character (`5" disk.jpg`).
    throws: usage_error naming `where` for an unclosed quote and for text after a closing quote
    (`"a"b`: which name was meant?). */
inline std::vector<std::string> split_csv_line(std::string line, const std::string& where) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF line ends
    const auto blank = [&](std::size_t i) { return i < line.size() && (line[i] == ' ' || line[i] == '\t'); };
    std::vector<std::string> cells;
    for (std::size_t i = 0;; ++i) {  // i: the start of a cell
        while (blank(i)) ++i;
        std::string cell;
        if (i < line.size() && line[i] == '"') {
            for (++i;; ++i) {
                if (i >= line.size()) throw usage_error(where + ": a quoted cell is not closed");
                if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') cell += line[i++];
                else if (line[i] == '"') break;
                else cell += line[i];
            }
            for (++i; blank(i);) ++i;
            if (i < line.size() && line[i] != ',')
                throw usage_error(where + ": text after the closing quote of cell " + std::to_string(cells.size() + 1) +
                                  " (a quoted cell ends at its quote; a quote inside it is written \"\")");
        } else {
            const std::size_t comma = std::min(line.find(',', i), line.size());
            cell = trim(line.substr(i, comma - i));
            i = comma;
        }
        cells.push_back(std::move(cell));
        if (i >= line.size()) return cells;
    }
}

inline double parse_cell_number(const std::string& cell, const std::string& where) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(cell, &used);
    } catch (...) {
        used = 0;
    }
    if (used != cell.size() || !std::isfinite(v)) throw usage_error(where + ": '" + cell + "' is not a number");
    return v;
}

inline std::optional<double>* override_field(job_overrides& o, const std::string& column) {
    if (column == "size") return &o.size;
    if (column == "iterations") return &o.iterations;
    if (column == "style-scale") return &o.style_scale;
    if (column == "content-weight") return &o.content_weight;
    if (column == "style-weight") return &o.style_weight;
    if (column == "tv-weight") return &o.tv_weight;
    if (column == "seed") return &o.seed;
    return nullptr;
}

inline bool is_option_column(const std::string& column) {
    const auto& known = manifest_option_columns();
    return std::find(known.begin(), known.end(), column) != known.end();
}

inline std::string resolve(const std::filesystem::path& folder, const std::string& path) {
    const std::filesystem::path p(path);
    return p.is_absolute() ? p.string() : (folder / p).lexically_normal().string();
}

// One non-empty option cell into the job's overrides: a number, a path (relative to the
// manifest's folder) or a colour mode.
inline void set_override(job_overrides& o, const std::string& column, const std::string& cell,
                         const std::filesystem::path& folder, const std::string& where) {
    if (column == "content-mask") {
        o.content_mask = resolve(folder, cell);
    } else if (column == "style-mask") {
        o.style_mask = resolve(folder, cell);
    } else if (column == "colors") {
        if (cell != "style" && cell != "luminance" && cell != "histogram")
            throw usage_error(where + ", column colors: '" + cell + "' is not style, luminance or histogram");
        o.colors = cell;
    } else {
        *override_field(o, column) = parse_cell_number(cell, where + ", column " + column);
    }
}

}  // namespace detail

// `<content stem>__<style stem>.png`
inline std::string output_name(const std::string& content, const std::string& style) {
    namespace fs = std::filesystem;
    return fs::path(content).stem().string() + "__" + fs::path(style).stem().string() + ".png";
}

// `files` with each file after its first mention dropped (the same file through a folder and by
// name, or named twice); the dropped ones are added to `repeated`.
inline std::vector<std::string> first_mentions(const std::vector<std::string>& files, std::vector<std::string>& repeated) {
    std::set<std::string> seen;
    std::vector<std::string> out;
    for (const auto& f : files)
        (seen.insert(nst::cli::detail::comparable_path(f)).second ? out : repeated).push_back(f);
    return out;
}

/*  Every pair, content-major, outputs in output_dir. A folder of contents or styles that is the
    output folder (the default, ".") holds the outputs of an earlier run of these pairs: they are
    left out (named in `left_out` when given), so the same command runs again; so is a file given
    twice (by name and through its folder), which would only write its outputs twice. */
inline std::vector<job> all_pairs(const std::vector<std::string>& contents, const std::vector<std::string>& styles,
                                  const std::string& output_dir, std::vector<std::string>* left_out = nullptr) {
    using nst::cli::detail::expand_image_folders;
    const auto pairs = [&](const std::vector<std::string>& cs, const std::vector<std::string>& ss) {
        std::vector<job> jobs;
        for (const auto& c : cs)
            for (const auto& s : ss)
                jobs.push_back({c, s, (std::filesystem::path(output_dir) / output_name(c, s)).string(), c + " x " + s, {}});
        return jobs;
    };
    std::set<std::string> outputs;  // of the pairs of everything the folders hold
    for (const job& j : pairs(expand_image_folders(contents, "--contents").files,
                              expand_image_folders(styles, "--styles").files))
        outputs.insert(nst::cli::detail::comparable_path(j.output));
    const auto own = [&](const std::string& p) { return outputs.count(nst::cli::detail::comparable_path(p)) > 0; };
    const auto cs = expand_image_folders(contents, "--contents", own), ss = expand_image_folders(styles, "--styles", own);
    std::vector<std::string> dropped = cs.left_out;
    dropped.insert(dropped.end(), ss.left_out.begin(), ss.left_out.end());
    const std::vector<std::string> content_files = first_mentions(cs.files, dropped);
    const std::vector<job> jobs = pairs(content_files, first_mentions(ss.files, dropped));
    if (left_out) *left_out = dropped;
    return jobs;
}

/*  The manifest's jobs. Its first line names the columns: content and style (required), output
    and the per-job options (optional, any order). Input paths are relative to the manifest's
    folder, outputs to output_dir; an empty output cell means <content stem>__<style stem>.png.
    Blank lines (also rows of empty cells) and lines starting with # (after spaces) are skipped.
    throws: usage_error naming the file, line and column; for an empty content or style cell, a
    column named twice (which cell would count?) and a manifest without jobs. */
inline std::vector<job> read_manifest(const std::string& path, const std::string& output_dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw usage_error("--manifest '" + path + "' is a directory");
    std::ifstream in(path);
    if (!in) throw usage_error("--manifest '" + path + "': cannot be read");
    const std::filesystem::path folder = nst::cli::detail::folder_of(path);
    std::string line;
    std::vector<std::string> columns;
    std::vector<job> jobs;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        const std::string where = path + " line " + std::to_string(number);
        // Spreadsheets saving "CSV UTF-8" (Excel) start the file with a byte order mark.
        if (number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
        const std::size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        const std::vector<std::string> cells = detail::split_csv_line(line, where);
        if (columns.empty()) {
            columns = cells;
            for (const auto& c : columns)
                if (c != "content" && c != "style" && c != "output" && !detail::is_option_column(c))
                    throw usage_error(where + ": unknown column '" + c + "' (known: content, style, output" +
                                      detail::known_columns_suffix() + ")" +
                                      (c.find_first_of(";\t") != std::string::npos
                                           ? "; cells are separated by commas, not semicolons or tabs"
                                           : ""));
            if (std::count(columns.begin(), columns.end(), "content") != 1 ||
                std::count(columns.begin(), columns.end(), "style") != 1)
                throw usage_error(where + ": the header needs one 'content' and one 'style' column");
            for (std::size_t k = 0; k < columns.size(); ++k)
                if (std::count(columns.begin(), columns.end(), columns[k]) > 1)
                    throw usage_error(where + ": the column '" + columns[k] + "' is named twice");
            continue;
        }
        // A spreadsheet's empty row (",,,") is a blank line.
        if (std::all_of(cells.begin(), cells.end(), [](const std::string& c) { return c.empty(); })) continue;
        if (cells.size() != columns.size())
            throw usage_error(where + ": " + std::to_string(cells.size()) + " cells for " +
                              std::to_string(columns.size()) + " columns");
        job j;
        j.origin = where;
        for (std::size_t k = 0; k < cells.size(); ++k) {
            // (checked before resolve, which makes an empty cell the manifest's folder: a job reading ".")
            if ((columns[k] == "content" || columns[k] == "style") && cells[k].empty())
                throw usage_error(where + ": empty " + columns[k] + " cell");
            if (columns[k] == "content") j.content = detail::resolve(folder, cells[k]);
            else if (columns[k] == "style") j.style = detail::resolve(folder, cells[k]);
            else if (columns[k] == "output") j.output = cells[k];
            else if (!cells[k].empty()) detail::set_override(j.overrides, columns[k], cells[k], folder, where);
        }
        j.output = detail::resolve(output_dir, j.output.empty() ? output_name(j.content, j.style) : j.output);
        nst::cli::detail::require_image_extension(j.output, where + ": output");  // refused now, not after the work
        jobs.push_back(std::move(j));
    }
    if (columns.empty()) throw usage_error("--manifest '" + path + "': no header line (content,style[,output,...])");
    if (jobs.empty()) throw usage_error("--manifest '" + path + "': no job lines below the header");
    return jobs;
}

// Two jobs writing one file would overwrite each other, and a job (or the --report, when given)
// writing one of the batch's inputs would destroy it: a content, style or mask of any job (a
// manifest's output cell naming a photo), or a file of the whole batch (`shared_inputs`, each
// with its option: the weights, the manifest, the --init image; `--report w.h5` replaced the
// weights with a JSON line). All refused. Paths are compared made absolute, through links.
inline void require_outputs_apart(const std::vector<job>& jobs, const std::string& report = "",
                                  const std::vector<nst::cli::detail::named_path>& shared_inputs = {}) {
    using nst::cli::detail::comparable_path;
    std::map<std::string, std::string> inputs;  // path -> what it is ("an input of <origin>", "the --weights file")
    std::map<std::string, const job*> outputs;
    for (const auto& [option, path] : shared_inputs)
        if (!path.empty()) inputs.emplace(comparable_path(path), "the " + option + " file");
    for (const auto& j : jobs) {
        for (const std::string& in : {j.content, j.style}) inputs.emplace(comparable_path(in), "an input of " + j.origin);
        for (const auto& mask : {j.overrides.content_mask, j.overrides.style_mask})
            if (mask) inputs.emplace(comparable_path(*mask), "an input of " + j.origin);
    }
    for (const auto& j : jobs) {
        const std::string k = comparable_path(j.output);
        if (const auto in = inputs.find(k); in != inputs.end())
            throw usage_error(j.origin + ": the output " + j.output + " is " + in->second +
                              ": it would be overwritten (give the output another path)");
        const auto [it, fresh] = outputs.emplace(k, &j);
        if (!fresh)
            throw usage_error("two jobs write " + j.output + " (" + it->second->origin + " and " + j.origin +
                              "); rename an input or give outputs in a manifest");
    }
    if (report.empty()) return;
    const std::string k = comparable_path(report);
    if (const auto in = inputs.find(k); in != inputs.end())
        throw usage_error("--report '" + report + "' is " + in->second + ": it would be overwritten");
    if (const auto out = outputs.find(k); out != outputs.end())
        throw usage_error("--report '" + report + "' is the output of " + out->second->origin +
                          ": give the report its own path");
}

/*  The settings of one job: the command line's (`base`, which holds no images), with the job's
    overrides. An --init image is the command line's, checked once when read and given to each
    job as it runs (run_job): held in `base`, every job's options copied it, and the plan checks
    every job (0.65 s a job for a 12 MP image).
    throws: usage_error naming the job's origin for a value stylize refuses. */
inline stylize_options job_options(const stylize_options& base, const job& j) {
    stylize_options o = base;
    const job_overrides& v = j.overrides;
    const auto whole = [&](const std::optional<double>& x, const char* column) {
        if (!(*x >= 0) || *x != std::floor(*x) || *x > 1e15)
            throw usage_error(j.origin + ", column " + column + ": expected a whole number >= 0, got " +
                              number_text(*x));
        return static_cast<std::uint64_t>(*x);
    };
    if (v.size) o.size = whole(v.size, "size");
    if (v.iterations) o.iterations = whole(v.iterations, "iterations");
    if (v.seed) o.seed = whole(v.seed, "seed");
    if (v.style_scale) o.style_scale = *v.style_scale;
    if (v.content_weight) o.content_weight = *v.content_weight;
    if (v.style_weight) o.style_weight = *v.style_weight;
    if (v.tv_weight) o.tv_weight = *v.tv_weight;
    if (v.colors) {  // replaces the command line's --colors / --original-colors
        o.original_colors = false;
        o.colors = *v.colors == "histogram"   ? color_mode::histogram
                   : *v.colors == "luminance" ? color_mode::luminance
                                              : color_mode::style;
    }
    const init_kind init = o.init;
    if (init == init_kind::image) o.init = init_kind::content;  // (its image comes with the run)
    try {
        validate_options(o, 1);
    } catch (const invalid_argument& e) {
        throw usage_error(j.origin + ": " + e.what());
    }
    o.init = init;
    return o;
}

}  // namespace nst::batch
