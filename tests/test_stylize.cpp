// End-to-end tests of nst::stylize on the shared data (tubingen.jpg + starry_night.jpg and the
// shared VGG19 weights) at small sizes; each test skips (exit 77) when ../shared is absent.
// Option validation, original colours and the memory check do not need the data.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

namespace {

struct shared_inputs {
    nst::image content, style, second_style;
    std::string weights;
};

const shared_inputs& inputs() {
    static const shared_inputs data = [] {
        const std::string dir = nst::test::require_shared_data();
        return shared_inputs{nst::load_image(dir + "/images/tubingen.jpg"),
                             nst::load_image(dir + "/images/starry_night.jpg"),
                             nst::load_image(dir + "/images/the_scream.jpg"),
                             dir + "/weights/vgg19_imagenet_notop.h5"};
    }();
    return data;
}

// The defaults are tuned at 512 px. The content loss is a sum over activations, so it grows with
// the pixel count while the (Gram-normalised) style loss does not: the same balance at 96 px
// needs the content weight times (512/96)^2.
nst::stylize_options small_options(nst::optimizer_kind optimizer, std::size_t iterations) {
    nst::stylize_options o;
    o.weights = inputs().weights;
    o.size = 96;
    o.content_weight *= (512.0 / 96.0) * (512.0 / 96.0);
    o.iterations = iterations;
    o.optimizer = optimizer;
    return o;
}

struct history {
    std::vector<nst::stylize_progress> reports;  // x / current_image are invalid afterwards
    std::vector<double> loss, content, style, tv;
    void operator()(const nst::stylize_progress& p) {
        loss.push_back(p.loss);
        content.push_back(p.content_loss);
        style.push_back(p.style_loss);
        tv.push_back(p.tv_loss);
    }
};

// Content loss (relu4_2, weighted as in `o`) of the style image itself against the content: the
// value an output that kept nothing of the photo would have. Measured as the starting loss of a
// run initialised with the style image.
double content_loss_of_style_image(nst::stylize_options o) {
    o.iterations = 0;
    o.init = nst::init_kind::image;
    o.init_image = inputs().style;
    history h;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(h));
    REQUIRE(h.content.size() == 1);
    return h.content[0];
}

void check_style_transfer(nst::optimizer_kind optimizer, std::size_t iterations) {
    const nst::stylize_options o = small_options(optimizer, iterations);
    history h;
    const nst::stylize_result r = nst::stylize(inputs().content, {inputs().style}, o, std::ref(h));

    REQUIRE(h.loss.size() == r.iterations + 1);
    REQUIRE(r.iterations == iterations);
    // Parts add up to the total at every report.
    for (std::size_t i = 0; i < h.loss.size(); ++i)
        REQUIRE(h.content[i] + h.style[i] + h.tv[i] == Approx(h.loss[i]).epsilon(1e-4));

    // The style loss of the returned image fell by at least 90% of its start...
    INFO("style loss " << h.style.front() << " -> " << r.style_loss);
    REQUIRE(h.content.front() == 0.0);  // started from the content image
    REQUIRE(r.style_loss <= 0.1 * h.style.front());
    // ...while the content term stayed bounded: at most 3/4 of the content loss of the painting
    // itself (the output stays clearly closer to the photo than the painting is; measured:
    // about 0.6 with both optimizers).
    const double painting = content_loss_of_style_image(o);
    INFO("content loss " << r.content_loss << ", painting's own " << painting);
    REQUIRE(r.content_loss > 0.0);
    REQUIRE(r.content_loss <= 0.75 * painting);

    // The result is the best image seen, and it has the working size (content 384 x 512 -> 72 x 96).
    REQUIRE(r.loss == Approx(*std::min_element(h.loss.begin(), h.loss.end())));
    REQUIRE(r.output.shape(0) == 72);
    REQUIRE(r.output.shape(1) == 96);
    REQUIRE(r.output.shape(2) == 3);

    // Saved as PNG, it reads back as a valid image of that size.
    const std::string png = (std::filesystem::temp_directory_path() /
                             ("nst_test_stylize_" + std::string(nst::to_string(optimizer)) + ".png")).string();
    nst::save_image(r.output, png);
    const nst::image back = nst::load_image(png);
    std::filesystem::remove(png);
    REQUIRE(back.shape(0) == 72);
    REQUIRE(back.shape(1) == 96);
    REQUIRE(xt::amax(xt::abs(back - xt::clip(r.output, 0.0f, 255.0f)))() <= 0.5f + 1e-3f);
}

}  // namespace

TEST_CASE("stylize with L-BFGS: style loss falls by 90%, content stays bounded, valid PNG", "[stylize]") {
    check_style_transfer(nst::optimizer_kind::lbfgs, 20);
}

TEST_CASE("stylize with Adam: style loss falls by 90%, content stays bounded, valid PNG", "[stylize]") {
    check_style_transfer(nst::optimizer_kind::adam, 40);
}

TEST_CASE("stylize: a callback returning false stops the run and the best image is kept", "[stylize]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::adam, 50);
    std::vector<double> losses;
    std::size_t images_seen = 0;
    const auto r = nst::stylize(inputs().content, {inputs().style}, o, [&](const nst::stylize_progress& p) {
        losses.push_back(p.loss);
        REQUIRE(p.iterations == 50);
        REQUIRE(p.best_loss == Approx(*std::min_element(losses.begin(), losses.end())));
        const nst::image current = p.current_image();
        REQUIRE(current.shape(0) == 72);
        ++images_seen;
        return p.iteration < 4;
    });
    REQUIRE(r.reason == nst::stop_reason::stopped_by_callback);
    REQUIRE(r.iterations == 4);
    REQUIRE(losses.size() == 5);
    REQUIRE(images_seen == 5);
    REQUIRE(r.loss == Approx(*std::min_element(losses.begin(), losses.end())));
}

TEST_CASE("stylize: blend weights (1, 0) give exactly the single-style result", "[stylize]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 5);
    o.size = 64;
    const auto single = nst::stylize(inputs().content, {inputs().style}, o);
    o.style_blend = {1.0, 0.0};
    const auto blended = nst::stylize(inputs().content, {inputs().style, inputs().second_style}, o);
    REQUIRE(xt::allclose(single.output, blended.output, 1e-5, 1e-3));
    // A real blend differs.
    o.style_blend = {0.5, 0.5};
    const auto mixed = nst::stylize(inputs().content, {inputs().style, inputs().second_style}, o);
    REQUIRE_FALSE(xt::allclose(single.output, mixed.output, 1e-3, 1.0));
}

TEST_CASE("stylize: every init mode, max pooling and original colours run", "[stylize]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 3);
    o.size = 64;
    o.pooling_mode = nst::pooling::max;
    o.init = nst::init_kind::random;
    o.seed = 7;
    const auto a = nst::stylize(inputs().content, {inputs().style}, o);
    const auto b = nst::stylize(inputs().content, {inputs().style}, o);
    REQUIRE(xt::allclose(a.output, b.output));  // same seed, same result
    o.seed = 8;
    const auto c = nst::stylize(inputs().content, {inputs().style}, o);
    REQUIRE_FALSE(xt::allclose(a.output, c.output));

    o.init = nst::init_kind::image;
    o.init_image = inputs().second_style;
    o.iterations = 0;
    o.original_colors = false;
    const auto start = nst::stylize(inputs().content, {inputs().style}, o);
    // With no iterations the result is the init image at the working size.
    const nst::image expected = nst::resize_image(inputs().second_style, 48, 64);
    REQUIRE(xt::allclose(start.output, expected, 1e-4, 1e-2));
}

TEST_CASE("scoped_threads sets OpenMP's and OpenBLAS's thread counts and restores the caller's",
          "[stylize][threads]") {
    const int openmp = nst::num_threads(), blas = nst::blas_num_threads();
    {
        const nst::scoped_threads guard(openmp + 1);
        REQUIRE(nst::num_threads() == openmp + 1);
        if (blas > 0) REQUIRE(nst::blas_num_threads() == openmp + 1);
        {
            const nst::scoped_threads inner(1);
            REQUIRE(nst::num_threads() == 1);
            if (blas > 0) REQUIRE(nst::blas_num_threads() == 1);
        }
        REQUIRE(nst::num_threads() == openmp + 1);
        if (blas > 0) REQUIRE(nst::blas_num_threads() == openmp + 1);
        const nst::scoped_threads unchanged(0);
        REQUIRE(nst::num_threads() == openmp + 1);
    }
    REQUIRE(nst::num_threads() == openmp);
    REQUIRE(nst::blas_num_threads() == blas);
}

TEST_CASE("stylize with threads = 1 runs on one thread and leaves the caller's thread counts",
          "[stylize][threads]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 2);
    o.size = 64;
    o.threads = 1;
    const nst::scoped_threads caller(2);  // the caller's choice, not the call's
    const bool openblas = nst::blas_num_threads() > 0;
    if (openblas) REQUIRE(nst::blas_num_threads() == 2);
    std::vector<int> openmp_during, blas_during;
    nst::stylize(inputs().content, {inputs().style}, o, [&](const nst::stylize_progress&) {
        openmp_during.push_back(nst::num_threads());
        blas_during.push_back(nst::blas_num_threads());
    });
    REQUIRE(openmp_during == std::vector<int>(3, 1));
    if (openblas) REQUIRE(blas_during == std::vector<int>(3, 1));
    REQUIRE(nst::num_threads() == 2);
    if (openblas) REQUIRE(nst::blas_num_threads() == 2);
}

TEST_CASE("keep_original_colors keeps the luminance of the result and the chroma of the content",
          "[stylize]") {
    nst::image stylized = xt::zeros<float>({2, 3, 3});
    nst::image content = xt::zeros<float>({2, 3, 3});
    for (std::size_t i = 0; i < stylized.size(); ++i) {
        stylized.data()[i] = float((i * 37) % 256);
        content.data()[i] = float((i * 91 + 13) % 256);
    }
    const nst::image out = nst::keep_original_colors(stylized, content);
    for (std::size_t y = 0; y < 2; ++y)
        for (std::size_t x = 0; x < 3; ++x) {
            // ITU-R BT.601 luma and (unscaled) colour differences, computed independently.
            auto luma = [&](const nst::image& im) { return 0.299 * im(y, x, 0) + 0.587 * im(y, x, 1) + 0.114 * im(y, x, 2); };
            auto blue_diff = [&](const nst::image& im) { return im(y, x, 2) - luma(im); };
            auto red_diff = [&](const nst::image& im) { return im(y, x, 0) - luma(im); };
            REQUIRE(luma(out) == Approx(luma(stylized)).margin(1e-3));
            REQUIRE(blue_diff(out) == Approx(blue_diff(content)).margin(1e-3));
            REQUIRE(red_diff(out) == Approx(red_diff(content)).margin(1e-3));
        }
    nst::image wrong = xt::zeros<float>({3, 3, 3});
    REQUIRE_THROWS_AS(nst::keep_original_colors(stylized, wrong), nst::shape_error);
}

TEST_CASE("stylize options are validated with messages naming the problem", "[stylize]") {
    const nst::image img = xt::zeros<float>({32, 32, 3});
    auto message = [&](const nst::stylize_options& o, std::size_t styles) {
        try {
            nst::validate_options(o, styles);
        } catch (const nst::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    nst::stylize_options o;
    REQUIRE(message(o, 1) == "no error");
    REQUIRE(message(o, 0).find("style image") != std::string::npos);
    o.style_layers = {"relu1_1", "relu9_9"};
    REQUIRE(message(o, 1).find("relu9_9") != std::string::npos);
    o = nst::stylize_options{};
    o.content_layers = {"conv4_2x"};
    REQUIRE(message(o, 1).find("conv4_2x") != std::string::npos);
    o = nst::stylize_options{};
    o.style_blend = {0.7, 0.3};
    REQUIRE(message(o, 2) == "no error");
    REQUIRE(message(o, 3).find("2 weights for 3 style images") != std::string::npos);
    o.style_blend = {0, 0};
    REQUIRE(message(o, 2).find("zero") != std::string::npos);
    o = nst::stylize_options{};
    o.style_layer_weights = {1, 2};
    REQUIRE(message(o, 1).find("2 style layer weights for 5 style layers") != std::string::npos);
    o = nst::stylize_options{};
    o.size = 8;
    REQUIRE(message(o, 1).find("size") != std::string::npos);
    o = nst::stylize_options{};
    o.init = nst::init_kind::image;
    REQUIRE(message(o, 1).find("init image") != std::string::npos);

    // stylize itself validates before touching the weights (none are given here).
    o = nst::stylize_options{};
    o.weights = "/nonexistent/weights.h5";
    o.content_layers = {"nope"};
    REQUIRE_THROWS_AS(nst::stylize(img, {img}, o), nst::invalid_argument);
}

TEST_CASE("stylize refuses a working size whose memory estimate exceeds the limit", "[stylize]") {
    const nst::image img = xt::zeros<float>({300, 400, 3});
    nst::stylize_options o;
    o.weights = "/nonexistent/weights.h5";  // never reached: the check comes first
    o.size = 2048;
    o.memory_limit = std::uint64_t(1) << 30;
    const std::uint64_t estimate = nst::estimate_stylize_memory(1536, 2048, {{1536, 2048}}, o);
    REQUIRE(estimate > o.memory_limit);
    std::string what;
    try {
        nst::stylize(img, {img}, o);
    } catch (const nst::invalid_argument& e) {
        what = e.what();
    }
    INFO(what);
    REQUIRE(what.find("2048 x 1536") != std::string::npos);
    REQUIRE(what.find(nst::format_bytes(estimate)) != std::string::npos);
    REQUIRE(what.find("1.0 GB") != std::string::npos);

    // The estimate grows with the pixel count, about linearly once activations dominate.
    const double e512 = double(nst::estimate_stylize_memory(512, 512, {{512, 512}}, o));
    const double e1024 = double(nst::estimate_stylize_memory(1024, 1024, {{1024, 1024}}, o));
    const double e2048 = double(nst::estimate_stylize_memory(2048, 2048, {{2048, 2048}}, o));
    REQUIRE(e1024 > e512);
    REQUIRE((e2048 - e1024) / (e1024 - e512) == Approx(4.0).epsilon(0.05));
}

TEST_CASE("byte counts format with binary units; the machine's RAM is read", "[stylize]") {
    REQUIRE(nst::format_bytes(std::uint64_t(3) << 29) == "1.5 GB");
    REQUIRE(nst::format_bytes(100) == "100 B");
    // /proc/meminfo exists on the Linux machines the tests run on: a plausible RAM size.
    const std::uint64_t ram = nst::physical_memory_bytes();
    REQUIRE(ram >= (std::uint64_t(256) << 20));
    REQUIRE(nst::default_memory_limit() == ram / 4 * 3);
}
