// Counts and sizes from a small example program's command line, refused with the argument's name
// when they are not whole numbers in range: std::stoul alone reads "-5" as a huge number and
// "12abc" as 12, and throws "stoul" for "abc".
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

inline std::size_t whole_number_argument(const char* text, const char* name, std::size_t min, std::size_t max) {
    const std::string s = text;
    const bool digits = !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
    const unsigned long long value = digits ? std::stoull(s) : 0;
    if (!digits || value < min || value > max)
        throw std::invalid_argument(std::string(name) + " must be a whole number from " + std::to_string(min) +
                                    " to " + std::to_string(max) + ", got '" + s + "'");
    return std::size_t(value);
}
