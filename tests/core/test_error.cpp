// nst's error types: one base to catch them all, each a std::runtime_error carrying its message.
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include <nst/core/error.hpp>

namespace {

template <class E> void check_error_type() {
    try {
        throw E("layer conv1_1: expected 3 channels");
    } catch (const nst::error& e) {
        REQUIRE(std::string(e.what()) == "layer conv1_1: expected 3 channels");
        REQUIRE(dynamic_cast<const E*>(&e) != nullptr);
        REQUIRE(dynamic_cast<const std::runtime_error*>(&e) != nullptr);
        return;
    }
    FAIL("not caught as nst::error");
}

}  // namespace

TEST_CASE("every nst error is an nst::error and a std::runtime_error with its message", "[core][error]") {
    check_error_type<nst::shape_error>();
    check_error_type<nst::invalid_argument>();
    check_error_type<nst::io_error>();
}
