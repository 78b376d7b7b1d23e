// The layer contract's traits (layers/layer_traits.hpp, static shapes from layer_shape.hpp; the
// contract itself is layers/layer_abstract.hpp), with layers written the way a user would. A layer
// that breaks the contract fails to compile with one readable error: layer_contract_error.cpp.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"
#include "user_layers.hpp"

using namespace nst;
using nst::test::counting_relu;
using nst::test::missing_backward;

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
