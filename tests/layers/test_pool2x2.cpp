// pool2x2 (layers/pool2x2.hpp): forward by hand, backward against finite differences and against
// a plain reference that writes every input cell (dropped odd rows and columns included); average
// pooling fused with the ReLU before it against the two done one after the other.
#include <cmath>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::layer_gradient_error;
using nst::test::random_tensor;
using nst::test::tolerance;

TEST_CASE("pooling forward and backward", "[layers][pool][gradient]") {
    std::mt19937 rng(5);
    for (auto [h, w] : std::vector<std::array<std::size_t, 2>>{{2, 2}, {4, 6}, {5, 7}, {9, 4}}) {
        CAPTURE(h, w);
        const auto x = random_tensor<double, 3>({3, h, w}, rng);
        REQUIRE(layer_gradient_error(pool2x2<double, pooling::average>(), x, rng) < tolerance);
        REQUIRE(layer_gradient_error(pool2x2<double, pooling::max>(), x, rng) < tolerance);

        tensor3<double> avg, mx;
        pool2x2<double, pooling::average>().forward(x, avg);
        pool2x2<double, pooling::max>().forward(x, mx);
        REQUIRE(shape_of(avg) == shape3{3, h / 2, w / 2});
        const double a = x(1, 0, 0), b = x(1, 0, 1), c = x(1, 1, 0), d = x(1, 1, 1);
        REQUIRE(avg(1, 0, 0) == Approx((a + b + c + d) / 4));
        REQUIRE(mx(1, 0, 0) == std::max({a, b, c, d}));
    }
    tensor3<double> y;
    const tensor3<double> too_small = xt::zeros<double>({2, 1, 5});
    const pool2x2<double, pooling::max> max_pool;
    REQUIRE_THROWS_AS(max_pool.forward(too_small, y), shape_error);
}

TEST_CASE("pool backward writes every input cell, dropped odd rows and columns included",
          "[layers][memory][pool]") {
    // Plain reference: zeros, then each window's share (average) or its first maximum (max).
    const auto reference = [](const tensor3<double>& x, const tensor3<double>& dy, bool average) {
        tensor3<double> dx = xt::zeros<double>(x.shape());
        for (std::size_t c = 0; c < dy.shape(0); ++c)
            for (std::size_t i = 0; i < dy.shape(1); ++i)
                for (std::size_t j = 0; j < dy.shape(2); ++j) {
                    std::size_t bi = 2 * i, bj = 2 * j;
                    for (std::size_t a = 0; a < 2; ++a)
                        for (std::size_t b = 0; b < 2; ++b) {
                            if (average) dx(c, 2 * i + a, 2 * j + b) = dy(c, i, j) / 4;
                            else if (x(c, 2 * i + a, 2 * j + b) > x(c, bi, bj))
                                bi = 2 * i + a, bj = 2 * j + b;
                        }
                    if (!average) dx(c, bi, bj) = dy(c, i, j);
                }
        return dx;
    };
    std::mt19937 rng(7);
    for (const shape3 shape :
         {shape3{2, 5, 7}, shape3{3, 4, 9}, shape3{1, 7, 4}, shape3{2, 6, 6}}) {
        const tensor3<double> x = random_tensor<double, 3>(shape, rng);
        const tensor3<double> dy =
            random_tensor<double, 3>({shape[0], shape[1] / 2, shape[2] / 2}, rng);
        for (int round = 0; round < 3; ++round) {
            // Freed memory full of NaN, likely handed out again for dx.
            { tensor3<double> poison = xt::empty<double>(shape); poison.fill(std::nan("")); }
            const tensor3<double> avg =
                pool2x2<double, pooling::average>().backward(x, {}, tensor3<double>(dy), shape);
            REQUIRE(xt::allclose(avg, reference(x, dy, true), 0, 0));
            { tensor3<double> poison = xt::empty<double>(shape); poison.fill(std::nan("")); }
            const tensor3<double> mx =
                pool2x2<double, pooling::max>().backward(x, {}, tensor3<double>(dy), shape);
            REQUIRE(xt::allclose(mx, reference(x, dy, false), 0, 0));
        }
    }
}

TEMPLATE_TEST_CASE("average pooling records its input's ReLU mask and applies it in backward",
                   "[layers][pool][relu]", float, double) {
    using T = TestType;
    const nst::test::thread_count three(3);
    std::mt19937 rng(21);
    const pool2x2<T, pooling::average> pool;
    const relu<T> activation;
    // Odd sizes (the dropped row and column still get their bits), rows that split words, and
    // one above the size where the loops run in parallel.
    for (const shape3 shape : {shape3{1, 2, 2}, shape3{3, 5, 7}, shape3{2, 9, 12}, shape3{5, 131, 101}}) {
        CAPTURE(shape[0], shape[1], shape[2]);
        tensor3<T> x;
        activation.forward(random_tensor<T, 3>(shape, rng), x);  // a ReLU's output: zeros too
        tensor3<T> y, y_recording;
        pool.forward(x, y);
        positive_mask mask, expected_mask;
        expected_mask.assign(x);
        pool.forward_recording(x, y_recording, mask);
        REQUIRE(xt::all(xt::equal(y_recording, y)));
        REQUIRE(mask.shape() == shape);
        for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(mask.test(i) == expected_mask.test(i));

        const auto dy = random_tensor<T, 3>(pool2x2<T, pooling::average>::output_shape(shape), rng);
        const tensor3<T> expected =
            activation.backward(expected_mask, pool.backward(x, y, tensor3<T>(dy), shape), shape);
        const tensor3<T> fused = pool.backward_through_relu(mask, tensor3<T>(dy), shape);
        REQUIRE(xt::all(xt::equal(fused, expected)));
    }
    positive_mask mask;
    mask.assign(tensor3<T>(xt::ones<T>({2, 4, 4})));
    REQUIRE_THROWS_AS(pool.backward_through_relu(mask, tensor3<T>(xt::ones<T>({2, 2, 3})), shape3{2, 4, 6}),
                      shape_error);
}

TEST_CASE("max-pool backward refuses an input that is not of in_shape (the layer contract)", "[layers][pool][errors]") {
    std::mt19937 rng(9);
    const pool2x2<double, pooling::max> pool;
    const tensor3<double> dy = random_tensor<double, 3>({2, 3, 3}, rng);
    // Max reads x as in_shape to find each window's maximum: a wider x was read with the wrong
    // row length, an empty one (as conv3x3's backward accepts) past its end.
    REQUIRE_THROWS_WITH(pool.backward(random_tensor<double, 3>({2, 6, 8}, rng), {}, tensor3<double>(dy), {2, 6, 6}),
                        Catch::Contains("maxpool2x2 backward") && Catch::Contains("expected input 2 x 6 x 6") &&
                            Catch::Contains("got 2 x 6 x 8"));
    REQUIRE_THROWS_AS(pool.backward({}, {}, tensor3<double>(dy), {2, 6, 6}), shape_error);
    REQUIRE(shape_of(pool.backward(random_tensor<double, 3>({2, 6, 6}, rng), {}, tensor3<double>(dy), {2, 6, 6})) ==
            shape3{2, 6, 6});
    // Average pooling does not read x: an empty one is fine.
    REQUIRE(shape_of(pool2x2<double, pooling::average>().backward({}, {}, tensor3<double>(dy), {2, 6, 6})) ==
            shape3{2, 6, 6});
}
