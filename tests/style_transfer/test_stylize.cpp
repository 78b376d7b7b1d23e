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

#include "io/pytorch_writer.hpp"
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

// The defaults are tuned at 512 px; size_invariant (the default) keeps their balance at 96 px.
nst::stylize_options small_options(nst::optimizer_kind optimizer, std::size_t iterations) {
    nst::stylize_options o;
    o.weights = inputs().weights;
    o.size = 96;
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

TEST_CASE("stylize on resolution levels: the image returned and shown is the one whose loss is reported",
          "[stylize][pyramid]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 8);
    o.pyramid_levels.reset();  // automatic: 2 levels at 96 x 72 (48 x 36, 24 x 18)
    nst::image last_shown;
    std::vector<double> losses;
    const auto r = nst::stylize(inputs().content, {inputs().style}, o, [&](const nst::stylize_progress& p) {
        losses.push_back(p.loss);
        last_shown = p.current_image();
    });
    REQUIRE(r.iterations == 8);
    REQUIRE(r.loss < 0.5 * losses.front());
    REQUIRE(r.loss == Approx(losses.back()));  // L-BFGS only accepts lower losses: the last is the best
    REQUIRE(nst::test::max_abs_diff(last_shown, r.output) == 0.0f);

    // The loss at the returned image, from a run that starts there and takes no step.
    nst::stylize_options at = o;
    at.iterations = 0;
    at.init = nst::init_kind::image;
    at.init_image = r.output;
    const double loss_there = nst::stylize(inputs().content, {inputs().style}, at).loss;
    REQUIRE(loss_there == Approx(r.loss).epsilon(1e-4));

    // The levels reach the optimizer: the same steps on the pixels end at another image.
    o.pyramid_levels = 0;
    const auto pixels = nst::stylize(inputs().content, {inputs().style}, o);
    INFO("levels: loss " << r.loss << ", pixels: " << pixels.loss);
    REQUIRE(nst::test::max_abs_diff(pixels.output, r.output) > 1.0f);
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

TEST_CASE("stylize: white masks change nothing, a content mask keeps the content only in its region", "[stylize]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 0);
    o.size = 64;
    o.threads = 1;
    const nst::image white = xt::ones<float>({24, 32, 3}) * 255.0f;
    const auto run = [&](bool masks) {
        nst::stylize_options m = o;
        if (masks) {
            m.style_masks = {white};
            m.content_mask = white;
        }
        return nst::stylize(inputs().content, {inputs().style}, m);
    };
    // The same terms (masked_style_loss with m = 1 is style_loss) up to float rounding: the
    // same loss at the start, and three Adam steps on the same image and loss (Adam, whose
    // steps follow the gradient smoothly: L-BFGS's line searches turn rounding differences
    // into different steps).
    REQUIRE(run(true).loss == Approx(run(false).loss).epsilon(1e-5));
    o = small_options(nst::optimizer_kind::adam, 3);
    o.size = 64;
    o.threads = 1;
    const auto plain = run(false), masked = run(true);
    INFO("largest pixel difference " << double(xt::amax(xt::abs(masked.output - plain.output))()));
    REQUIRE(masked.loss == Approx(plain.loss).epsilon(1e-4));
    REQUIRE(xt::allclose(masked.output, plain.output, 1e-3, 0.5));

    // Content reconstruction from noise (no style) at relu2_1, whose receptive field is a few
    // pixels, with the content loss on the left half only: the left half becomes the photo, the
    // right half keeps its noise (smoothed by the TV term alone).
    nst::image left = xt::zeros<float>({24, 32, 3});
    xt::view(left, xt::all(), xt::range(0, 16), xt::all()) = 255.0f;
    o.style_masks.clear();
    o.content_mask = left;
    o.content_layers = {"relu2_1"};
    o.style_layers.clear();
    o.init = nst::init_kind::random;
    o.iterations = 20;
    const auto half = nst::stylize(inputs().content, {inputs().style}, o);
    const nst::image photo = nst::resize_image(inputs().content, 48, 64);
    const auto drift = [&](std::size_t begin, std::size_t end) {
        return double(xt::mean(xt::abs(xt::view(half.output - photo, xt::all(), xt::range(begin, end), xt::all())))());
    };
    INFO("mean |output - photo|: left " << drift(0, 28) << ", right " << drift(32, 64));
    REQUIRE(drift(32, 64) > 1.5 * drift(0, 28));  // measured: 44.6 and 21.2
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

// Issue 11's check: the same weights as Keras .h5, as neural-style-pt's legacy .pth and as a zip
// .pth run with --weights-preprocessing caffe give the same loss log; torchvision's convention
// (the zip's own, from its name) runs too. The .pth files are written from the .h5 here.
TEST_CASE("stylize: .h5, legacy .pth and zip .pth (caffe) of the same weights give the same loss log",
          "[stylize][pytorch]") {
    const nst::test::temp_folder tmp;
    const auto tensors = nst::test::pth::vgg19_state_dict(nst::read_model_weights(inputs().weights));
    nst::test::pth::write_file(tmp / "vgg19-d01eb7cb.pth", nst::test::pth::legacy_file(tensors));
    nst::test::pth::write_file(tmp / "vgg19_zip.pth", nst::test::pth::zip_container(tensors));

    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 5);
    o.size = 64;
    history h5, legacy, zip, torchvision;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(h5));
    o.weights = tmp / "vgg19-d01eb7cb.pth";
    const auto legacy_result = nst::stylize(inputs().content, {inputs().style}, o, std::ref(legacy));
    CHECK(legacy_result.weights.path == o.weights);
    o.weights = tmp / "vgg19_zip.pth";
    o.weights_preprocessing = nst::input_convention::caffe;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(zip));
    REQUIRE(h5.loss.size() == 6);
    REQUIRE(legacy.loss.size() == h5.loss.size());
    REQUIRE(zip.loss.size() == h5.loss.size());
    for (std::size_t i = 0; i < h5.loss.size(); ++i) {
        CHECK(legacy.loss[i] == Approx(h5.loss[i]).epsilon(1e-5));
        CHECK(zip.loss[i] == Approx(h5.loss[i]).epsilon(1e-5));
    }

    o.weights_preprocessing.reset();  // the zip's name says torchvision
    const auto result = nst::stylize(inputs().content, {inputs().style}, o, std::ref(torchvision));
    CHECK(result.has_output());
    CHECK(torchvision.loss.back() < torchvision.loss.front());
    CHECK(torchvision.loss.front() != Approx(h5.loss.front()).epsilon(1e-3));
}

// The peers' knobs (issue 11 part 5): Keras layer names, normalised gradients, init noise,
// per-layer content weights and Adam's constants.

TEST_CASE("stylize: Keras layer names give exactly the run of the canonical names", "[stylize][peers]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 3);
    o.size = 48;
    history canonical, keras;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(canonical));
    o.content_layers = {"block4_conv2"};
    o.style_layers = {"block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"};
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(keras));
    REQUIRE(canonical.loss.size() == 4);
    REQUIRE(keras.loss == canonical.loss);
    REQUIRE(keras.content == canonical.content);
    REQUIRE(keras.style == canonical.style);
    o.style_layers = {"block1_pool"};  // pool1: a different run, still valid
    REQUIRE_NOTHROW(nst::stylize(inputs().content, {inputs().style}, o));
}

TEST_CASE("stylize: normalised gradients with L-BFGS still lower the (unnormalised) loss", "[stylize][peers]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 8);
    o.size = 64;
    o.normalize_gradients = true;
    o.content_weight = 5;  // neural-style's values for -normalize_gradients
    o.style_weight = 100;
    o.tv_weight = 1e-3;
    // neural-style's weights are for plain sums: size_invariant would scale the (unnormalised) TV
    // weight by (512/64)^2 here, and its gradient would then outweigh the normalised ones.
    o.size_invariant = false;
    history h;
    const auto result = nst::stylize(inputs().content, {inputs().style}, o, std::ref(h));
    INFO("reason " << nst::to_string(result.reason) << ", iterations " << result.iterations);
    REQUIRE(result.iterations == 8);
    for (std::size_t i = 1; i < h.loss.size(); ++i) CHECK(h.loss[i] < h.loss[i - 1]);
    CHECK(h.loss.back() < 0.5 * h.loss.front());
}

TEST_CASE("stylize: init noise blends the random start into the content start", "[stylize][peers]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 0);
    o.size = 48;
    o.seed = 5;
    const nst::image content_start = nst::stylize(inputs().content, {inputs().style}, o).output;
    o.init = nst::init_kind::random;
    const nst::image noise_start = nst::stylize(inputs().content, {inputs().style}, o).output;
    o.init = nst::init_kind::content;
    o.init_noise = 0.25;
    const nst::image blend = nst::stylize(inputs().content, {inputs().style}, o).output;
    REQUIRE(xt::allclose(blend, 0.75f * content_start + 0.25f * noise_start, 1e-5, 1e-3));
    o.init_noise = 1;
    REQUIRE(xt::allclose(nst::stylize(inputs().content, {inputs().style}, o).output, noise_start, 1e-5, 1e-3));
}

TEST_CASE("stylize: content layer weights replace the 1/K split", "[stylize][peers]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 0);
    o.size = 48;
    o.init = nst::init_kind::random;  // a start with content loss
    o.content_layers = {"relu4_2"};
    history one;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(one));
    o.content_layers = {"relu4_2", "relu2_2"};
    o.content_layer_weights = {1.0, 0.0};
    history weighted;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(weighted));
    REQUIRE(one.content[0] > 0);
    REQUIRE(weighted.content[0] == Approx(one.content[0]).epsilon(1e-6));
    o.content_layer_weights = {};
    history split;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(split));
    o.content_layer_weights = {0.5, 0.5};
    history halves;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(halves));
    REQUIRE(halves.content[0] == split.content[0]);
    REQUIRE(split.content[0] != Approx(one.content[0]).epsilon(1e-3));
}

TEST_CASE("stylize: Adam's betas and epsilon reach the optimizer", "[stylize][peers]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::adam, 2);
    o.size = 32;
    history standard, changed;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(standard));
    o.adam_beta1 = 0.5;
    o.adam_beta2 = 0.9;
    o.adam_epsilon = 1e-3;
    nst::stylize(inputs().content, {inputs().style}, o, std::ref(changed));
    REQUIRE(changed.loss[0] == standard.loss[0]);
    REQUIRE(changed.loss[2] != standard.loss[2]);
}

TEST_CASE("options_at_scale: the content weight and (from noise) layers below the output size, size-invariance",
          "[stylize][scales]") {
    nst::stylize_options o;
    o.size = 512;
    o.scales = {256, 512};
    o.content_weight = 3;
    o.tv_weight = 2;
    const double coarse = nst::coarse_content_factor(256, 512);
    REQUIRE(nst::detail::options_at_scale(o, 512).content_weight == 3.0);
    REQUIRE(nst::detail::options_at_scale(o, 512).tv_weight == 2.0);
    REQUIRE(nst::detail::options_at_scale(o, 256).size == 256);
    REQUIRE(nst::detail::options_at_scale(o, 256).content_weight == Approx(3.0 * coarse * 4.0));
    REQUIRE(nst::detail::options_at_scale(o, 256).tv_weight == Approx(2.0 * 4.0));
    o.size_invariant = false;
    REQUIRE(nst::detail::options_at_scale(o, 256).content_weight == Approx(3.0 * coarse));
    REQUIRE(nst::detail::options_at_scale(o, 256).tv_weight == 2.0);
    // The content layers: the output size's own from the content, a finer one added below it from noise.
    using layers = std::vector<std::string>;
    REQUIRE(nst::detail::options_at_scale(o, 256).content_layers == layers{"relu4_2"});
    o.init = nst::init_kind::random;
    REQUIRE(nst::detail::options_at_scale(o, 256).content_layers == layers{"relu4_2", "relu3_2"});
    REQUIRE(nst::detail::options_at_scale(o, 256).content_layer_weights == std::vector<double>{0.5, 0.5});
    REQUIRE(nst::detail::options_at_scale(o, 512).content_layers == layers{"relu4_2"});
}

TEST_CASE("stylize coarse-to-fine: every scale reports, counts run on, the output has the last size",
          "[stylize][scales]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 40);
    o.scales = {48, 96};
    const auto plan = nst::plan_scales(o);  // 48 px: 2 steps, 96 px: 39
    REQUIRE(plan.size() == 2);
    REQUIRE(plan[0].iterations >= 2);
    struct report {
        std::size_t iteration, iterations, size, scale, scales, evaluations, height;
        double loss, best, seconds;
    };
    std::vector<report> reports;
    const auto r = nst::stylize(inputs().content, {inputs().style}, o, [&](const nst::stylize_progress& p) {
        reports.push_back({p.iteration, p.iterations, p.size, p.scale, p.scales, p.evaluations, p.x.shape(1),
                           p.loss, p.best_loss, p.elapsed_seconds});
        REQUIRE(p.current_image().shape(1) == p.size);
    });
    const std::size_t first = plan[0].iterations, second = plan[1].iterations;
    REQUIRE(r.iterations == first + second);
    REQUIRE(reports.size() == first + 1 + second + 1);
    for (std::size_t i = 0; i < reports.size(); ++i) {
        const report& p = reports[i];
        const bool coarse = i <= first;
        INFO("report " << i);
        REQUIRE(p.iterations == first + second);
        REQUIRE(p.scales == 2);
        REQUIRE(p.scale == (coarse ? 0u : 1u));
        REQUIRE(p.size == (coarse ? 48u : 96u));
        REQUIRE(p.height == (coarse ? 36u : 72u));
        // The second scale's start repeats the first scale's last iteration number.
        REQUIRE(p.iteration == (coarse ? i : i - 1));
        if (i > 0) {
            REQUIRE(p.evaluations > reports[i - 1].evaluations);
            REQUIRE(p.seconds >= reports[i - 1].seconds);
        }
    }
    // The first step at 96 px starts from the 48 px run's last step (as long per pixel), not from
    // a unit step the line search would first have to grow (3 evaluations with one here).
    INFO("evaluations of the first step at 96 px");
    CHECK(reports[first + 2].evaluations - reports[first + 1].evaluations == 1);
    // The best image is the best at the last size, and has that size.
    double best = reports[first + 1].loss;
    for (std::size_t i = first + 1; i < reports.size(); ++i) best = std::min(best, reports[i].loss);
    REQUIRE(r.loss == Approx(best));
    REQUIRE(reports.back().best == Approx(best));
    REQUIRE(r.output.shape(0) == 72);
    REQUIRE(r.output.shape(1) == 96);
}

TEST_CASE("stylize coarse-to-fine stopped on a coarse scale returns its best, upsampled", "[stylize][scales]") {
    nst::stylize_options o = small_options(nst::optimizer_kind::lbfgs, 60);
    o.scales = {48, 96};
    REQUIRE(nst::plan_scales(o)[0].iterations > 3);  // 4 steps at 48 px
    std::vector<std::size_t> sizes;
    const auto r = nst::stylize(inputs().content, {inputs().style}, o, [&](const nst::stylize_progress& p) {
        sizes.push_back(p.size);
        return p.iteration < 3;
    });
    REQUIRE(r.reason == nst::stop_reason::stopped_by_callback);
    REQUIRE(r.iterations == 3);
    REQUIRE(sizes == std::vector<std::size_t>(4, 48));
    REQUIRE(r.output.shape(0) == 72);
    REQUIRE(r.output.shape(1) == 96);
}

TEST_CASE("stylize coarse-to-fine: a scale too small for the deepest layer is named, with or without steps",
          "[stylize][scales]") {
    const nst::image img = xt::zeros<float>({300, 400, 3});  // 20 x 15 at 20 px: relu5_1 needs 16 on both sides
    nst::stylize_options o;
    o.weights = "/nonexistent/weights.h5";  // never reached: the sizes are checked first
    o.size = 96;
    o.scales = {20, 96};
    for (const std::size_t budget : {20, 2}) {
        o.iterations = budget;
        // A budget of 2 gives the 20 px scale no steps: it is checked all the same.
        REQUIRE(nst::plan_scales(o).size() == (budget == 20 ? 2u : 1u));
        std::string what = "no error";
        try {
            nst::stylize(img, {img}, o);
        } catch (const nst::invalid_argument& e) {
            what = e.what();
        }
        INFO("budget " << budget);
        REQUIRE(what.find("at scale 20: content working size 20 x 15 is too small") == 0);
    }
}

namespace {

// style / content loss of the result of a short run at `size` (shallow layers keep 512 px cheap).
double style_content_ratio(std::size_t size, bool size_invariant) {
    nst::stylize_options o;
    o.weights = inputs().weights;
    o.size = size;
    o.size_invariant = size_invariant;
    o.iterations = 8;
    o.content_layers = {"relu3_1"};
    o.style_layers = {"relu1_1", "relu2_1", "relu3_1"};
    const nst::stylize_result r = nst::stylize(inputs().content, {inputs().style}, o);
    INFO("size " << size << ": style " << r.style_loss << ", content " << r.content_loss);
    REQUIRE(r.content_loss > 0);
    return r.style_loss / r.content_loss;
}

}  // namespace

TEST_CASE("size_invariant: the style/content balance at 128 px is that at 512 px", "[stylize][size_invariant]") {
    const double at_512 = style_content_ratio(512, true);  // the factor is 1 here: on = off
    const double at_128 = style_content_ratio(128, true);
    const double plain_128 = style_content_ratio(128, false);
    INFO("style/content at 512: " << at_512 << ", at 128: " << at_128 << " (plain sums: " << plain_128 << ")");
    REQUIRE(at_128 / at_512 <= 1.5);
    REQUIRE(at_512 / at_128 <= 1.5);
    // Without it the balance moves far (content sums are 16x smaller at 128 px).
    REQUIRE(plain_128 / at_512 > 3.0);
}
