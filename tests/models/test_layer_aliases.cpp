// Keras' layer names (models/layer_aliases.hpp) resolve to nst's: blockB_convI is the conv WITH
// its ReLU (reluB_I), blockB_pool is poolB; anything else is left for the model to reject.
#include <string>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

TEST_CASE("Keras layer names resolve to the canonical names", "[models][aliases]") {
    using nst::canonical_layer_name;
    CHECK(canonical_layer_name("block4_conv2") == "relu4_2");
    CHECK(canonical_layer_name("block1_conv1") == "relu1_1");
    CHECK(canonical_layer_name("block5_conv4") == "relu5_4");
    CHECK(canonical_layer_name("block1_pool") == "pool1");
    CHECK(canonical_layer_name("block5_pool") == "pool5");
    for (const char* unchanged : {"relu4_2", "conv4_2", "pool3", "block0_conv1", "block1_conv", "block1_conv1x",
                                  "block1_pool2", "block_conv1", "block1conv1", "Block1_conv1", "", "block"})
        CHECK(canonical_layer_name(unchanged) == unchanged);
}

TEST_CASE("vgg19 finds layers by their Keras names and rejects near misses", "[models][aliases]") {
    using net = nst::vgg19<float>;
    CHECK(net::find_layer("block4_conv2") == net::find_layer("relu4_2"));
    CHECK(net::find_layer("block1_pool") == net::find_layer("pool1"));
    CHECK(net::layer_index("block5_conv1") == net::layer_index("relu5_1"));
    CHECK_FALSE(net::find_layer("block6_conv1"));
    CHECK_FALSE(net::find_layer("block1_conv3"));  // VGG19's block 1 has two convolutions
    try {
        net::layer_index("block1_conv3");
        FAIL("no exception");
    } catch (const nst::invalid_argument& e) {
        CHECK(std::string(e.what()).find("block1_conv3") != std::string::npos);
        CHECK(std::string(e.what()).find("Keras") != std::string::npos);
    }
}
