// sequential (layers/sequential.hpp): outputs by name, gradients injected at several layers, bad
// input; what it keeps for the backward pass (ReLU bit masks instead of whole outputs, outputs
// released once read, gradients added when the reverse pass reaches their layer), each lean path
// checked against the plain one (every output kept); fusion of conv3x3 with a user's ReLU by trait.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"
#include "user_layers.hpp"

using namespace nst;
using nst::test::counting_relu;
using nst::test::gradient_error;
using nst::test::random_tensor;
using nst::test::tolerance;

namespace {

using small_net = sequential<conv3x3<double, 3, 4>, relu<double>, pool2x2<double, pooling::max>,
                             conv3x3<double, 4, 5>, relu<double>>;

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
    REQUIRE_THROWS_WITH(net.output("layer1"), Catch::Contains("no forward pass has been run"));
    // Why an output is missing: the forward stopped before it, or it was not kept (after an
    // objective's evaluation only what its terms read is kept; this said "run forward through
    // it first" of a layer the forward had just run through).
    net.forward(xt::zeros<double>({3, 8, 8}), 1);
    REQUIRE_THROWS_WITH(net.output("layer3"), Catch::Contains("the last forward stopped at layer 'layer1'"));
    net.keep_only({4});
    net.forward(xt::zeros<double>({3, 8, 8}));
    REQUIRE_THROWS_WITH(net.output("layer2"), Catch::Contains("it was not kept") && Catch::Contains("keep_all()"));
    net.keep_all();
    net.forward(xt::zeros<double>({3, 8, 8}));
    REQUIRE_THROWS_WITH(net.add_gradient("layer4", xt::zeros<double>({5, 3, 3})),
                        Catch::Contains("expected 5 x 4 x 4, got 5 x 3 x 3"));
    conv3x3<double, 3, 4> conv;
    REQUIRE_THROWS_WITH(conv.set_weights(xt::zeros<double>({4, 2, 3, 3}), xt::zeros<double>({4})),
                        Catch::Contains("expected weights 4 x 3 x 3 x 3, got 4 x 2 x 3 x 3"));
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

TEST_CASE("backward(on_layer) reaches layers deepest first, gradients added there count",
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

TEST_CASE("pending_gradient: what deeper layers sent back, added to in place, only inside on_layer",
          "[layers][memory][sequential]") {
    std::mt19937 rng(15);
    const auto x = random_tensor<double, 3>({3, 10, 8}, rng);
    const auto r1 = random_tensor<double, 3>({4, 10, 8}, rng);
    const auto r3 = random_tensor<double, 3>({6, 5, 4}, rng);
    avg_net net(names);
    test::randomize_weights(net, rng);
    const tensor3<double> expected = gradient_all_kept(net, x, {{1, r1}, {6, r3}});

    net.keep_only({1, 6});
    net.forward(x);
    REQUIRE(net.pending_gradient(6) == nullptr);  // outside a backward
    std::vector<std::size_t> gathered;
    const tensor3<double> dx = net.backward([&](std::size_t layer) {
        for (std::size_t other = 0; other < names.size(); ++other)
            if (other != layer) REQUIRE(net.pending_gradient(other) == nullptr);
        if (tensor3<double>* g = net.pending_gradient(layer)) {
            gathered.push_back(layer);
            REQUIRE(shape_of(*g) == avg_net::output_shapes(shape_of(x))[layer]);
            if (layer == 1) *g += r1;  // instead of add_gradient(1, r1)
        }
        if (layer == 6) {
            REQUIRE(net.pending_gradient(6) == nullptr);  // nothing deeper
            net.add_gradient(6, r3);
            // A gradient added at this layer is not yet part of the gathered one.
            REQUIRE(net.pending_gradient(6) == nullptr);
        }
    });
    REQUIRE(gathered == std::vector<std::size_t>{5, 4, 3, 2, 1, 0});
    REQUIRE(xt::allclose(dx, expected, 1e-13, 1e-13));
    REQUIRE(net.pending_gradient(1) == nullptr);  // after it
}

TEST_CASE("average pooling makes the mask of the ReLU before it, gradients added at that ReLU "
          "still go through the mask", "[layers][memory][sequential]") {
    std::mt19937 rng(19);
    const auto x = random_tensor<double, 3>({3, 10, 14}, rng);
    const auto r2 = random_tensor<double, 3>({4, 10, 14}, rng);
    const auto r3 = random_tensor<double, 3>({6, 5, 7}, rng);
    avg_net net(names);
    test::randomize_weights(net, rng);
    for (const int added_at_r2 : {0, 1, 2}) {  // none, add_gradient, in place
        CAPTURE(added_at_r2);
        std::vector<std::pair<std::size_t, tensor3<double>>> injected;
        injected.emplace_back(6, r3);
        if (added_at_r2) injected.emplace_back(3, r2);
        const tensor3<double> expected = gradient_all_kept(net, x, injected);
        net.keep_only({6});
        net.forward(x);
        REQUIRE_THROWS_WITH(net.output("r2"), Catch::Contains("keep it"));  // dropped: a mask
        const tensor3<double> dx = net.backward([&](std::size_t layer) {
            if (layer == 6) net.add_gradient(6, r3);
            if (layer == 3 && added_at_r2 == 1) net.add_gradient(3, r2);
            if (layer == 3 && added_at_r2 == 2) *net.pending_gradient(3) += r2;
        });
        REQUIRE(xt::allclose(dx, expected, 1e-13, 1e-13));
    }
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

TEST_CASE("sequential checks each layer against its contract and names the layer that breaks it",
          "[layers][sequential][errors][contract]") {
    std::mt19937 rng(31);
    const auto x = random_tensor<double, 3>({3, 8, 6}, rng);

    // forward's shape is not output_shape's: every later shape, the gradients' shapes and the
    // reverse pass would follow output_shape while the data follow forward.
    sequential<conv3x3<double, 3, 4>, test::lying_shape<double>, conv3x3<double, 4, 2>> lying({"c1", "lie", "c2"});
    test::randomize_weights(lying, rng);
    REQUIRE_THROWS_WITH(lying.forward(x), Catch::Contains("layer 'lie': forward gave 4 x 8 x 6") &&
                                              Catch::Contains("output_shape says 4 x 4 x 6"));

    // A layer given another channel count than its in_channels (it does not check them itself).
    sequential<conv3x3<double, 3, 8>, relu<double>, test::trusting_channels<double, 4>> channels(
        {"c1", "r1", "four"});
    test::randomize_weights(channels, rng);
    REQUIRE_THROWS_WITH(channels.forward(x), Catch::Contains("layer 'four'") && Catch::Contains("in_channels 4") &&
                                                 Catch::Contains("8 x 8 x 6"));

    // backward's dL/dx does not have the input's shape: at the first layer it was returned as
    // the network's gradient, of the wrong shape, without a word.
    sequential<test::channel_sum_short_backward<double>, conv3x3<double, 1, 2>> short_backward({"sum", "c"});
    test::randomize_weights(short_backward, rng);
    REQUIRE(shape_of(short_backward.forward(x)) == shape3{2, 8, 6});
    short_backward.add_gradient("c", random_tensor<double, 3>({2, 8, 6}, rng));
    REQUIRE_THROWS_WITH(short_backward.backward(),
                        Catch::Contains("layer 'sum': backward gave 1 x 8 x 6 for an input of 3 x 8 x 6"));
}

TEST_CASE("sequential refuses missing and repeated layer names", "[layers][sequential][errors]") {
    using net = sequential<conv3x3<double, 3, 4>, relu<double>, conv3x3<double, 4, 4>, relu<double>>;
    // Fewer names than layers compile (std::array fills the rest with ""): the rest had no name.
    REQUIRE_THROWS_WITH(net({"conv1", "relu1"}), Catch::Contains("layer 2 has no name") &&
                                                     Catch::Contains("4 layers"));
    // A repeated name reached only the first of its layers.
    REQUIRE_THROWS_WITH(net({"conv", "relu", "conv2", "relu"}),
                        Catch::Contains("'relu'") && Catch::Contains("layers 1 and 3"));
    REQUIRE_NOTHROW(net({"conv1", "relu1", "conv2", "relu2"}));
}
