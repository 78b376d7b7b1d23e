// The memory estimate of a stylize run (style_transfer/memory_estimate.hpp) and stylize's refusal
// of a working size whose estimate exceeds the limit (checked before the weights are read).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

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
    const auto refusal = [&]() -> std::string {
        try {
            nst::stylize(img, {img}, o);
        } catch (const nst::invalid_argument& e) {
            return e.what();
        }
        return "(not refused)";
    };
    const std::string what = refusal();
    INFO(what);
    REQUIRE(what.find("2048 x 1536") != std::string::npos);
    REQUIRE(what.find(nst::format_bytes(estimate)) != std::string::npos);
    REQUIRE(what.find("256.0 MB") != std::string::npos);

    // A style scale that makes the style images larger than the content: they are named.
    o.size = 64;
    o.style_scale = 40.0;
    const std::string styles_too_large = refusal();
    INFO(styles_too_large);
    REQUIRE(styles_too_large.find("working size 64 x 48 (style image 1 at 2560 x 1920) needs about") !=
            std::string::npos);
    REQUIRE(styles_too_large.find("lower the size or the style scale, or raise the memory limit") !=
            std::string::npos);
    o.size = 2048;
    o.style_scale = 1.0;

    // The estimate grows with the pixel count, about linearly once activations dominate.
    const double e512 = double(nst::estimate_stylize_memory(512, 512, {{512, 512}}, o));
    const double e1024 = double(nst::estimate_stylize_memory(1024, 1024, {{1024, 1024}}, o));
    const double e2048 = double(nst::estimate_stylize_memory(2048, 2048, {{2048, 2048}}, o));
    REQUIRE(e1024 > e512);
    REQUIRE((e2048 - e1024) / (e1024 - e512) == Approx(4.0).epsilon(0.05));
}

TEST_CASE("the memory estimate counts style and content masks", "[stylize][masks]") {
    const nst::image mask = xt::ones<float>({384, 512, 3}) * 255.0f;
    nst::stylize_options o;
    o.threads = 1;
    const std::vector<std::array<std::size_t, 2>> styles{{384, 512}, {384, 512}};
    const std::uint64_t plain = nst::estimate_stylize_memory(384, 512, styles, o);

    // Two style masks: at least each style's region at the working size and, per style layer, the
    // region pooled to it (sums over relu1_1..relu5_1 of H x W / 4^k) and the two masked copies of
    // relu1_1's 64 x 384 x 512 activations.
    o.style_masks = {mask, mask};
    const std::uint64_t styled = nst::estimate_stylize_memory(384, 512, styles, o);
    const double pixels = 384.0 * 512.0;
    const double pooled = pixels * (1 + 1.0 / 4 + 1.0 / 16 + 1.0 / 64 + 1.0 / 256);
    REQUIRE(double(styled - plain) >= (2 * pixels + 2 * pooled + 2 * 64 * pixels) * sizeof(float));
    // A style without a mask still gets a region (all ones) once any style has one.
    o.style_masks = {mask, nst::image()};
    REQUIRE(nst::estimate_stylize_memory(384, 512, styles, o) == styled);

    // A content mask: the mask at the working size and at relu4_2's 48 x 64.
    o.style_masks.clear();
    o.content_mask = mask;
    const std::uint64_t masked_content = nst::estimate_stylize_memory(384, 512, styles, o);
    REQUIRE(double(masked_content - plain) >= (pixels + 48 * 64) * sizeof(float));
    REQUIRE(masked_content < styled);
}
