// The public gradient checker (layers/test_layer.hpp): passes nst's layers and a user's correct
// layer, catches a wrong backward and a layer whose forward contradicts its output_shape.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"
#include "user_layers.hpp"

using namespace nst;
using nst::test::counting_relu;
using nst::test::doubling_with_wrong_backward;
using nst::test::lying_shape;
using nst::test::random_tensor;
using nst::test::set_random_weights;
using nst::test::test_layer;
using nst::test::tolerance;

TEST_CASE("test_layer passes nst's layers and catches wrong ones", "[layers][contract][gradient]") {
    std::mt19937 rng(31);
    conv3x3<double, 3, 4> conv;
    set_random_weights(conv, rng);
    REQUIRE(test_layer(conv, {3, 5, 7}) < tolerance);
    REQUIRE(test_layer(relu<double>(), {3, 6, 7}) < tolerance);  // also its saved-mask backward
    REQUIRE(test_layer(pool2x2<double, pooling::max>(), {2, 5, 7}) < tolerance);
    REQUIRE(test_layer(pool2x2<double, pooling::average>(), {2, 6, 4}) < tolerance);
    REQUIRE(test_layer(counting_relu<double>(), {2, 3, 4}) < tolerance);
    REQUIRE(test_layer(doubling_with_wrong_backward<double>(), {2, 3, 4}) > 0.4);  // exactly 0.5
    REQUIRE_THROWS_AS(test_layer(lying_shape<double>(), {2, 3, 4}), shape_error);
}

TEST_CASE("a gradient check that cannot fail is refused, not passed", "[layers][contract][gradient]") {
    // A conv3x3 whose weights were never set computes zeros: both gradients are zero, and the
    // check reported an error of 0, a pass, whatever backward did.
    CHECK_THROWS_WITH(test_layer(conv3x3<double, 3, 4>(), {3, 5, 7}),
                      Catch::Contains("test_layer:") && Catch::Contains("dL/dx = 0") &&
                          Catch::Contains("3 x 5 x 7") && Catch::Contains("set_weights"));
    CHECK_THROWS_AS(test_layer(conv3x3<double, 3, 4>(), {3, 5, 7}), nst::invalid_argument);
    // gradient_error alike, for a function that does not depend on x, with the usual cause (a
    // network whose weights were never set: it named none, teach_custom_layer --unset-weights).
    std::mt19937 rng(5);
    const tensor3<double> x = random_tensor<double, 3>({2, 3, 3}, rng);
    const tensor3<double> zero = xt::zeros<double>({2, 3, 3});
    const auto constant = [](const tensor3<double>&) { return 4.0; };
    CHECK_THROWS_WITH(nst::gradient_error(constant, x, zero, 0, rng),
                      Catch::Contains("cannot fail") && Catch::Contains("until set_weights"));
    // One non-zero component is enough to compare against.
    const auto first = [](const tensor3<double>& at) { return 3.0 * at(0, 0, 0); };
    tensor3<double> g = zero;
    g(0, 0, 0) = 3.0;
    CHECK(nst::gradient_error(first, x, g, 0, rng) < tolerance);
    CHECK(nst::gradient_error(first, x, zero, 0, rng) == 1.0);  // a wrong gradient still fails
}
