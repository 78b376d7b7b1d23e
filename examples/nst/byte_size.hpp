// The `nst` program's --memory-limit values: "8G", "512MiB", "1.5GB", "4096" (binary units).
#pragma once

#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>

#include <nst/core/error.hpp>

namespace nst::cli {

/*  Parses a byte count: a non-negative number with an optional unit K, M, G or T (also KB, KiB,
    ..., any case; binary multiples) or B. "8G" = 8 * 1024^3, "1.5GB", "4096".
    throws invalid_argument naming the text when it is not such a count. */
inline std::uint64_t parse_byte_size(const std::string& text) {
    const auto fail = [&] {
        return invalid_argument("not a memory size: '" + text + "' (expected e.g. 8G, 512M, 1.5GB)");
    };
    // Decimal only: std::stod also reads hexadecimal ("0x10G" was 16 GiB); no unit has an x.
    if (text.find_first_of("xX") != std::string::npos) throw fail();
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

}  // namespace nst::cli
