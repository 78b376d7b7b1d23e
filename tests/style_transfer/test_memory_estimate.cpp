// The memory estimate of a stylize run (style_transfer/memory_estimate.hpp) and stylize's refusal
// of a working size whose estimate exceeds the limit (checked before the weights are read).
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

TEST_CASE("stylize refuses a working size whose memory estimate exceeds the limit", "[stylize]") {
    const nst::image img = xt::zeros<float>({300, 400, 3});
    nst::stylize_options o;
    o.weights = "/nonexistent/weights.h5";  // never reached: the check comes first
    o.size = 2048;
    // 256 MB: not even tiles fit (with 1 GB, tiled.hpp would take over instead of refusing).
    o.memory_limit = std::uint64_t(256) << 20;
    const std::uint64_t estimate = nst::estimate_stylize_memory(1536, 2048, {{1536, 2048}}, o);
    REQUIRE(estimate > o.memory_limit);
    REQUIRE(nst::plan_tiling(img, {img}, o).window == 0);
    std::string what;
    try {
        nst::stylize(img, {img}, o);
    } catch (const nst::invalid_argument& e) {
        what = e.what();
    }
    INFO(what);
    REQUIRE(what.find("2048 x 1536") != std::string::npos);
    REQUIRE(what.find(nst::format_bytes(estimate)) != std::string::npos);
    REQUIRE(what.find("256.0 MB") != std::string::npos);

    // The estimate grows with the pixel count, about linearly once activations dominate.
    const double e512 = double(nst::estimate_stylize_memory(512, 512, {{512, 512}}, o));
    const double e1024 = double(nst::estimate_stylize_memory(1024, 1024, {{1024, 1024}}, o));
    const double e2048 = double(nst::estimate_stylize_memory(2048, 2048, {{2048, 2048}}, o));
    REQUIRE(e1024 > e512);
    REQUIRE((e2048 - e1024) / (e1024 - e512) == Approx(4.0).epsilon(0.05));
}
