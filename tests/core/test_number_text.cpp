// Numbers in messages (core/number_text.hpp): the shortest text that reads back as the value.
#include <cstdlib>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include <nst/core/number_text.hpp>

TEST_CASE("numbers in messages are the shortest text that reads back as the value", "[core][error]") {
    // std::to_string would print the first three as -0.000000, 1.000000 and 0.100000.
    CHECK(nst::number_text(-1e-9) == "-1e-09");
    CHECK(nst::number_text(1.0000001) == "1.0000001");
    CHECK(nst::number_text(0.1) == "0.1");
    CHECK(nst::number_text(0.1f) == "0.1");  // a float's own digits, not its double's 0.100000001
    CHECK(nst::number_text(300000.0f) == "300000");
    CHECK(nst::number_text(-2e12) == "-2000000000000");
    CHECK(nst::number_text(6.02214076e23) == "6.02214076e+23");
    CHECK(nst::number_text(std::numeric_limits<double>::quiet_NaN()) == "nan");
    CHECK(nst::number_text(-std::numeric_limits<double>::infinity()) == "-inf");
    for (const double v : {1.0 / 3.0, 2.0 / 3.0, 0.1 + 0.2, 6.02214076e23, 5e-324, 1.7976931348623157e308}) {
        const std::string text = nst::number_text(v);
        CAPTURE(text);
        CHECK(std::strtod(text.c_str(), nullptr) == v);
    }
}
