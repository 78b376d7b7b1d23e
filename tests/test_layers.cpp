// Layers, Gram matrix, losses and the composed network: forward against plain reference code,
// backward against central finite differences (double precision, random points).
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::gradient_error;
using nst::test::random_tensor;
using nst::test::test_layer;

namespace {

constexpr double tolerance = 1e-5;  // relative error allowed for every gradient check

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

// Checks layer.backward against finite differences of L(x) = sum(r * layer(x)).
template <class Layer>
double layer_gradient_error(const Layer& layer, const tensor3<double>& x0, std::mt19937& rng) {
    tensor3<double> y;
    layer.forward(x0, y);
    const tensor3<double> r = random_tensor<double, 3>(shape_of(y), rng);
    tensor3<double> dy = r;
    const tensor3<double> dx = layer.backward(x0, y, std::move(dy), shape_of(x0));
    REQUIRE(dx.shape() == x0.shape());
    std::function<double(const tensor3<double>&)> f = [&](const tensor3<double>& x) {
        tensor3<double> out;
        layer.forward(x, out);
        return double(xt::sum(out * r)());
    };
    return gradient_error(f, x0, dx, 0, rng);
}

const std::vector<std::array<std::size_t, 2>> odd_sizes = {{1, 1}, {3, 5}, {7, 7}, {6, 17}, {18, 5}};

}  // namespace

TEST_CASE("conv3x3 forward equals direct convolution on odd sizes", "[layers][conv]") {
    std::mt19937 rng(1);
    for (auto [h, w] : odd_sizes) {
        conv3x3<double, 5, 7> conv;
        conv.set_weights(random_tensor<double, 4>({7, 5, 3, 3}, rng),
                         random_tensor<double, 1>({7}, rng));
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
        conv.set_weights(random_tensor<double, 4>({4, 3, 3, 3}, rng),
                         random_tensor<double, 1>({4}, rng));
        CAPTURE(h, w);
        REQUIRE(layer_gradient_error(conv, random_tensor<double, 3>({3, h, w}, rng), rng) <
                tolerance);
    }
}

TEST_CASE("relu backward matches finite differences", "[layers][gradient]") {
    std::mt19937 rng(4);
    REQUIRE(layer_gradient_error(relu<double>(), random_tensor<double, 3>({3, 6, 7}, rng), rng) <
            tolerance);
}

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

TEST_CASE("gram matrix equals F F^T and its backward matches finite differences",
          "[loss][gram][gradient]") {
    std::mt19937 rng(6);
    const auto f = random_tensor<double, 3>({5, 4, 3}, rng);
    const tensor2<double> fm = xt::reshape_view(f, {5, 12});
    tensor2<double> expected = xt::zeros<double>({5, 5});
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            for (std::size_t k = 0; k < 12; ++k) expected(i, j) += fm(i, k) * fm(j, k) / 3.0;
    REQUIRE(xt::allclose(gram(f, 3.0), expected, 1e-12, 1e-12));

    const auto r = random_tensor<double, 2>({5, 5}, rng);  // not symmetric on purpose
    std::function<double(const tensor3<double>&)> loss = [&](const tensor3<double>& x) {
        return double(xt::sum(gram(x, 3.0) * r)());
    };
    REQUIRE(gradient_error(loss, f, gram_backward(f, r, 3.0), 0, rng) < tolerance);
    REQUIRE_THROWS_AS(gram(tensor3<double>()), shape_error);
}

// F F^T / scale and (dG + dG^T) F / scale as plain loops, accumulated in double.
template <class T> tensor2<double> reference_gram(const tensor3<T>& f, double scale) {
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    tensor2<double> g = xt::zeros<double>({c, c});
    for (std::size_t i = 0; i < c; ++i)
        for (std::size_t j = 0; j < c; ++j)
            for (std::size_t k = 0; k < m; ++k)
                g(i, j) += double(f.data()[i * m + k]) * double(f.data()[j * m + k]) / scale;
    return g;
}
template <class T>
tensor3<double> reference_gram_backward(const tensor3<T>& f, const tensor2<T>& dg, double scale) {
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    tensor3<double> df = xt::zeros<double>(f.shape());
    for (std::size_t i = 0; i < c; ++i)
        for (std::size_t j = 0; j < c; ++j)
            for (std::size_t k = 0; k < m; ++k)
                df.data()[i * m + k] +=
                    (double(dg(i, j)) + double(dg(j, i))) * double(f.data()[j * m + k]) / scale;
    return df;
}

TEMPLATE_TEST_CASE("blocked gram and gram_backward equal plain products on odd shapes",
                   "[loss][gram]", float, double) {
    using T = TestType;
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
    // Three threads split M unevenly (when M allows several shares); restored afterwards.
    struct threads_guard {
        int before = num_threads();
        ~threads_guard() { set_num_threads(before); }
    } guard;
    set_num_threads(3);
    std::mt19937 rng(16);
    const std::array<std::array<std::size_t, 3>, 6> shapes{
        {{1, 1, 1}, {5, 1, 3}, {3, 1, 40}, {37, 11, 13}, {70, 3, 331}, {129, 17, 1}}};
    for (const auto& s : shapes) {
        CAPTURE(s[0], s[1], s[2]);
        const auto f = random_tensor<T, 3>(s, rng);
        const double scale = double(s[1] * s[2]);
        const tensor2<T> g = gram(f, T(scale));
        REQUIRE(xt::allclose(g, reference_gram(f, scale), tol, tol));
        REQUIRE(xt::all(xt::equal(g, xt::transpose(g))));

        const auto dg = random_tensor<T, 2>({s[0], s[0]}, rng);  // not symmetric on purpose
        const tensor3<double> expected = reference_gram_backward(f, dg, scale);
        REQUIRE(xt::allclose(gram_backward(f, dg, T(scale)), expected, tol, tol));
        tensor3<T> into = xt::full_like(f, T(7));  // right shape: overwritten in place
        const T* storage = into.data();
        gram_backward(f, dg, T(scale), into);
        REQUIRE(into.data() == storage);
        REQUIRE(xt::allclose(into, expected, tol, tol));
        tensor3<T> resized = xt::ones<T>({2, 2, 2});  // wrong shape: resized
        gram_backward(f, dg, T(scale), resized);
        REQUIRE(xt::allclose(resized, expected, tol, tol));
    }
    REQUIRE_THROWS_AS(gram_backward(tensor3<T>(), tensor2<T>()), shape_error);
}

TEST_CASE("content, style and total-variation losses: values and gradients",
          "[loss][gradient]") {
    std::mt19937 rng(7);
    const auto f = random_tensor<double, 3>({4, 5, 6}, rng);
    const auto p = random_tensor<double, 3>({4, 5, 6}, rng);

    for (auto norm : {content_normalization::half_sum_squares, content_normalization::mean_squared}) {
        content_loss<double> loss(p, norm);
        tensor3<double> g;
        const double v = loss(f, g);
        const double ss = xt::sum(xt::square(f - p))();
        REQUIRE(v == Approx(norm == content_normalization::half_sum_squares ? 0.5 * ss : ss / 120));
        std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
            tensor3<double> unused;
            return loss(x, unused);
        };
        REQUIRE(gradient_error(fn, f, g, 0, rng) < tolerance);
    }

    for (auto norm : {style_normalization::gatys, style_normalization::johnson}) {
        CAPTURE(to_string(norm));
        const auto s = random_tensor<double, 3>({4, 7, 3}, rng);  // style image of another size
        style_loss<double> loss(style_target(s, norm), norm);
        tensor3<double> g;
        const double v = loss(f, g);
        // Independent value: the paper's formula with raw Gram matrices, sizes normalised.
        const tensor2<double> fm = xt::reshape_view(f, {4, 30});
        const tensor2<double> sm = xt::reshape_view(s, {4, 21});
        double expected = 0;
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t j = 0; j < 4; ++j) {
                double gf = 0, gs = 0;
                for (std::size_t k = 0; k < 30; ++k) gf += fm(i, k) * fm(j, k);
                for (std::size_t k = 0; k < 21; ++k) gs += sm(i, k) * sm(j, k);
                const double d = norm == style_normalization::gatys ? gf / 30 - gs / 21
                                                                    : gf / 120 - gs / 84;
                expected += d * d;
            }
        expected /= norm == style_normalization::gatys ? 4.0 * 16 : 16.0;
        REQUIRE(v == Approx(expected).epsilon(1e-12));
        std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
            tensor3<double> unused;
            return loss(x, unused);
        };
        REQUIRE(gradient_error(fn, f, g, 0, rng) < tolerance);
        tensor3<double> unused;
        REQUIRE_THROWS_AS(loss(random_tensor<double, 3>({3, 2, 2}, rng), unused), shape_error);
    }

    total_variation_loss<double> tv;
    tensor3<double> g;
    const double v = tv(f, g);
    double expected = 0;
    for (std::size_t c = 0; c < 4; ++c)
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = 0; j < 6; ++j) {
                if (j + 1 < 6) expected += std::pow(f(c, i, j + 1) - f(c, i, j), 2);
                if (i + 1 < 5) expected += std::pow(f(c, i + 1, j) - f(c, i, j), 2);
            }
    REQUIRE(v == Approx(expected).epsilon(1e-12));
    std::function<double(const tensor3<double>&)> fn = [&](const tensor3<double>& x) {
        tensor3<double> unused;
        return tv(x, unused);
    };
    REQUIRE(gradient_error(fn, f, g, 0, rng) < tolerance);
}

namespace {
using small_net = sequential<conv3x3<double, 3, 4>, relu<double>, pool2x2<double, pooling::max>,
                             conv3x3<double, 4, 5>, relu<double>>;
}

TEST_CASE("sequential: outputs by name, gradients injected at several layers accumulate",
          "[layers][sequential][gradient]") {
    std::mt19937 rng(8);
    small_net net({"c1", "r1", "p1", "c2", "r2"});
    test::randomize_weights(net, rng);
    const auto x0 = random_tensor<double, 3>({3, 8, 6}, rng);
    net.forward(x0);
    REQUIRE(shape_of(net.output("r2")) == shape3{5, 4, 3});
    REQUIRE(shape_of(net.output<2>()) == shape3{4, 4, 3});
    const auto r1 = random_tensor<double, 3>({4, 8, 6}, rng);
    const auto r2 = random_tensor<double, 3>({5, 4, 3}, rng);
    const auto r2b = random_tensor<double, 3>({5, 4, 3}, rng);
    net.add_gradient("r1", r1);
    net.add_gradient("r2", r2);
    net.add_gradient(4, r2b);  // accumulates with r2
    const tensor3<double> dx = net.backward();

    std::function<double(const tensor3<double>&)> f = [&](const tensor3<double>& x) {
        net.forward(x);
        return double(xt::sum(net.output("r1") * r1)() + xt::sum(net.output("r2") * (r2 + r2b))());
    };
    REQUIRE(gradient_error(f, x0, dx, 0, rng) < tolerance);

    // Keeping only r2 fuses each conv with its relu and drops unread outputs; same result.
    net.forward(x0);
    const tensor3<double> all_kept = net.output("r2");
    net.keep_only({4});
    net.forward(x0);
    REQUIRE(xt::allclose(net.output("r2"), all_kept, 1e-14, 1e-14));
    REQUIRE_THROWS_WITH(net.output("c1"), Catch::Contains("keep it"));
    net.add_gradient("r2", r2 + r2b);
    const tensor3<double> fused_dx = net.backward();
    net.keep_all();
    net.forward(x0);
    net.add_gradient("r2", r2 + r2b);
    REQUIRE(xt::allclose(fused_dx, net.backward(), 1e-12, 1e-12));

    // Truncation: nothing past the requested layer is computed.
    net.forward(x0, 1);
    REQUIRE_THROWS_AS(net.output("c2"), invalid_argument);
    REQUIRE_NOTHROW(net.output("r1"));
}

TEST_CASE("sequential rejects bad input clearly", "[layers][sequential][errors]") {
    small_net net;
    REQUIRE_THROWS_WITH(net.forward(tensor3<double>()), Catch::Contains("non-empty"));
    REQUIRE_THROWS_WITH(net.forward(xt::zeros<double>({4, 8, 8})),
                        Catch::Contains("expected 3 input channels, got 4"));
    REQUIRE_THROWS_WITH(net.index_of("relu9_9"), Catch::Contains("unknown layer name 'relu9_9'"));
    REQUIRE_THROWS_AS(net.backward(), invalid_argument);
    net.forward(xt::zeros<double>({3, 8, 8}));
    REQUIRE_THROWS_WITH(net.add_gradient("layer4", xt::zeros<double>({5, 3, 3})),
                        Catch::Contains("expected 5 x 4 x 4, got 5 x 3 x 3"));
    conv3x3<double, 3, 4> conv;
    REQUIRE_THROWS_WITH(conv.set_weights(xt::zeros<double>({4, 2, 3, 3}), xt::zeros<double>({4})),
                        Catch::Contains("expected weights 4 x 3 x 3 x 3, got 4 x 2 x 3 x 3"));
}

namespace {
// A content term at relu4_2 and style terms at three depths down to conv5_1.
template <class Net, class T = typename Net::value_type>
objective<Net> vgg_objective(Net& net, std::mt19937& rng, std::size_t size) {
    objective<Net> obj(net);
    // Images drawn in double and cast, so float and double networks see the same data.
    const tensor3<T> content_image =
        xt::cast<T>(random_tensor<double, 3>({3, size, size}, rng, -50, 50));
    const tensor3<T> style_image =
        xt::cast<T>(random_tensor<double, 3>({3, size, size}, rng, -50, 50));
    net.keep_all();
    net.forward(content_image);
    obj.add("relu4_2", T(1), content_loss<T>(net.output("relu4_2")), "content");
    net.forward(style_image);
    for (const char* layer : {"conv1_1", "relu3_1", "conv5_1"})
        obj.add(layer, T(100), style_loss<T>(style_target(net.output(layer))), "style");
    obj.add_image_term(T(1e-3), total_variation_loss<T>(), "tv");
    return obj;
}
}  // namespace

TEST_CASE("VGG19 input gradient through conv5_1 matches finite differences",
          "[vgg19][gradient]") {
    std::mt19937 rng(9);
    vgg19<double> net;
    test::randomize_weights(net, rng);
    auto obj = vgg_objective(net, rng, 32);
    const auto x0 = random_tensor<double, 3>({3, 32, 32}, rng, -50, 50);
    tensor3<double> grad;
    const double value = obj(x0, grad);
    REQUIRE(value > 0);
    REQUIRE(obj.group_value("content") > 0);
    REQUIRE(obj.group_value("style") > 0);
    REQUIRE(obj.group_value("tv") > 0);
    REQUIRE(value == Approx(obj.group_value("content") + obj.group_value("style") +
                            obj.group_value("tv")));
    std::function<double(const tensor3<double>&)> f = [&](const tensor3<double>& x) {
        tensor3<double> unused;
        return obj(x, unused);
    };
    REQUIRE(gradient_error(f, x0, grad, 40, rng, 1e-4) < tolerance);
}

TEST_CASE("VGG19 in float and double agree to float precision", "[vgg19]") {
    // Direct float arithmetic: Winograd's larger rounding flips near-zero ReLU inputs, which
    // moves single gradient entries (test_conv_paths covers Winograd).
    std::mt19937 rng(10);
    vgg19<double> dnet;
    test::randomize_weights(dnet, rng);
    vgg19<float> fnet;
    test::copy_weights(fnet, dnet);
    fnet.set_conv_algorithm(conv_algorithm::direct);
    std::mt19937 rng_d(11), rng_f(11);  // same targets and image in both precisions
    auto dobj = vgg_objective(dnet, rng_d, 48);
    auto fobj = vgg_objective(fnet, rng_f, 48);
    const auto xd = random_tensor<double, 3>({3, 48, 48}, rng, -50, 50);
    tensor3<double> gd;
    tensor3<float> gf;
    const double vd = dobj(xd, gd);
    const double vf = fobj(xt::cast<float>(xd), gf);
    REQUIRE(vf == Approx(vd).epsilon(1e-4));
    const double scale = xt::amax(xt::abs(gd))();
    REQUIRE(xt::amax(xt::abs(xt::cast<double>(gf) - gd))() < 1e-3 * scale);
}

TEST_CASE("L-BFGS and Adam lower the VGG19 style-transfer loss on a tiny image", "[vgg19][optim]") {
    std::mt19937 rng(12);
    vgg19<float> net;
    test::randomize_weights(net, rng);
    auto obj = vgg_objective(net, rng, 32);
    const tensor3<float> start = xt::cast<float>(random_tensor<double, 3>({3, 32, 32}, rng, -50, 50));
    tensor3<float> grad;
    const float initial = obj(start, grad);

    tensor3<float> x = start;
    lbfgs<float>::options lo;
    lo.max_iterations = 10;
    const auto lr = lbfgs<float>(lo).minimize(obj, x);
    CAPTURE(to_string(lr.reason), initial, lr.loss);
    REQUIRE(lr.iterations >= 1);
    REQUIRE(lr.loss < 0.5f * initial);
    REQUIRE(obj(x, grad) == Approx(lr.loss).epsilon(1e-4));  // x holds the reported point

    x = start;
    adam<float>::options ao;
    ao.max_iterations = 10;
    ao.learning_rate = 1.0;  // pixels are 0..255-scaled
    const auto ar = adam<float>(ao).minimize(obj, x);
    CAPTURE(to_string(ar.reason), ar.loss);
    REQUIRE(ar.loss < initial);
}

// ---------------------------------------------------------------------------------------------
// The layer contract (layer_abstract.hpp, layer_traits.hpp) and the public checker
// (test_layer.hpp), with layers written here the way a user would.
namespace {

// A ReLU written outside nst: declares itself fusable, counts its own forward calls.
template <class T> struct counting_relu {
    using value_type = T;
    static constexpr std::size_t in_channels = 0, out_channels = 0;
    static constexpr bool backward_needs_input = false, backward_needs_output = true;
    static constexpr fusable_activation fusable = fusable_activation::relu;
    static inline int forward_calls = 0;
    static constexpr shape3 output_shape(const shape3& in) { return in; }
    void forward(const tensor3<T>& x, tensor3<T>& y) const {
        ++forward_calls;
        y = xt::maximum(x, T(0));
    }
    tensor3<T> backward(const tensor3<T>&, const tensor3<T>& y, tensor3<T>&& dy,
                        const shape3&) const {
        return xt::where(y > T(0), dy, T(0));
    }
};

// Wrong on purpose: backward forgets the factor 2 of y = 2x.
template <class T> struct doubling_with_wrong_backward {
    using value_type = T;
    static constexpr std::size_t in_channels = 0, out_channels = 0;
    static constexpr bool backward_needs_input = false, backward_needs_output = false;
    static constexpr shape3 output_shape(const shape3& in) { return in; }
    void forward(const tensor3<T>& x, tensor3<T>& y) const { y = T(2) * x; }
    tensor3<T> backward(const tensor3<T>&, const tensor3<T>&, tensor3<T>&& dy,
                        const shape3&) const {
        return std::move(dy);
    }
};

// Breaks the contract: forward's shape is not what output_shape says.
template <class T> struct lying_shape : doubling_with_wrong_backward<T> {
    static constexpr shape3 output_shape(const shape3& in) { return {in[0], in[1] / 2, in[2]}; }
};

struct missing_backward {
    using value_type = double;
    static constexpr std::size_t in_channels = 0, out_channels = 0;
    static constexpr bool backward_needs_input = false, backward_needs_output = false;
    static constexpr shape3 output_shape(const shape3& in) { return in; }
    void forward(const tensor3<double>& x, tensor3<double>& y) const { y = x; }
};

}  // namespace

TEST_CASE("layer traits: the contract and its optional members are detected", "[layers][contract]") {
    static_assert(is_layer_v<conv3x3<float, 3, 8>> && is_layer_v<relu<double>>);
    static_assert(is_layer_v<pool2x2<float, pooling::max>> && is_layer_v<counting_relu<float>>);
    static_assert(!is_layer_v<missing_backward> && !is_layer_v<int>);
    static_assert(is_conv3x3_v<conv3x3<double, 3, 8>> && !is_conv3x3_v<relu<double>>);
    static_assert(can_fuse_v<conv3x3<float, 3, 8>, relu<float>>);
    static_assert(can_fuse_v<conv3x3<float, 3, 8>, counting_relu<float>>);  // a user's ReLU too
    static_assert(!can_fuse_v<conv3x3<float, 3, 8>, pool2x2<float, pooling::average>>);
    static_assert(!can_fuse_v<relu<float>, relu<float>>);
    static_assert(parameter_count_v<conv3x3<float, 3, 8>> == 9 * 3 * 8 + 8);
    static_assert(parameter_count_v<relu<float>> == 0);
    static_assert(has_conv_algorithm_v<conv3x3<float, 3, 8>> && !has_conv_algorithm_v<relu<float>>);
    using net = sequential<conv3x3<float, 3, 8>, relu<float>, pool2x2<float, pooling::max>>;
    static_assert(net::output_shapes({3, 9, 6})[2][0] == 8 && net::output_shapes({3, 9, 6})[2][1] == 4);
    REQUIRE(net::output_shape({3, 9, 6}) == shape3{8, 4, 3});
    REQUIRE(net::min_input_side() == 2);
    REQUIRE(net::min_input_side(1) == 1);
}

TEST_CASE("test_layer passes nst's layers and catches wrong ones", "[layers][contract][gradient]") {
    std::mt19937 rng(31);
    conv3x3<double, 3, 4> conv;
    conv.set_weights(random_tensor<double, 4>({4, 3, 3, 3}, rng),
                     random_tensor<double, 1>({4}, rng));
    REQUIRE(test_layer(conv, {3, 5, 7}) < tolerance);
    REQUIRE(test_layer(relu<double>(), {3, 6, 7}) < tolerance);  // also its saved-mask backward
    REQUIRE(test_layer(pool2x2<double, pooling::max>(), {2, 5, 7}) < tolerance);
    REQUIRE(test_layer(pool2x2<double, pooling::average>(), {2, 6, 4}) < tolerance);
    REQUIRE(test_layer(counting_relu<double>(), {2, 3, 4}) < tolerance);
    REQUIRE(test_layer(doubling_with_wrong_backward<double>(), {2, 3, 4}) > 0.4);  // exactly 0.5
    REQUIRE_THROWS_AS(test_layer(lying_shape<double>(), {2, 3, 4}), shape_error);
}

TEST_CASE("fusion by trait: conv3x3 computes a user's fusable ReLU in its own pass",
          "[layers][contract]") {
    std::mt19937 rng(32);
    sequential<conv3x3<double, 3, 4>, counting_relu<double>> net;
    test::randomize_weights(net, rng);
    const auto x = random_tensor<double, 3>({3, 6, 5}, rng);
    tensor3<double> conv_out;
    net.layer<0>().forward(x, conv_out);
    const tensor3<double> expected = xt::maximum(conv_out, 0.0);

    counting_relu<double>::forward_calls = 0;
    net.keep_all();  // the conv's own output is read: no fusion
    REQUIRE(xt::allclose(net.forward(x), expected));
    REQUIRE(counting_relu<double>::forward_calls == 1);

    net.keep_only({1});  // only the ReLU's output is read: fused
    REQUIRE(xt::allclose(net.forward(x), expected));
    REQUIRE(counting_relu<double>::forward_calls == 1);

    const auto r = random_tensor<double, 3>({4, 6, 5}, rng);
    net.add_gradient(1, r);
    const tensor3<double> dx = net.backward();
    const auto loss = [&](const tensor3<double>& at) {
        return double(xt::sum(net.forward(at) * r)());
    };
    REQUIRE(gradient_error(loss, x, dx, 0, rng) < tolerance);
}
