// Whole numbers from a command line (counts, sizes, seeds): digits only, within a range. std::stoul
// and CLI11 read "-5" as a huge number and "12abc" as 12 (--iterations -5 ran to convergence and
// exited 0; a teaching program aborted on "abc"). nst's flags (nst/options.hpp, as a CLI11 check)
// and the teaching programs (whole_number_argument: they need no CLI11) read them here.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

// Empty when `text` is a whole number from min to max, else what is wrong with it.
inline std::string whole_number_problem(const std::string& text, std::uint64_t min = 0,
                                        std::uint64_t max = UINT64_MAX) {
    const std::string range = max != UINT64_MAX ? " from " + std::to_string(min) + " to " + std::to_string(max)
                              : min > 0         ? " >= " + std::to_string(min)
                                                : "";
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        return "expected a whole number" + range + ", got '" + text + "'";
    errno = 0;
    const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE && max == UINT64_MAX)
        return "got '" + text + "', more than the largest count " + std::to_string(UINT64_MAX);
    if (errno == ERANGE || v < min || v > max) return "expected a whole number" + range + ", got '" + text + "'";
    return {};
}

// The argument `text`, called `name` in the message. throws: std::invalid_argument
// "<name>: expected a whole number from <min> to <max>, got '<text>'".
inline std::size_t whole_number_argument(const char* text, const char* name, std::size_t min, std::size_t max) {
    if (const std::string problem = whole_number_problem(text, min, max); !problem.empty())
        throw std::invalid_argument(std::string(name) + ": " + problem);
    return std::size_t(std::strtoull(text, nullptr, 10));
}
