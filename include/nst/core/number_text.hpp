// Numbers as messages show them: the shortest text that reads back as the value. std::to_string
// prints six decimals, so a refused 1e-9 read "got -0.000000" and a refused 1.0000001 "must be in
// [0, 1], got 1.000000": the message contradicted itself.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>

namespace nst {

// The fewest significant digits (digits10 .. max_digits10 of T) that read back as v: 0.1f -> "0.1",
// 1e-9 -> "1e-09", 2.5 -> "2.5", NaN -> "nan".
template <class T> std::string number_text(T v) {
    static_assert(std::is_floating_point_v<T>, "number_text formats floating-point values");
    char text[40];
    for (int digits = std::numeric_limits<T>::digits10; digits <= std::numeric_limits<T>::max_digits10; ++digits) {
        std::snprintf(text, sizeof text, "%.*g", digits, double(v));
        if (T(std::strtod(text, nullptr)) == v) break;
    }
    return text;
}

}  // namespace nst
