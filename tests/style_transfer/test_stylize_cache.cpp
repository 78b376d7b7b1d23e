// Tests of nst::stylize_cache (style_transfer/stylize_cache.hpp): its keys tell apart everything
// a style target depends on; stylize with a cache gives the same image as without, computing
// a style's targets once and reusing them; and a file read by stylize_weights into the cache is
// the one stylize then uses (the end-to-end parts skip without ../shared).
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

namespace stylize_cache_test {

nst::image pattern(std::size_t h, std::size_t w, int seed) {
    nst::image img({h, w, 3});
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
            for (std::size_t c = 0; c < 3; ++c) img(y, x, c) = float((x * 7 + y * 13 * (c + 1) + std::size_t(seed) * 31) % 256);
    return img;
}

std::string key_of(const nst::image& img, std::size_t h, const std::vector<std::string>& layers,
                   nst::pooling p = nst::pooling::average, nst::conv_precision precision = nst::conv_precision::fp32,
                   const std::string& weights = "w.h5") {
    return nst::style_target_key(img, h, 40, layers, p, precision, weights);
}

}  // namespace stylize_cache_test

using namespace stylize_cache_test;

TEST_CASE("stylize_cache: the style target key changes with pixels, size, layers, pooling, precision, weights",
          "[style_transfer][cache]") {
    const nst::image a = pattern(20, 30, 1);
    nst::image b = a;
    b(3, 4, 1) += 1;  // one pixel level
    const std::vector<std::string> layers{"relu1_1", "relu2_1"};
    const std::string base = key_of(a, 32, layers);
    CHECK(key_of(nst::image(a), 32, layers) == base);
    CHECK(key_of(b, 32, layers) != base);
    CHECK(key_of(a, 33, layers) != base);
    CHECK(key_of(a, 32, {"relu1_1"}) != base);
    CHECK(key_of(a, 32, {"relu2_1", "relu1_1"}) != base);
    CHECK(key_of(a, 32, layers, nst::pooling::max) != base);
    CHECK(key_of(a, 32, layers, nst::pooling::average, nst::conv_precision::bf16) != base);
    CHECK(key_of(a, 32, layers, nst::pooling::average, nst::conv_precision::fp32, "other.h5") != base);
}

TEST_CASE("stylize_cache: stored targets are returned, not recomputed, counts hits and misses", "[style_transfer][cache]") {
    nst::stylize_cache cache;
    int computed = 0;
    const auto make = [&] {
        ++computed;
        return std::vector<nst::tensor2<float>>{nst::tensor2<float>::from_shape({2, 2})};
    };
    CHECK(cache.style_targets<nst::vgg19<float>>("k", make).size() == 1);
    CHECK(cache.style_targets<nst::vgg19<float>>("k", make).size() == 1);
    CHECK(cache.style_targets<nst::vgg19<float>>("other", make).size() == 1);
    CHECK(cache.style_targets<nst::vgg19<float, nst::pooling::max>>("k", make).size() == 1);  // another network
    CHECK(computed == 3);
    CHECK(cache.style_target_hits() == 1);
    CHECK(cache.style_target_misses() == 3);
    cache.clear();
    cache.style_targets<nst::vgg19<float>>("k", make);
    CHECK(computed == 4);
}

TEST_CASE("stylize_cache: stylize with a cache gives the uncached image and reuses the network and targets",
          "[style_transfer][cache][data]") {
    const std::string data = nst::test::require_shared_data();
    const nst::image content = nst::load_image(data + "/images/tubingen.jpg");
    const nst::image style = nst::load_image(data + "/images/starry_night.jpg");
    const nst::image other_style = nst::load_image(data + "/images/the_scream.jpg");
    nst::stylize_options o;
    o.weights = nst::test::weights_path(data);
    o.size = 48;
    o.iterations = 3;
    o.threads = 1;
    const nst::stylize_result plain = nst::stylize(content, {style}, o);

    nst::stylize_cache cache;
    o.cache = &cache;
    const nst::stylize_result first = nst::stylize(content, {style}, o);
    const nst::stylize_result second = nst::stylize(content, {style}, o);
    CHECK(cache.style_target_misses() == 1);
    CHECK(cache.style_target_hits() == 1);
    for (const auto* r : {&first, &second}) {
        CHECK(nst::test::max_abs_diff(r->output, plain.output) < 1e-3f);
        CHECK(r->loss == Approx(plain.loss).epsilon(1e-6));
        CHECK(r->weights.sha256 == plain.weights.sha256);
        CHECK(r->weights.path == plain.weights.path);
    }
    nst::stylize(content, {other_style}, o);  // another style: computed
    o.size = 40;
    nst::stylize(content, {style}, o);  // another working size: computed
    CHECK(cache.style_target_misses() == 3);
    CHECK(cache.style_target_hits() == 1);
}

TEST_CASE("stylize_cache: stylize_weights reads the file once, stylize then uses that copy, not the file",
          "[style_transfer][cache][data]") {
    const std::string data = nst::test::require_shared_data();
    nst::test::temp_folder dir;
    const std::string link = dir / "weights.h5";
    std::filesystem::create_symlink(nst::test::weights_path(data), link);
    nst::stylize_options o;
    o.weights = link;
    o.size = 32;
    o.iterations = 2;
    o.threads = 1;
    nst::stylize_cache cache;
    o.cache = &cache;
    const auto first = nst::stylize_weights(o);
    CHECK(nst::stylize_weights(o) == first);  // the same copy
    CHECK(cache.weights_reads() == 1);

    std::filesystem::remove(link);  // stylize can now only use the cached copy
    nst::stylize_options uncached = o;
    uncached.cache = nullptr;
    REQUIRE_THROWS_AS(nst::stylize_weights(uncached), nst::io_error);
    const nst::image content = pattern(24, 32, 1), style = pattern(24, 32, 2);
    const nst::stylize_result r = nst::stylize(content, {style}, o);
    CHECK(r.iterations == 2);
    CHECK(r.weights.sha256 == first->info.sha256);
    CHECK(cache.weights_reads() == 1);
}
