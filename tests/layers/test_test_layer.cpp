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
