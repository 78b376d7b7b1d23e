// objective (loss/objective.hpp): lazy per-layer terms, evaluated when the reverse pass reaches
// their layer, give the eager gradient and pass finite differences.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::gradient_error;
using nst::test::random_tensor;

namespace {

using max_net = sequential<conv3x3<double, 3, 4>, relu<double>, conv3x3<double, 4, 4>,
                           relu<double>, pool2x2<double, pooling::max>, conv3x3<double, 4, 6>,
                           relu<double>>;
const std::array<std::string, 7> names = {"c1", "r1", "c2", "r2", "p", "c3", "r3"};

}  // namespace

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

TEST_CASE("objective: normalised gradients divide each layer term's gradient by its L1 norm",
          "[objective][normalize]") {
    std::mt19937 rng(11);
    const auto x0 = random_tensor<double, 3>({3, 8, 8}, rng);
    max_net net(names);
    test::randomize_weights(net, rng);
    net.keep_all();
    net.forward(random_tensor<double, 3>({3, 8, 8}, rng));
    const content_loss<double> content(net.output("r2"));
    const style_loss<double> style(style_target(net.output("r3")));
    const auto build = [&](objective<max_net>& obj) {
        obj.add("r2", 0.5, content, "content");
        obj.add("r3", 3.0, style, "style");
        obj.add_image_term(1e-2, total_variation_loss<double>(), "tv");
    };
    objective<max_net> plain(net), normalised(net);
    build(plain);
    build(normalised);
    normalised.normalize_gradients(true);
    REQUIRE(normalised.normalizes_gradients());
    tensor3<double> plain_grad, grad;
    const double plain_loss = plain(x0, plain_grad);
    const loss_value<double> loss = normalised(x0, grad);
    REQUIRE(double(loss) == plain_loss);  // the value is not normalised
    REQUIRE(loss.group("style") == plain.last_value().group("style"));

    // Expected: each layer term's gradient scaled to L1 norm = its weight, the image term as is.
    const auto l1 = [](const tensor3<double>& t) { return double(xt::sum(xt::abs(t))()); };
    net.keep_all();
    net.forward(x0);
    tensor3<double> d;
    content(net.output("r2"), d);
    net.add_gradient("r2", tensor3<double>(0.5 / (l1(d) + 1e-8) * d));
    style(net.output("r3"), d);
    net.add_gradient("r3", tensor3<double>(3.0 / (l1(d) + 1e-8) * d));
    tensor3<double> expected = net.backward();
    total_variation_loss<double>()(x0, d);
    expected += 1e-2 * d;
    REQUIRE(xt::allclose(grad, expected, 1e-12, 1e-14));
    REQUIRE_FALSE(xt::allclose(grad, plain_grad, 1e-3, 1e-6));  // it is no longer the loss's gradient
}

namespace {
// content_loss that counts which of its two forms the objective calls.
struct counted_content {
    content_loss<double> loss;
    std::shared_ptr<int> plain = std::make_shared<int>(0), adding = std::make_shared<int>(0);
    double operator()(const tensor3<double>& f, tensor3<double>& d) const {
        ++*plain;
        return loss(f, d);
    }
    double accumulate(const tensor3<double>& f, double weight, tensor3<double>& d) const {
        ++*adding;
        return loss.accumulate(f, weight, d);
    }
};
}  // namespace

TEST_CASE("objective: a term with an accumulate form adds into the gradient gathered at its layer",
          "[objective]") {
    std::mt19937 rng(29);
    const auto x0 = random_tensor<double, 3>({3, 8, 8}, rng);
    max_net net(names);
    test::randomize_weights(net, rng);
    net.keep_all();
    net.forward(random_tensor<double, 3>({3, 8, 8}, rng));
    const counted_content deep{content_loss<double>(net.output("r3"))};
    const counted_content shallow{content_loss<double>(net.output("r1"))};
    // The same terms behind std::function: only the plain form is visible.
    const std::function<double(const tensor3<double>&, tensor3<double>&)> deep_plain = deep.loss,
                                                                          shallow_plain = shallow.loss;

    for (const bool normalised : {false, true}) {
        CAPTURE(normalised);
        *deep.plain = *deep.adding = *shallow.plain = *shallow.adding = 0;
        objective<max_net> adding(net), plain(net);
        adding.add("r3", 0.5, deep, "content");
        adding.add("r1", 2.0, shallow, "content");
        plain.add("r3", 0.5, deep_plain, "content");
        plain.add("r1", 2.0, shallow_plain, "content");
        adding.normalize_gradients(normalised);
        plain.normalize_gradients(normalised);
        tensor3<double> grad, expected;
        const double loss = adding(x0, grad), expected_loss = plain(x0, expected);
        REQUIRE(loss == Approx(expected_loss).epsilon(1e-14));
        REQUIRE(xt::allclose(grad, expected, 1e-12, 1e-14));
        // r3 is reached first (nothing gathered yet); r1 then adds in place, unless each term's
        // gradient must be normalised on its own.
        REQUIRE(*deep.plain == 1);
        REQUIRE(*deep.adding == 0);
        REQUIRE(*shallow.plain == (normalised ? 1 : 0));
        REQUIRE(*shallow.adding == (normalised ? 0 : 1));
    }
}

TEST_CASE("objective: a term that does not fit its layer is named with its layer", "[objective][errors]") {
    std::mt19937 rng(37);
    max_net net(names);
    test::randomize_weights(net, rng);
    const auto x0 = random_tensor<double, 3>({3, 8, 8}, rng);
    tensor3<double> grad;
    // A content target taken at another layer (r1: 4 x 8 x 8) than the term's (r3: 6 x 4 x 4).
    net.forward(x0);
    objective<max_net> wrong_target(net);
    wrong_target.add("r3", 1.0, content_loss<double>(net.output("r1")), "content");
    REQUIRE_THROWS_WITH(wrong_target(x0, grad), Catch::Contains("term 'content' at layer 'r3'") &&
                                                    Catch::Contains("content_loss: activations 6 x 4 x 4"));
    // A term of one's own that writes a gradient of another shape than its layer's output: the
    // message named only add_gradient, which the term's author never called.
    objective<max_net> wrong_gradient(net);
    wrong_gradient.add(
        "r2", 1.0,
        [](const tensor3<double>& f, tensor3<double>& d) {
            d = xt::zeros<double>({f.shape(0), f.shape(1) / 2, f.shape(2)});
            return 0.0;
        },
        "mine");
    REQUIRE_THROWS_WITH(wrong_gradient(x0, grad),
                        Catch::Contains("term 'mine' at layer 'r2' wrote a gradient of shape 4 x 4 x 8") &&
                            Catch::Contains("output's 4 x 8 x 8"));
}

TEST_CASE("objective: an image term that writes no gradient is refused after another image term",
          "[objective][errors]") {
    std::mt19937 rng(41);
    max_net net(names);
    test::randomize_weights(net, rng);
    const auto x0 = random_tensor<double, 3>({3, 8, 8}, rng);
    objective<max_net> obj(net);
    obj.add_image_term(1.0, total_variation_loss<double>(), "tv");
    // Returns a value, forgets its gradient: it was given the total variation term's to add.
    obj.add_image_term(1.0, [](const tensor3<double>&, tensor3<double>&) { return 1.0; }, "mine");
    tensor3<double> grad;
    REQUIRE_THROWS_WITH(obj(x0, grad), Catch::Contains("image term 'mine' wrote a gradient of shape 0 x 0 x 0"));
}
