// conv3x3 (layers/conv3x3.hpp): forward against a plain direct convolution, backward against
// central finite differences (double precision, random points). The fast float kernels are
// compared with the reference path in test_conv3x3_kernels.cpp.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::layer_gradient_error;
using nst::test::random_tensor;
using nst::test::set_random_weights;
using nst::test::tolerance;

namespace {

// Direct 3x3 same-padded convolution, written as plainly as possible.
template <class T>
tensor3<T> reference_conv(const tensor3<T>& x, const tensor4<T>& w, const tensor1<T>& b) {
    const std::size_t ci_n = x.shape(0), h = x.shape(1), wd = x.shape(2), co_n = w.shape(0);
    tensor3<T> y = xt::zeros<T>({co_n, h, wd});
    for (std::size_t co = 0; co < co_n; ++co)
        for (std::size_t i = 0; i < h; ++i)
            for (std::size_t j = 0; j < wd; ++j) {
                double s = b(co);
                for (std::size_t ci = 0; ci < ci_n; ++ci)
                    for (int ky = 0; ky < 3; ++ky)
                        for (int kx = 0; kx < 3; ++kx) {
                            const long yy = long(i) + ky - 1, xx = long(j) + kx - 1;
                            if (yy < 0 || xx < 0 || yy >= long(h) || xx >= long(wd)) continue;
                            s += double(w(co, ci, ky, kx)) * x(ci, yy, xx);
                        }
                y(co, i, j) = T(s);
            }
    return y;
}

const std::vector<std::array<std::size_t, 2>> odd_sizes = {{1, 1}, {3, 5}, {7, 7}, {6, 17}, {18, 5}};

}  // namespace

TEST_CASE("conv3x3 forward equals direct convolution on odd sizes", "[layers][conv]") {
    std::mt19937 rng(1);
    for (auto [h, w] : odd_sizes) {
        conv3x3<double, 5, 7> conv;
        set_random_weights(conv, rng);
        const auto x = random_tensor<double, 3>({5, h, w}, rng);
        tensor3<double> y;
        conv.forward(x, y);
        CAPTURE(h, w);
        REQUIRE(xt::allclose(y, reference_conv(x, conv.weights(), conv.bias()), 1e-12, 1e-12));
    }
}

TEST_CASE("conv3x3 float forward matches double reference", "[layers][conv]") {
    std::mt19937 rng(2);
    conv3x3<float, 16, 8> conv;
    const auto wd = random_tensor<double, 4>({8, 16, 3, 3}, rng);
    const auto bd = random_tensor<double, 1>({8}, rng);
    conv.set_weights(xt::cast<float>(wd), xt::cast<float>(bd));
    const auto xd = random_tensor<double, 3>({16, 9, 13}, rng);
    tensor3<float> y;
    conv.forward(xt::cast<float>(xd), y);
    REQUIRE(xt::allclose(xt::cast<double>(y), reference_conv(xd, wd, bd), 1e-4, 1e-4));
}

TEST_CASE("conv3x3 backward matches finite differences", "[layers][conv][gradient]") {
    std::mt19937 rng(3);
    for (auto [h, w] : odd_sizes) {
        conv3x3<double, 3, 4> conv;
        set_random_weights(conv, rng);
        CAPTURE(h, w);
        REQUIRE(layer_gradient_error(conv, random_tensor<double, 3>({3, h, w}, rng), rng) <
                tolerance);
    }
}

TEST_CASE("conv3x3 without weights holds none and computes as zero weights would", "[layers][conv]") {
    std::mt19937 rng(4);
    conv3x3<float, 16, 8> conv;
    REQUIRE_FALSE(conv.has_weights());
    REQUIRE(conv.weights().size() == 0);  // nothing allocated until the weights are set
    REQUIRE(conv.bias().size() == 0);
    const auto x = random_tensor<float, 3>({16, 5, 7}, rng);
    tensor3<float> y = xt::ones<float>({8, 5, 7});
    conv.forward(x, y);
    REQUIRE((y.shape(0) == 8 && y.shape(1) == 5 && y.shape(2) == 7));
    REQUIRE(xt::all(xt::equal(y, 0.0f)));
    auto dy = random_tensor<float, 3>({8, 5, 7}, rng);
    const tensor3<float> dx = conv.backward(x, y, std::move(dy), {16, 5, 7});
    REQUIRE((dx.shape(0) == 16 && dx.shape(1) == 5 && dx.shape(2) == 7));
    REQUIRE(xt::all(xt::equal(dx, 0.0f)));

    set_random_weights(conv, rng);
    REQUIRE(conv.has_weights());
    conv.forward(x, y);
    REQUIRE(xt::any(xt::not_equal(y, 0.0f)));
}

TEST_CASE("conv3x3 backward refuses a gradient or input shape that does not fit (the layer contract)",
          "[layers][conv][errors]") {
    std::mt19937 rng(5);
    conv3x3<double, 3, 4> conv;
    set_random_weights(conv, rng);
    // The kernels read dy as Out x H x W and write dx as In x H x W of in_shape: a dy of other
    // H x W was read past its end, an in_shape of other channels written past dx's.
    REQUIRE_THROWS_WITH(conv.backward({}, {}, random_tensor<double, 3>({4, 5, 6}, rng), {3, 5, 7}),
                        Catch::Contains("expected gradient 4 x 5 x 7") && Catch::Contains("got 4 x 5 x 6"));
    REQUIRE_THROWS_WITH(conv.backward({}, {}, random_tensor<double, 3>({4, 5, 7}, rng), {2, 5, 7}),
                        Catch::Contains("input of 2 x 5 x 7") && Catch::Contains("3 channels"));
    REQUIRE(shape_of(conv.backward({}, {}, random_tensor<double, 3>({4, 5, 7}, rng), {3, 5, 7})) == shape3{3, 5, 7});
}
