// The activation checks every layer applies to its input.
#include <catch2/catch.hpp>

#include <nst/layers/layer_shape.hpp>

TEST_CASE("shape_of gives a tensor's C, H, W", "[layers][layer_shape]") {
    const auto x = nst::tensor3<float>::from_shape({3, 5, 7});
    REQUIRE(nst::shape_of(x) == nst::shape3{3, 5, 7});
}

TEST_CASE("require_activation names the layer, the expected channels and the actual shape", "[layers][layer_shape]") {
    const auto x = nst::tensor3<float>::from_shape({4, 2, 2});
    REQUIRE_NOTHROW(nst::require_activation(x, 4, "conv1_2"));
    REQUIRE_NOTHROW(nst::require_activation(x, 0, "relu"));  // 0: any channel count
    REQUIRE_THROWS_WITH(nst::require_activation(x, 3, "conv1_2"),
                        Catch::Contains("conv1_2") && Catch::Contains("expected 3 input channels") &&
                            Catch::Contains("4 x 2 x 2"));
    const auto empty = nst::tensor3<float>::from_shape({3, 0, 2});
    REQUIRE_THROWS_AS(nst::require_activation(empty, 3, "pool1"), nst::shape_error);
}
