// Byte counts for people: the machine's physical memory, the default working-memory limit, and
// "8G" / "512MiB" / "1.5GB" parsing and formatting (binary units: 1 G = 1024^3 bytes).
#pragma once

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "../core/error.hpp"

namespace nst {

// Physical RAM in bytes, or 0 when the system does not say.
inline std::uint64_t physical_memory_bytes() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) return std::uint64_t(pages) * std::uint64_t(page);
#endif
    return 0;
}

// The limit stylize() applies when none is given: 3/4 of physical RAM (leaves room for the OS
// and other programs), or 8 GiB when the RAM size is unknown.
inline std::uint64_t default_memory_limit() {
    const std::uint64_t ram = physical_memory_bytes();
    return ram ? ram / 4 * 3 : (std::uint64_t(8) << 30);
}

// "1.5 GB", "640 MB", "12 KB", "100 B" (binary multiples, one decimal).
inline std::string format_bytes(std::uint64_t bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) v /= 1024.0, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

/*  Parses a byte count: a non-negative number with an optional unit K, M, G or T (also KB, KiB,
    ..., any case; binary multiples) or B. "8G" = 8 * 1024^3, "1.5GB", "4096".
    throws invalid_argument naming the text when it is not such a count. */
inline std::uint64_t parse_byte_size(const std::string& text) {
    const auto fail = [&] {
        return invalid_argument("not a memory size: '" + text + "' (expected e.g. 8G, 512M, 1.5GB)");
    };
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (...) {
        throw fail();
    }
    if (!(value >= 0) || !std::isfinite(value)) throw fail();
    std::string unit;
    for (std::size_t i = used; i < text.size(); ++i)
        if (!std::isspace(static_cast<unsigned char>(text[i])))
            unit += char(std::toupper(static_cast<unsigned char>(text[i])));
    double scale = 1;
    if (!unit.empty() && unit != "B") {
        const std::string rest = unit.substr(1);
        if (rest != "" && rest != "B" && rest != "IB") throw fail();
        switch (unit[0]) {
            case 'K': scale = 1024.0; break;
            case 'M': scale = 1024.0 * 1024; break;
            case 'G': scale = 1024.0 * 1024 * 1024; break;
            case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
            default: throw fail();
        }
    }
    const double bytes = value * scale;
    if (bytes > 1.8e19) throw fail();
    return std::uint64_t(bytes);
}

}  // namespace nst
