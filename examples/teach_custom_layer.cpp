// Teaching example: your own layer, composed with nst's layers and checked numerically.
//
// A layer is a small value type with a forward pass, a backward pass (the gradient with respect
// to its input; parameters stay frozen) and a few constants that tell the network what it has
// to keep; nst/layers/layer_abstract.hpp states the whole contract. Here the layer is a leaky
// ReLU, y = x for x > 0 and y = 0.1 x otherwise. It goes into an nst::sequential between nst's
// own convolutions and pooling, and nst::test_layer checks its backward against central finite
// differences of its forward, as nst's tests do for every built-in layer.
//
// A check whose gradients are all zero could not fail, so nst refuses it: --unset-weights skips
// the set_weights calls below, the convolutions compute zeros, and the network's check is refused
// with a message saying why (what happens when you leave them out).
//
// Usage: teach_custom_layer [--unset-weights]   (no weights file, no data)
//   exits 0 when the gradients check out, 1 when a check fails, 2 on errors (a refused check).
#include <cstdio>
#include <cstring>
#include <exception>
#include <random>

#include <nst/nst.hpp>

#include "teaching_arguments.hpp"

template <class T> class leaky_relu {
public:
    using value_type = T;
    static constexpr std::size_t in_channels = 0;  // 0: any number of channels
    static constexpr std::size_t out_channels = 0;
    static constexpr bool backward_needs_input = false;
    static constexpr bool backward_needs_output = true;  // y > 0 exactly where x > 0
    static constexpr T slope = T(0.1);

    static constexpr nst::shape3 output_shape(const nst::shape3& in) { return in; }

    void forward(const nst::tensor3<T>& x, nst::tensor3<T>& y) const {
        nst::require_activation(x, 0, "leaky_relu");
        y = xt::where(x > T(0), x, slope * x);
    }

    // dL/dx = dL/dy where the input was positive, slope * dL/dy elsewhere.
    nst::tensor3<T> backward(const nst::tensor3<T>&, const nst::tensor3<T>& y,
                             nst::tensor3<T>&& dy, const nst::shape3&) const {
        return xt::where(y > T(0), dy, slope * dy);
    }
};

// The network forgets nothing a layer's backward needs: leaky_relu asked for its output.
template <class T>
using small_net =
    nst::sequential<nst::conv3x3<T, 3, 8>, leaky_relu<T>, nst::pool2x2<T, nst::pooling::max>,
                    nst::conv3x3<T, 8, 4>, leaky_relu<T>>;

int main(int argc, char** argv) {
    const bool help = asks_for_help(argc, argv);
    const bool unset_weights = argc == 2 && std::strcmp(argv[1], "--unset-weights") == 0;
    if (help || (argc > 1 && !unset_weights)) {
        std::fprintf(help ? stdout : stderr, "usage: %s [--unset-weights]\n", argv[0]);
        return help ? 0 : 2;
    }
    constexpr double tolerance = 1e-5;
    static_assert(nst::is_layer_v<leaky_relu<double>>, "sequential checks this too");
    try {
        // 1. The layer alone, in double precision (float rounding would hide small mistakes).
        const double layer_error = nst::test_layer(leaky_relu<double>(), {4, 9, 7});
        std::printf("leaky_relu alone:         worst relative gradient error %.2e\n", layer_error);

        // 2. The layer inside a network. Shapes follow from the layer types alone.
        small_net<double> net({"conv1", "leaky1", "pool1", "conv2", "leaky2"});
        const nst::shape3 in{3, 16, 20};
        const auto shapes = small_net<double>::output_shapes(in);
        for (std::size_t i = 0; i < small_net<double>::size; ++i)
            std::printf("  %-7s -> %zu x %zu x %zu\n", net.name(i).c_str(), shapes[i][0],
                        shapes[i][1], shapes[i][2]);

        std::mt19937 rng(1);
        // One draw per statement: a call's arguments run in an order the compiler chooses.
        auto w1 = nst::random_tensor<double, 4>({8, 3, 3, 3}, rng, -0.5, 0.5);
        auto b1 = nst::random_tensor<double, 1>({8}, rng);
        auto w2 = nst::random_tensor<double, 4>({4, 8, 3, 3}, rng, -0.5, 0.5);
        auto b2 = nst::random_tensor<double, 1>({4}, rng);
        if (!unset_weights) {  // without them the convolutions compute zeros: nothing to check
            net.layer<0>().set_weights(std::move(w1), std::move(b1));
            net.layer<3>().set_weights(std::move(w2), std::move(b2));
        }
        const auto x = nst::random_tensor<double, 3>(in, rng);
        const auto r = nst::random_tensor<double, 3>(shapes.back(), rng);

        // L(x) = sum(r * net(x)): inject dL/d(output) = r at the last layer, run the reverse pass.
        net.forward(x);
        net.add_gradient("leaky2", r);
        const nst::tensor3<double> dx = net.backward();
        const auto loss = [&](const nst::tensor3<double>& at) {
            return double(xt::sum(net.forward(at) * r)());
        };
        const double net_error = nst::gradient_error(loss, x, dx, 0, rng);
        std::printf("network with leaky_relu:  worst relative gradient error %.2e\n", net_error);

        const bool ok = layer_error < tolerance && net_error < tolerance;
        std::printf("%s (tolerance %.0e)\n", ok ? "gradients check out" : "GRADIENT CHECK FAILED",
                    tolerance);
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // nst::error and its subclasses: a refused check, a bad shape
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
}
