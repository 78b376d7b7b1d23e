// Strict readers of the JSON text the programs write (nst's recorded parameters, nst-batch's
// --report lines), for tests with file names that are not UTF-8: a well-formedness check of the
// bytes as UTF-8, Python's json on the bytes decoded strictly, and the recorded parameters taken
// out of a PNG's iTXt chunk.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace nst::test {

// Whether `bytes` is well-formed UTF-8 (the Unicode Standard's table 3-7): every sequence the
// shortest for its code point, none a surrogate (U+D800..U+DFFF) or above U+10FFFF.
inline bool well_formed_utf8(const std::string& bytes) {
    for (std::size_t i = 0; i < bytes.size();) {
        const auto b = [&](std::size_t k) { return std::uint32_t(static_cast<unsigned char>(bytes[k])); };
        const std::uint32_t lead = b(i);
        const std::size_t n = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > bytes.size()) return false;
        std::uint32_t cp = n == 1 ? lead : lead & (0x7Fu >> n);
        for (std::size_t k = 1; k < n; ++k) {
            if ((b(i + k) & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b(i + k) & 0x3F);
        }
        const std::uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

// The text of the iTXt chunk with `keyword` in the PNG file `path` (uncompressed, as nst writes
// it), or "" when there is none.
inline std::string png_itxt(const std::string& path, const std::string& keyword) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    const std::string png = s.str();
    for (std::size_t at = 8; at + 12 <= png.size();) {
        std::uint32_t length = 0;
        for (int k = 0; k < 4; ++k) length = (length << 8) | static_cast<unsigned char>(png[at + k]);
        const std::string type = png.substr(at + 4, 4), data = png.substr(at + 8, length);
        at += 12 + std::size_t(length);
        if (type != "iTXt" || data.compare(0, keyword.size() + 1, keyword + '\0') != 0) continue;
        std::size_t p = keyword.size() + 3;    // the keyword, its NUL, the compression flag and method
        p = data.find('\0', p) + 1;            // the language tag
        return data.substr(data.find('\0', p) + 1);  // the translated keyword, then the text
    }
    return "";
}

// What Python's json makes of the file `path` read as bytes and decoded as UTF-8 strictly: one
// JSON document, or (`lines`) one per line. Returns Python's output: "ok " and the documents as
// ASCII-only JSON (non-ASCII as \uXXXX escapes), or its error. Empty when there is no
// /usr/bin/python3.
inline std::string python_strict_json(const std::string& path, bool lines) {
    if (!std::filesystem::exists("/usr/bin/python3")) return "";
    const std::string script =
        "import json, sys\n"
        "text = open(sys.argv[1], 'rb').read().decode('utf-8')\n"
        "docs = [json.loads(l) for l in text.splitlines()] if sys.argv[2] == 'lines' else [json.loads(text)]\n"
        "print('ok', json.dumps(docs, ensure_ascii=True))\n";
    const std::string script_path = path + ".check.py";
    std::ofstream(script_path) << script;
    const std::string command = "/usr/bin/python3 '" + script_path + "' '" + path + "' " + (lines ? "lines" : "one") + " 2>&1";
    std::string out;
    if (std::FILE* p = popen(command.c_str(), "r")) {
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        pclose(p);
    }
    std::filesystem::remove(script_path);
    return out;
}

}  // namespace nst::test
