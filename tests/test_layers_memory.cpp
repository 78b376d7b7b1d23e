// What the network keeps for the backward pass: compact saved state (ReLU bit masks) instead of
// whole outputs, outputs released once read, term gradients created only when the reverse pass
// reaches their layer. Each lean path is checked against the plain one (every output kept,
// every gradient injected up front) and the objective against finite differences.
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::gradient_error;
using nst::test::random_tensor;

namespace {

// Random values with exact zeros and tiny values of both signs mixed in: the mask must treat
// 0 as "not positive" and the smallest positive float as positive.
template <class T> tensor3<T> signed_values_with_zeros(const shape3& shape, std::mt19937& rng) {
    tensor3<T> t = random_tensor<T, 3>(shape, rng);
    T* p = t.data();
    for (std::size_t i = 0; i < t.size(); i += 7) p[i] = T(0);
    for (std::size_t i = 3; i < t.size(); i += 11) p[i] = std::numeric_limits<T>::denorm_min();
    for (std::size_t i = 5; i < t.size(); i += 13) p[i] = -std::numeric_limits<T>::denorm_min();
    return t;
}

template <class T> std::size_t bytes_of(const tensor3<T>& t) { return t.size() * sizeof(T); }

using max_net = sequential<conv3x3<double, 3, 4>, relu<double>, conv3x3<double, 4, 4>,
                           relu<double>, pool2x2<double, pooling::max>, conv3x3<double, 4, 6>,
                           relu<double>>;
using avg_net = sequential<conv3x3<double, 3, 4>, relu<double>, conv3x3<double, 4, 4>,
                           relu<double>, pool2x2<double, pooling::average>, conv3x3<double, 4, 6>,
                           relu<double>>;
const std::array<std::string, 7> names = {"c1", "r1", "c2", "r2", "p", "c3", "r3"};

// dx of sum_l <r_l, output_l> for the given layers, with every output kept (the plain path).
template <class Net>
tensor3<double> gradient_all_kept(Net& net, const tensor3<double>& x,
                                  const std::vector<std::pair<std::size_t, tensor3<double>>>& r) {
    net.keep_all();
    net.forward(x);
    for (const auto& [layer, g] : r) net.add_gradient(layer, g);
    return net.backward();
}

}  // namespace

TEST_CASE("positive_mask holds y > 0 for every element", "[layers][memory][relu]") {
    std::mt19937 rng(1);
    for (const shape3 shape :
         {shape3{1, 1, 1}, shape3{3, 5, 7}, shape3{2, 8, 8}, shape3{5, 9, 13}}) {
        const tensor3<float> y = signed_values_with_zeros<float>(shape, rng);
        positive_mask mask;
        mask.assign(y);
        REQUIRE(mask.shape() == shape);
        REQUIRE(mask.size() == y.size());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(mask.test(i) == (y.data()[i] > 0));
        // 1 bit per element (rounded up to 64-bit words), far below the float values.
        REQUIRE(mask.bytes() <= (y.size() + 63) / 64 * 8 + 64);
    }
    // Reassigning a smaller activation reuses the storage and forgets the old contents.
    positive_mask mask;
    mask.assign(tensor3<float>(xt::ones<float>({4, 16, 16})));
    const tensor3<float> small = -xt::ones<float>({1, 2, 3});
    mask.assign(small);
    REQUIRE(mask.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) REQUIRE_FALSE(mask.test(i));
}

TEST_CASE("relu backward from its mask equals backward from its output, bit for bit",
          "[layers][memory][relu]") {
    std::mt19937 rng(2);
    const relu<float> layer;
    for (const shape3 shape : {shape3{1, 1, 1}, shape3{3, 5, 7}, shape3{16, 64, 65}}) {
        const tensor3<float> x = signed_values_with_zeros<float>(shape, rng);
        tensor3<float> y;
        layer.forward(x, y);
        const tensor3<float> dy = random_tensor<float, 3>(shape, rng);
        const tensor3<float> from_output = layer.backward(x, y, tensor3<float>(dy), shape);
        positive_mask mask;
        layer.save_for_backward(y, mask);
        const tensor3<float> from_mask = layer.backward(mask, tensor3<float>(dy), shape);
        REQUIRE(from_mask.shape() == from_output.shape());
        for (std::size_t i = 0; i < dy.size(); ++i)
            REQUIRE(from_mask.data()[i] == from_output.data()[i]);
    }
    positive_mask mask;
    layer.save_for_backward(tensor3<float>(xt::ones<float>({2, 3, 4})), mask);
    tensor3<float> wrong = xt::ones<float>({2, 4, 3});
    REQUIRE_THROWS_AS(layer.backward(mask, std::move(wrong), shape3{2, 4, 3}), shape_error);
}

TEST_CASE("sequential keeps ReLU masks, not outputs, unless they are kept or needed whole",
          "[layers][memory][sequential]") {
    std::mt19937 rng(3);
    const auto x = random_tensor<double, 3>({3, 12, 10}, rng);
    const auto r3 = random_tensor<double, 3>({6, 6, 5}, rng);

    SECTION("average pooling: every unread relu output becomes a mask") {
        avg_net net(names);
        test::randomize_weights(net, rng);
        const tensor3<double> expected = gradient_all_kept(net, x, {{6, r3}});
        const std::size_t all_kept_bytes = net.held_bytes();

        net.keep_only({6});
        net.forward(x);
        // Held: the read output r3, plus masks of r1 and r2 (1 bit per element each).
        const std::size_t r1_bits = 4 * 12 * 10, r2_bits = 4 * 12 * 10;
        REQUIRE(net.held_bytes() <= bytes_of(net.output(6)) + (r1_bits + r2_bits) / 8 + 2 * 64);
        REQUIRE(net.held_bytes() < all_kept_bytes / 4);
        REQUIRE_THROWS_WITH(net.output("r1"), Catch::Contains("keep it"));
        net.add_gradient("r3", r3);
        REQUIRE(xt::allclose(net.backward(), expected, 1e-13, 1e-13));
    }
    SECTION("max pooling: the relu feeding the pool stays whole (the pool's backward reads it)") {
        max_net net(names);
        test::randomize_weights(net, rng);
        const tensor3<double> expected = gradient_all_kept(net, x, {{6, r3}});
        net.keep_only({6});
        net.forward(x);
        const std::size_t r2_bytes = 4 * 12 * 10 * sizeof(double);
        REQUIRE(net.held_bytes() >= bytes_of(net.output(6)) + r2_bytes);
        REQUIRE(net.held_bytes() <= bytes_of(net.output(6)) + r2_bytes + 4 * 12 * 10 / 8 + 64);
        net.add_gradient("r3", r3);
        REQUIRE(xt::allclose(net.backward(), expected, 1e-13, 1e-13));
    }
    SECTION("outputs asked for stay readable and serve as their own mask") {
        avg_net net(names);
        test::randomize_weights(net, rng);
        const auto r1 = random_tensor<double, 3>({4, 12, 10}, rng);
        const tensor3<double> expected = gradient_all_kept(net, x, {{1, r1}, {6, r3}});
        const tensor3<double> r1_all_kept = net.output("r1");
        net.keep_only({1, 6});
        net.forward(x);
        REQUIRE(xt::allclose(net.output("r1"), r1_all_kept, 0, 0));
        net.add_gradient("r1", r1);
        net.add_gradient("r3", r3);
        REQUIRE(xt::allclose(net.backward(), expected, 1e-13, 1e-13));
        REQUIRE(xt::allclose(net.output("r1"), r1_all_kept, 0, 0));  // still there after backward
    }
}

TEST_CASE("release_output frees a read output and keeps what backward needs",
          "[layers][memory][sequential]") {
    std::mt19937 rng(4);
    const auto x = random_tensor<double, 3>({3, 8, 9}, rng);
    const auto r1 = random_tensor<double, 3>({4, 8, 9}, rng);
    const auto r2 = random_tensor<double, 3>({4, 8, 9}, rng);
    const auto r3 = random_tensor<double, 3>({6, 4, 4}, rng);
    max_net net(names);
    test::randomize_weights(net, rng);
    const tensor3<double> expected = gradient_all_kept(net, x, {{1, r1}, {3, r2}, {6, r3}});

    net.keep_only({1, 3, 6});
    net.forward(x);
    const std::size_t before = net.held_bytes();
    net.release_output("r1");  // relu before a conv: becomes its mask
    REQUIRE_THROWS_WITH(net.output("r1"), Catch::Contains("released"));
    REQUIRE(net.held_bytes() < before - bytes_of(r1) / 2);
    net.release_output("r2");  // relu before the max pool: the pool needs it whole
    REQUIRE_NOTHROW(net.output("r2"));
    net.release_output("r2");  // releasing twice, or an absent output, is harmless
    net.release_output("c1");
    REQUIRE_THROWS_AS(net.release_output(7), invalid_argument);
    net.add_gradient("r1", r1);
    net.add_gradient("r2", r2);
    net.add_gradient("r3", r3);
    REQUIRE(xt::allclose(net.backward(), expected, 1e-13, 1e-13));

    net.forward(x);  // a new forward makes it readable again
    REQUIRE_NOTHROW(net.output("r1"));
}

TEST_CASE("backward(on_layer) reaches layers deepest first; gradients added there count",
          "[layers][memory][sequential]") {
    std::mt19937 rng(5);
    const auto x = random_tensor<double, 3>({3, 10, 8}, rng);
    const auto r1 = random_tensor<double, 3>({4, 10, 8}, rng);
    const auto r3 = random_tensor<double, 3>({6, 5, 4}, rng);
    const auto r3b = random_tensor<double, 3>({6, 5, 4}, rng);
    avg_net net(names);
    test::randomize_weights(net, rng);
    const tensor3<double> expected = gradient_all_kept(net, x, {{1, r1}, {6, r3}, {6, r3b}});

    net.keep_only({1, 6});
    net.forward(x);
    std::vector<std::size_t> reached;
    const tensor3<double> dx = net.backward([&](std::size_t layer) {
        reached.push_back(layer);
        if (layer == 6) {
            net.add_gradient(6, tensor3<double>(r3));  // moved in
            net.add_gradient(6, r3b);                  // accumulates
            net.release_output(6);
        }
        if (layer == 1) {
            net.add_gradient("r1", tensor3<double>(r1));
            net.release_output(1);
        }
    });
    REQUIRE(reached == std::vector<std::size_t>{6, 5, 4, 3, 2, 1, 0});
    REQUIRE(xt::allclose(dx, expected, 1e-13, 1e-13));

    // Truncated forward: only computed layers are reached; nothing injected gives zeros.
    net.forward(x, 3);
    reached.clear();
    const tensor3<double> zero = net.backward([&](std::size_t layer) { reached.push_back(layer); });
    REQUIRE(reached == std::vector<std::size_t>{3, 2, 1, 0});
    REQUIRE(xt::allclose(zero, xt::zeros<double>(x.shape()), 0, 0));
    // Moved-in gradients are shape-checked like copied ones.
    net.forward(x);
    tensor3<double> wrong = xt::ones<double>({6, 4, 5});
    REQUIRE_THROWS_AS(net.add_gradient(6, std::move(wrong)), shape_error);
}

TEST_CASE("objective: lazy per-layer terms give the eager gradient and pass finite differences",
          "[layers][memory][objective]") {
    std::mt19937 rng(6);
    const auto x0 = random_tensor<double, 3>({3, 8, 8}, rng);
    max_net net(names);
    test::randomize_weights(net, rng);
    net.keep_all();
    net.forward(random_tensor<double, 3>({3, 8, 8}, rng));
    const content_loss<double> content(net.output("r2"));
    const style_loss<double> style1(style_target(net.output("r1")));
    const style_loss<double> style3(style_target(net.output("r3")));

    objective<max_net> obj(net);
    obj.add("r2", 0.5, content, "content");
    obj.add("r1", 2.0, style1, "style");
    obj.add("r3", 3.0, style3, "style");
    obj.add("r1", 0.25, content_loss<double>(xt::zeros<double>({4, 8, 8})), "extra");
    obj.add_image_term(1e-2, total_variation_loss<double>(), "tv");
    tensor3<double> grad;
    const double loss = obj(x0, grad);

    // Eager: every output kept, every term evaluated, every gradient injected, then backward.
    net.keep_all();
    net.forward(x0);
    double eager = 0;
    tensor3<double> d;
    eager += 0.5 * content(net.output("r2"), d);
    net.add_gradient("r2", tensor3<double>(0.5 * d));
    eager += 2.0 * style1(net.output("r1"), d);
    net.add_gradient("r1", tensor3<double>(2.0 * d));
    eager += 3.0 * style3(net.output("r3"), d);
    net.add_gradient("r3", tensor3<double>(3.0 * d));
    eager += 0.25 * content_loss<double>(xt::zeros<double>({4, 8, 8}))(net.output("r1"), d);
    net.add_gradient("r1", tensor3<double>(0.25 * d));
    tensor3<double> eager_grad = net.backward();
    eager += 1e-2 * total_variation_loss<double>()(x0, d);
    eager_grad += 1e-2 * d;
    REQUIRE(loss == Approx(eager).epsilon(1e-12));
    REQUIRE(xt::allclose(grad, eager_grad, 1e-12, 1e-12));
    REQUIRE(obj.group_value("style") > 0);

    std::function<double(const tensor3<double>&)> f = [&](const tensor3<double>& x) {
        tensor3<double> unused;
        return obj(x, unused);
    };
    REQUIRE(gradient_error(f, x0, grad, 40, rng) < 1e-5);
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
