// End-to-end tests of nst::stylize (style_transfer/stylize.hpp) on the shared data (tubingen.jpg
// + starry_night.jpg and the shared VGG19 weights) at small sizes; each test skips (exit 77) when
// ../shared is absent.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
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

TEST_CASE("stylize: two calls on two threads give exactly the images of the same calls one after the other",
          "[stylize][threads]") {
    // Two different runs (optimizer, pooling, init, style, size), each on 2 threads, so the calls
    // share nothing but the process: the buffer pool, kernel scratch, HDF5, OpenBLAS.
    nst::stylize_options a = small_options(nst::optimizer_kind::lbfgs, 3);
    a.size = 48;
    a.threads = 2;
    nst::stylize_options b = small_options(nst::optimizer_kind::adam, 3);
    b.size = 40;
    b.threads = 2;
    b.pooling_mode = nst::pooling::max;
    b.init = nst::init_kind::random;
    b.seed = 11;
    const auto run_a = [&] { return nst::stylize(inputs().content, {inputs().style}, a); };
    const auto run_b = [&] { return nst::stylize(inputs().second_style, {inputs().content}, b); };
    const nst::stylize_result first = run_a();
    const nst::stylize_result second = run_b();

    nst::stylize_result together_a, together_b;
    std::exception_ptr failure_a, failure_b;
    std::thread ta([&] {
        try {
            together_a = run_a();
        } catch (...) {
            failure_a = std::current_exception();
        }
    });
    std::thread tb([&] {
        try {
            together_b = run_b();
        } catch (...) {
            failure_b = std::current_exception();
        }
    });
    ta.join();
    tb.join();
    if (failure_a) std::rethrow_exception(failure_a);
    if (failure_b) std::rethrow_exception(failure_b);

    REQUIRE(first.output.shape() == together_a.output.shape());
    REQUIRE(second.output.shape() == together_b.output.shape());
    // Bit for bit: every pixel and every loss equal, not merely close.
    REQUIRE(xt::all(xt::equal(first.output, together_a.output)));
    REQUIRE(xt::all(xt::equal(second.output, together_b.output)));
    REQUIRE(first.loss == together_a.loss);
    REQUIRE(second.loss == together_b.loss);
    REQUIRE(first.evaluations == together_a.evaluations);
    REQUIRE_FALSE(xt::allclose(first.output, nst::resize_image(inputs().content, 36, 48)));  // it did work
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
