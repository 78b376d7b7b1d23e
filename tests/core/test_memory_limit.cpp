// core/memory_limit.hpp: the machine's RAM, the default memory limit, byte counts for people.
#include <cstdint>

#include <catch2/catch.hpp>

#include <nst/core/memory_limit.hpp>

TEST_CASE("byte counts format with binary units, the machine's RAM is read", "[stylize]") {
    REQUIRE(nst::format_bytes(std::uint64_t(3) << 29) == "1.5 GB");
    REQUIRE(nst::format_bytes(100) == "100 B");
    // /proc/meminfo exists on the Linux machines the tests run on: a plausible RAM size.
    const std::uint64_t ram = nst::physical_memory_bytes();
    REQUIRE(ram >= (std::uint64_t(256) << 20));
    REQUIRE(nst::default_memory_limit() == ram / 4 * 3);
}
