// nst's tensor aliases draw their memory from the buffer pool; shape_string formats shapes for
// messages.
#include <array>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/tensor.hpp>

TEST_CASE("shape_string writes C x H x W, and 'scalar' for no dimensions", "[core][tensor]") {
    REQUIRE(nst::shape_string(std::array<std::size_t, 3>{3, 224, 10}) == "3 x 224 x 10");
    REQUIRE(nst::shape_string(std::vector<std::size_t>{7}) == "7");
    REQUIRE(nst::shape_string(std::vector<std::size_t>{}) == "scalar");
}

TEST_CASE("a large tensor's memory comes from the process-wide buffer pool and returns to it", "[core][tensor]") {
    nst::buffer_pool& pool = nst::buffer_pool::instance();
    const std::size_t before = pool.stats().in_use_bytes;
    const std::size_t bytes = 64 * 64 * 64 * sizeof(float);  // above the pool's small-block bound
    REQUIRE(bytes >= nst::buffer_pool::min_pooled_bytes);
    {
        auto t = nst::tensor3<float>::from_shape({64, 64, 64});
        REQUIRE(pool.stats().in_use_bytes >= before + bytes);
        REQUIRE(reinterpret_cast<std::uintptr_t>(t.data()) % nst::buffer_pool::alignment == 0);
    }
    REQUIRE(pool.stats().in_use_bytes == before);
}
