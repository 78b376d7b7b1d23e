// The convolution algorithm (layers/conv_algorithm.hpp) is a per-network setting: two networks
// with different algorithms, run in two threads at once, each give exactly their own result.
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "test_helpers.hpp"

using namespace nst;

// Without the own kernels (no AVX2/AVX-512) every algorithm runs the reference path.
#if NST_SIMD_FLOAT_WIDTH > 0

namespace {

using two_convs = sequential<conv3x3<float, 64, 64>, relu<float>, conv3x3<float, 64, 64>>;

// The output and the input gradient (for dy at the last layer) of net on x, one after the other.
std::vector<float> forward_backward(two_convs& net, const tensor3<float>& x,
                                    const tensor3<float>& dy) {
    const tensor3<float>& y = net.forward(x);
    std::vector<float> out(y.begin(), y.end());
    net.add_gradient(2, dy);
    const tensor3<float> dx = net.backward();
    out.insert(out.end(), dx.begin(), dx.end());
    return out;
}

}  // namespace

TEST_CASE("the conv algorithm is a per-network setting: two threads, two algorithms",
          "[conv][paths][threads]") {
    std::mt19937 rng(49);
    two_convs fast, direct;
    test::randomize_weights(fast, rng);
    test::copy_weights(direct, fast);
    direct.set_conv_algorithm(conv_algorithm::direct);
    REQUIRE(direct.layer<0>().algorithm() == conv_algorithm::direct);
    REQUIRE(direct.layer<2>().algorithm() == conv_algorithm::direct);
    REQUIRE(fast.layer<0>().algorithm() == conv_algorithm::fastest);
    REQUIRE(detail::conv3x3_engine<float>::prefer_winograd(64, 64, 64, 64));

    const auto x = test::random_tensor<float, 3>({64, 64, 64}, rng);
    const auto dy = test::random_tensor<float, 3>({64, 64, 64}, rng);
    const std::vector<float> want_fast = forward_backward(fast, x, dy);
    const std::vector<float> want_direct = forward_backward(direct, x, dy);
    REQUIRE(want_fast != want_direct);  // Winograd and the direct kernel round differently

    // Each network, run over and over while the other runs in another thread, gives exactly
    // its own single-threaded result: neither sees the other's setting.
    std::atomic<int> mismatches{0};
    const auto repeat = [&](two_convs& net, const std::vector<float>& want) {
        for (int k = 0; k < 6; ++k)
            if (forward_backward(net, x, dy) != want) ++mismatches;
    };
    std::thread a(repeat, std::ref(fast), std::cref(want_fast));
    std::thread b(repeat, std::ref(direct), std::cref(want_direct));
    a.join();
    b.join();
    REQUIRE(mismatches == 0);
}

#endif
