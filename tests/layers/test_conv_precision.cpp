// conv_precision (conv_precision.hpp, detail/conv3x3_bf16.hpp): the bf16 kernel computes exactly
// the float convolution of bf16-rounded inputs and weights (rounded here independently of the
// library) and stays within bf16 rounding of the fp32 convolution; a layer set to bf16 runs its
// backward pass in bf16 and its forward pass in fp32 (bf16_all: both); and a short stylisation
// with bf16 ends invisibly close to the fp32 one. Where the CPU or compile flags lack
// AVX512_BF16, the bf16 request runs in fp32 and the bf16-only tests are left out or skip.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "conv_cases.hpp"
#include "test_helpers.hpp"

using namespace nst;
using nst::test::conv_case;
using nst::test::relative_difference;

namespace {

// Peak signal-to-noise ratio of a against b, both 0..255 after clamping.
double psnr(const image& a, const image& b) {
    const auto diff = xt::clip(a, 0.0f, 255.0f) - xt::clip(b, 0.0f, 255.0f);
    const double mse = xt::mean(xt::square(xt::cast<double>(diff)))();
    return 10 * std::log10(255.0 * 255.0 / std::max(mse, 1e-30));
}

}  // namespace

TEST_CASE("bf16 requests run in bf16 exactly when the kernel is compiled in", "[conv][bf16]") {
    REQUIRE(conv_precision_in_use(conv_precision::fp32) == conv_precision::fp32);
    REQUIRE(conv_precision_in_use(conv_precision::bf16) ==
            (conv_bf16_available ? conv_precision::bf16 : conv_precision::fp32));
    // Which passes the settings put in bf16: bf16 only the backward one, bf16_all both.
    for (bool backward : {false, true}) {
        REQUIRE(pass_precision(conv_precision::fp32, backward) == conv_precision::fp32);
        REQUIRE(pass_precision(conv_precision::bf16_all, backward) == conv_precision::bf16);
    }
    REQUIRE(pass_precision(conv_precision::bf16, false) == conv_precision::fp32);
    REQUIRE(pass_precision(conv_precision::bf16, true) == conv_precision::bf16);

    conv3x3<float, 3, 4> layer;
    REQUIRE(layer.precision() == conv_precision::fp32);  // the default
    layer.set_precision(conv_precision::bf16);
    REQUIRE(layer.precision_in_use() == conv_precision_in_use(conv_precision::bf16));
    conv3x3<double, 3, 4> exact;  // double always runs on the fp32/BLAS path
    exact.set_precision(conv_precision::bf16);
    REQUIRE(exact.precision_in_use() == conv_precision::fp32);

    // A network sets every convolution; other networks keep theirs.
    vgg19<float> net, other;
    net.set_precision(conv_precision::bf16);
    std::size_t convs = 0;
    net.for_each_layer([&](const auto& l, std::size_t, const std::string&) {
        if constexpr (is_conv3x3_v<std::decay_t<decltype(l)>>) {
            REQUIRE(l.precision() == conv_precision::bf16);
            ++convs;
        }
    });
    other.for_each_layer([&](const auto& l, std::size_t, const std::string&) {
        if constexpr (is_conv3x3_v<std::decay_t<decltype(l)>>)
            REQUIRE(l.precision() == conv_precision::fp32);
    });
    REQUIRE(convs == 16);
}

#ifdef NST_CONV3X3_BF16

namespace {

// The engine's forward (with ReLU) or backward, with the direct kernel in `precision`.
std::vector<float> run(const conv_case& c, bool backward, conv_precision precision) {
    using engine = detail::conv3x3_engine<float>;
    std::vector<float> y((backward ? c.c_in : c.c_out) * c.h * c.w);
    if (backward)
        engine::backward(c.weights.data(), c.c_in, c.c_out, c.dy.data(), c.h, c.w, y.data(),
                         conv_algorithm::direct, precision);
    else
        engine::forward(c.weights.data(), c.c_in, c.c_out, c.x.data(), c.h, c.w, c.bias.data(),
                        true, y.data(), conv_algorithm::direct, precision);
    return y;
}

// bf16 against (a) fp32 on the rounded data: the same products, float sums in another order;
// (b) fp32 on the data itself: within bf16 rounding.
void require_bf16_agrees(const conv_case& c) {
    CAPTURE(c.c_in, c.c_out, c.h, c.w);
    const conv_case r = c.rounded();
    for (bool backward : {false, true}) {
        CAPTURE(backward);
        const auto bf16 = run(c, backward, conv_precision::bf16);
        CHECK(relative_difference(bf16, run(r, backward, conv_precision::fp32)) < 1e-5);
        CHECK(relative_difference(bf16, run(c, backward, conv_precision::fp32)) < 1e-2);
    }
}

}  // namespace

TEST_CASE("bf16 conv matches fp32 within bf16 rounding on VGG19 layer shapes", "[conv][bf16]") {
    std::mt19937 rng(51);
    const std::size_t shapes[][2] = {{3, 64},    {64, 64},   {64, 128},  {128, 128},
                                     {128, 256}, {256, 256}, {256, 512}, {512, 512}};
    for (const auto& s : shapes) require_bf16_agrees(conv_case(s[0], s[1], 12, 9, rng));
}

TEST_CASE("bf16 conv matches fp32 on odd sizes and channel counts", "[conv][bf16]") {
    std::mt19937 rng(52);
    const std::size_t sizes[][2] = {{1, 1}, {3, 5}, {7, 7}, {5, 17}, {4, 33},
                                    {2, 16}, {1, 47}, {9, 1}, {3, 48}, {2, 63}};
    for (const auto& s : sizes) {
        require_bf16_agrees(conv_case(5, 7, s[0], s[1], rng));  // odd: a zero partner channel
        require_bf16_agrees(conv_case(1, 3, s[0], s[1], rng));
        require_bf16_agrees(conv_case(38, 20, s[0], s[1], rng));
    }
    // Several bands and channel blocks.
    require_bf16_agrees(conv_case(70, 24, 61, 45, rng));
}

TEST_CASE("bf16 conv backward is the adjoint of its forward", "[conv][bf16]") {
    // <conv(x), dy> == <x, conv^T(dy)> for the rounded data, whose products are exact in float.
    std::mt19937 rng(53);
    conv_case c = conv_case(40, 24, 9, 11, rng).rounded();
    std::fill(c.bias.begin(), c.bias.end(), 0.0f);
    using engine = detail::conv3x3_engine<float>;
    std::vector<float> y(c.c_out * c.h * c.w), dx(c.c_in * c.h * c.w);
    engine::forward(c.weights.data(), c.c_in, c.c_out, c.x.data(), c.h, c.w, nullptr, false,
                    y.data(), conv_algorithm::direct, conv_precision::bf16);
    engine::backward(c.weights.data(), c.c_in, c.c_out, c.dy.data(), c.h, c.w, dx.data(),
                     conv_algorithm::direct, conv_precision::bf16);
    double lhs = 0, rhs = 0, scale = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        lhs += double(y[i]) * c.dy[i];
        scale += std::abs(double(y[i]) * c.dy[i]);
    }
    for (std::size_t i = 0; i < dx.size(); ++i) rhs += double(dx[i]) * c.x[i];
    REQUIRE(std::abs(lhs - rhs) < 1e-5 * scale);
}

TEST_CASE("a bf16 layer runs its backward pass in bf16 and its forward pass in fp32",
          "[conv][bf16]") {
    // 64 channels at 8 x 8: few tiles, so the bf16 passes run on the bf16 kernel (not Winograd).
    std::mt19937 rng(54);
    auto layer = [&](conv_precision p) {
        conv3x3<float, 64, 64> conv;
        std::mt19937 same(55);
        conv.set_weights(test::random_tensor<float, 4>({64, 64, 3, 3}, same, -0.05f, 0.05f),
                         test::random_tensor<float, 1>({64}, same));
        conv.set_precision(p);
        return conv;
    };
    const tensor3<float> x = test::random_tensor<float, 3>({64, 8, 8}, rng);
    const tensor3<float> dy = test::random_tensor<float, 3>({64, 8, 8}, rng);
    auto forward = [&](conv_precision p) {
        tensor3<float> y;
        layer(p).forward(x, y);
        return std::vector<float>(y.begin(), y.end());
    };
    auto backward = [&](conv_precision p) {
        const tensor3<float> dx = layer(p).backward(x, x, tensor3<float>(dy), {64, 8, 8});
        return std::vector<float>(dx.begin(), dx.end());
    };
    const auto y32 = forward(conv_precision::fp32), dx32 = backward(conv_precision::fp32);
    const auto y16 = forward(conv_precision::bf16_all), dx16 = backward(conv_precision::bf16_all);
    REQUIRE(forward(conv_precision::bf16) == y32);
    REQUIRE(backward(conv_precision::bf16) == dx16);
    // (and the bf16 passes really are bf16: within its rounding of fp32, not equal)
    CHECK(relative_difference(y16, y32) > 1e-6);
    CHECK(relative_difference(y16, y32) < 1e-2);
    CHECK(relative_difference(dx16, dx32) > 1e-6);
    CHECK(relative_difference(dx16, dx32) < 1e-2);
}

#endif

// Issue 8's criterion for bf16: a short L-BFGS run (128 px, 10 steps) ends within PSNR 40 dB
// and 1% loss of the fp32 run from the same start. Measured (2026-12-02, commit 96e6469, where
// conv4_x runs Winograd at 128 px): bf16 52.5 dB, loss ratio 0.9990; bf16_all 36.8 dB, 1.0055,
// which fails this test, as it should. Earlier (2026-11-30, conv4_x on the direct kernel): bf16
// 51.3 dB, 0.9986 (51.6 dB, 1.0007 with bf16 in the backward pass of every layer, Winograd ones
// included); fp32 with direct instead of Winograd convolutions 55.6 dB, 1.0001; bf16_all 27.6 dB,
// 1.038.
TEST_CASE("a short bf16 stylisation ends invisibly close to the fp32 one", "[bf16]") {
    if (!conv_bf16_available) test::skip("this build has no AVX512_BF16: bf16 runs in fp32");
    const std::string dir = test::require_shared_data();
    const image content = load_image(dir + "/images/tubingen.jpg");
    const image style = load_image(dir + "/images/starry_night.jpg");
    stylize_options o;
    o.weights = dir + "/weights/vgg19_imagenet_notop.h5";
    o.size = 128;
    o.iterations = 10;
    o.threads = 2;
    stylize_cache weights_once;  // (the second run reuses the weights read by the first)
    o.cache = &weights_once;
    const stylize_result fp32 = stylize(content, {style}, o);
    o.precision = conv_precision::bf16;
    const stylize_result bf16 = stylize(content, {style}, o);
    INFO("loss fp32 " << fp32.loss << ", bf16 " << bf16.loss << "; PSNR "
                      << psnr(bf16.output, fp32.output) << " dB");
    CHECK(std::abs(bf16.loss - fp32.loss) <= 0.01 * fp32.loss);
    CHECK(psnr(bf16.output, fp32.output) >= 40.0);
}

// Not run by default (hidden tag): how far short 128 px runs drift from fp32 under bf16,
// bf16_all, and a mere change of float summation order (1 thread instead of 2), after 5, 10 and
// 25 steps of L-BFGS and Adam. On L-BFGS, fp32 perturbations of the order of float rounding
// (another convolution algorithm, noise of 1e-4 pixel levels on the start) part by 40-43 dB after
// 15-20 steps with the loss 2-3% off at times: the optimizer, not bf16, limits how long a run
// stays close. Measured 2026-12-02 (commit 96e6469, Zen 5; the same on 5205edf, 2026-12-04),
// PSNR / loss ratio after 5, 10, 25 steps: L-BFGS bf16 67.9 / 1.0008, 52.5 / 0.9990,
// 40.7 / 0.9914; bf16_all 44.9 / 0.9944, 36.8 / 1.0055, 32.0 / 1.0138; 1 thread 80.4 / 1.0000,
// 58.9 / 1.0001, 40.5 / 1.0130. Adam bf16 55.8, 51.2, 46.2 dB (loss within 0.08%); bf16_all
// 31.8, 28.5, 25.9 dB; 1 thread 98.8, 72.9, 59.4 dB: Adam's early, nearly sign-sized steps make it
// more sensitive to gradient rounding than L-BFGS is at first. (2026-11-30, conv4_x at 128 px on
// the direct kernel: bf16_all 27.6 dB / 1.038 after 10 L-BFGS steps.)
TEST_CASE("bf16 stylisation drift against fp32 rounding drift", "[.bf16drift]") {
    const std::string dir = test::require_shared_data();
    const image content = load_image(dir + "/images/tubingen.jpg");
    const image style = load_image(dir + "/images/starry_night.jpg");
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    for (optimizer_kind optimizer : {optimizer_kind::lbfgs, optimizer_kind::adam}) {
        stylize_options o;
        o.weights = dir + "/weights/vgg19_imagenet_notop.h5";
        o.size = 128;
        o.iterations = 25;
        o.optimizer = optimizer;
        auto run = [&](conv_precision p, int threads) {
            std::vector<std::pair<image, double>> at;
            o.precision = p;
            o.threads = threads;
            stylize(content, {style}, o, [&](const stylize_progress& s) {
                if (s.iteration == 5 || s.iteration == 10 || s.iteration == 25)
                    at.emplace_back(s.current_image(), s.loss);
            });
            return at;
        };
        const auto base = run(conv_precision::fp32, 2), order = run(conv_precision::fp32, 1),
                   bf16 = run(conv_precision::bf16, 2), all = run(conv_precision::bf16_all, 2);
        for (std::size_t i = 0; i < base.size(); ++i)
            std::printf("%s after %s steps: PSNR bf16 %.1f dB, bf16_all %.1f dB, threads-1 fp32 "
                        "%.1f dB; loss ratio bf16 %.5f, bf16_all %.5f, threads-1 %.5f\n",
                        to_string(optimizer), i == 0 ? "5" : i == 1 ? "10" : "25",
                        psnr(bf16[i].first, base[i].first), psnr(all[i].first, base[i].first),
                        psnr(order[i].first, base[i].first), bf16[i].second / base[i].second,
                        all[i].second / base[i].second, order[i].second / base[i].second);
    }
    set_num_threads(2);
}
