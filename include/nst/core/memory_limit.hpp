// How much memory the library may plan to use: the machine's physical RAM, the default working
// memory limit of nst::stylize, and byte counts formatted for its error messages.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// Physical RAM in bytes, read from /proc/meminfo ("MemTotal: N kB"); 0 where the system does
// not say (no /proc, or an unexpected format).
inline std::uint64_t physical_memory_bytes() {
    std::ifstream meminfo("/proc/meminfo");
    std::string line;
    while (std::getline(meminfo, line)) {
        std::istringstream fields(line);
        std::string key, unit;
        std::uint64_t amount = 0;
        if (!(fields >> key >> amount >> unit) || key != "MemTotal:") continue;
        return unit == "kB" ? amount * 1024 : 0;
    }
    return 0;
}

// The limit stylize() applies when none is given: 3/4 of physical RAM (leaves room for the OS
// and other programs), or 8 GiB when the RAM size is unknown.
inline std::uint64_t default_memory_limit() {
    const std::uint64_t ram = physical_memory_bytes();
    return ram ? ram / 4 * 3 : (std::uint64_t(8) << 30);
}

// "1.5 GB", "640 MB", "12 KB", "100 B" (binary multiples: 1 GB = 1024^3 bytes, one decimal).
inline std::string format_bytes(std::uint64_t bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) v /= 1024.0, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
