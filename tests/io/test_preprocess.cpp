// VGG pre/post-processing (io/preprocess.hpp): BGR minus the ImageNet mean, and back.
#include <random>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::max_abs_diff;
using nst::test::random_image;

TEST_CASE("VGG input is BGR minus the ImageNet mean, and back", "[images]") {
    image red({1, 2, 3});
    red.fill(0.0f);
    red(0, 0, 0) = 255.0f;  // pure red
    red(0, 1, 2) = 10.0f;   // a little blue
    const tensor3<float> x = to_vgg_input<float>(red);
    REQUIRE(x.shape() == shape3{3, 1, 2});
    CHECK(x(0, 0, 0) == Approx(-103.939));         // B
    CHECK(x(1, 0, 0) == Approx(-116.779));         // G
    CHECK(x(2, 0, 0) == Approx(255.0 - 123.68));   // R
    CHECK(x(0, 0, 1) == Approx(10.0 - 103.939));
    CHECK(x(2, 0, 1) == Approx(-123.68));

    std::mt19937 rng(6);
    image img = random_image(5, 7, rng);
    img(0, 0, 0) = -20.0f;  // out-of-range values pass through unclamped
    img(4, 6, 2) = 300.5f;
    CHECK(max_abs_diff(from_vgg_input(to_vgg_input<float>(img)), img) <= 1e-4f);
    CHECK(max_abs_diff(from_vgg_input(to_vgg_input<double>(img)), img) <= 1e-5f);
    const tensor3<double> xd = to_vgg_input<double>(img);
    CHECK(xd(0, 4, 6) == Approx(300.5 - 103.939).epsilon(1e-12));  // blue is channel 0

    CHECK_THROWS_AS(to_vgg_input<float>(image({2, 2, 4})), shape_error);
    CHECK_THROWS_AS(from_vgg_input(tensor3<float>({4, 2, 2})), shape_error);
}

TEST_CASE("torchvision input is RGB/255 normalised by ImageNet's mean and sd, and back", "[images]") {
    image px({1, 1, 3});
    px(0, 0, 0) = 255.0f;  // R
    px(0, 0, 1) = 0.0f;    // G
    px(0, 0, 2) = 51.0f;   // B
    const tensor3<double> x = to_vgg_input<double>(px, input_convention::torchvision);
    CHECK(x(0, 0, 0) == Approx((1.0 - 0.485) / 0.229).epsilon(1e-12));  // R first
    CHECK(x(1, 0, 0) == Approx((0.0 - 0.456) / 0.224).epsilon(1e-12));
    CHECK(x(2, 0, 0) == Approx((0.2 - 0.406) / 0.225).epsilon(1e-12));
    const bool same_as_caffe = to_vgg_input<float>(px, input_convention::caffe) == to_vgg_input<float>(px);
    CHECK(same_as_caffe);

    std::mt19937 rng(7);
    const image img = random_image(4, 6, rng);
    CHECK(max_abs_diff(from_vgg_input(to_vgg_input<double>(img, input_convention::torchvision),
                                      input_convention::torchvision), img) <= 1e-9f);
    CHECK(max_abs_diff(from_vgg_input(to_vgg_input<float>(img, input_convention::caffe), input_convention::caffe),
                       img) <= 1e-4f);
    CHECK(pixel_level_in_input_units(input_convention::caffe) == 1.0);
    CHECK(pixel_level_in_input_units(input_convention::torchvision) == Approx(1.0 / (255 * 0.226)).epsilon(0.01));
    CHECK_THROWS_AS(to_vgg_input<float>(image({2, 2, 4}), input_convention::torchvision), shape_error);
    CHECK_THROWS_AS(from_vgg_input(tensor3<float>({4, 2, 2}), input_convention::torchvision), shape_error);
}

// conv1_1' = conv1_1 rewritten for torchvision input: W'(o, c) = 255 sd[c] W(o, 2 - c) (RGB vs
// BGR), b'(o) = b(o) + sum W(o, bgr) (255 mean[rgb] - caffe_mean[bgr]). Away from the border,
// where zero padding means different colours in the two conventions, both networks must compute
// the same features: the conventions are exact inverses of each other.
TEST_CASE("torchvision input through the converted conv1_1 gives Caffe's features in the interior", "[images]") {
    std::mt19937 rng(8);
    vgg19<double> caffe_net, torch_net;
    nst::test::randomize_weights(caffe_net, rng);
    nst::test::copy_weights(torch_net, caffe_net);
    torch_net.for_each_layer([&](auto& layer, std::size_t, const std::string& name) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (is_conv3x3_v<L>) {
            if (name != "conv1_1") return;
            tensor4<double> w = layer.weights();
            tensor1<double> b = layer.bias();
            const tensor4<double> caffe_w = w;
            for (std::size_t o = 0; o < w.shape(0); ++o)
                for (std::size_t c = 0; c < 3; ++c)
                    for (std::size_t k = 0; k < 9; ++k) {
                        const double wc = caffe_w(o, 2 - c, k / 3, k % 3);
                        w(o, c, k / 3, k % 3) = 255.0 * torchvision_sd_rgb[c] * wc;
                        b(o) += wc * (255.0 * torchvision_mean_rgb[c] - vgg_mean_bgr[2 - c]);
                    }
            layer.set_weights(std::move(w), std::move(b));
        }
    });
    const image img = random_image(32, 32, rng);
    const std::size_t layer = caffe_net.index_of("relu2_1");
    const tensor3<double> a = caffe_net.forward(to_vgg_input<double>(img, input_convention::caffe), layer);
    const tensor3<double> t = torch_net.forward(to_vgg_input<double>(img, input_convention::torchvision), layer);
    REQUIRE(a.shape() == t.shape());  // 128 x 16 x 16; the border's influence reaches 3 pixels in
    double worst = 0, scale = 0, border = 0;
    for (std::size_t c = 0; c < a.shape(0); ++c)
        for (std::size_t y = 0; y < 16; ++y)
            for (std::size_t x = 0; x < 16; ++x) {
                const double d = std::abs(a(c, y, x) - t(c, y, x));
                const bool interior = y >= 3 && y < 13 && x >= 3 && x < 13;
                (interior ? worst : border) = std::max(interior ? worst : border, d);
                scale = std::max(scale, std::abs(a(c, y, x)));
            }
    CHECK(worst <= 1e-9 * scale);
    CHECK(border > 1e-3 * scale);  // the border does differ: a fold into conv1_1 would not be exact
}
