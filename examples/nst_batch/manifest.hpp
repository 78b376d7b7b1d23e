// nst-batch's --manifest: a CSV file whose rows are jobs (content, style, optional output and
// per-job options), read into nst::batch::job. Apart from opening the file, the reading touches
// no file system and needs neither the library's stylisation nor the command line's parser, so
// tests/fuzz/fuzz_batch_manifest.cpp feeds it any bytes.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <istream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "../nst/output_paths.hpp"
#include "../nst/usage_error.hpp"
#include "job.hpp"

namespace nst::batch {

using nst::cli::usage_error;

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
inline std::vector<std::string> split_csv_line(const std::string& line, const std::string& where) {
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

/*  The next line of `in` into `line`, without its end: LF, CRLF or a CR alone (the line ends of
    Excel's "Macintosh" CSV, which getline read as one line: the whole file as a header).
    returns: false at the end of the input, with nothing left to read. */
inline bool read_line(std::istream& in, std::string& line) {
    line.clear();
    for (int c = in.get(); c != std::char_traits<char>::eof(); c = in.get()) {
        if (c == '\n') return true;
        if (c == '\r') {
            if (in.peek() == '\n') in.get();
            return true;
        }
        line += char(c);
    }
    return !line.empty();
}

}  // namespace detail

/*  The jobs of a manifest read from `in`; `path` is the file's, for its folder and messages.
    Its first line names the columns: content and style (required), output and the per-job
    options (optional, any order). Input paths are relative to the manifest's
    folder, outputs to output_dir; an empty output cell means <content stem>__<style stem>.png.
    Blank lines (also rows of empty cells) and lines starting with # (after spaces) are skipped;
    lines end in LF, CRLF or CR.
    throws: usage_error naming the file, line and column; for an empty content or style cell, a
    column named twice (which cell would count?), a NUL byte and a manifest without jobs. */
inline std::vector<job> parse_manifest(std::istream& in, const std::string& path, const std::string& output_dir) {
    const std::filesystem::path folder = nst::cli::detail::folder_of(path);
    std::string line;
    std::vector<std::string> columns;
    std::vector<job> jobs;
    for (std::size_t number = 1; detail::read_line(in, line); ++number) {
        const std::string where = path + " line " + std::to_string(number);
        // Spreadsheets saving "CSV UTF-8" (Excel) start the file with a byte order mark.
        if (number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
        const std::size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        // The file system reads a path up to a NUL byte ("x.jpg\0.png" wrote x.jpg, unchecked).
        if (line.find('\0') != std::string::npos)
            throw usage_error(where + ": a NUL byte (a binary or UTF-16 file? save the manifest as UTF-8 CSV)");
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

/*  The manifest file's jobs, as parse_manifest reads them.
    throws: usage_error naming the file when it is a directory or cannot be read. */
inline std::vector<job> read_manifest(const std::string& path, const std::string& output_dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw usage_error("--manifest '" + path + "' is a directory");
    std::ifstream in(path);
    if (!in) throw usage_error("--manifest '" + path + "': cannot be read");
    return parse_manifest(in, path, output_dir);
}

}  // namespace nst::batch
