// load_model_weights puts format-neutral weights into a network by layer name, and says which
// file, layer and shapes are at fault when they do not fit.
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include <nst/io/model_weights.hpp>
#include <nst/layers/conv3x3.hpp>
#include <nst/layers/relu.hpp>
#include <nst/layers/sequential.hpp>

namespace {

using two_convs = nst::sequential<nst::conv3x3<float, 2, 3>, nst::relu<float>, nst::conv3x3<float, 3, 4>>;

nst::named_conv_weights numbered_conv(const std::string& name, std::size_t out, std::size_t in, float offset) {
    nst::named_conv_weights c{name, nst::tensor4<float>::from_shape({out, in, 3, 3}),
                              nst::tensor1<float>::from_shape({out})};
    for (std::size_t i = 0; i < c.weights.size(); ++i) c.weights.data()[i] = offset + 0.01f * float(i);
    for (std::size_t i = 0; i < c.bias.size(); ++i) c.bias.data()[i] = -offset - float(i);
    return c;
}

nst::model_weights two_conv_weights() {
    nst::model_weights w;
    w.format = "test";
    w.info.path = "weights.test";
    // Stored in the other order than the network's: loading goes by name.
    w.convs.push_back(numbered_conv("second", 4, 3, 2.0f));
    w.convs.push_back(numbered_conv("first", 3, 2, 1.0f));
    return w;
}

}  // namespace

TEST_CASE("load_model_weights sets every convolution by name", "[io][model_weights]") {
    two_convs net({"first", "relu", "second"});
    const nst::model_weights w = two_conv_weights();
    REQUIRE(nst::load_model_weights(net, w) == 2);
    const auto& first = net.layer<0>();
    const auto& second = net.layer<2>();
    REQUIRE(first.weights() == w.find("first")->weights);
    REQUIRE(first.bias() == w.find("first")->bias);
    REQUIRE(second.weights() == w.find("second")->weights);
    REQUIRE(second.bias() == w.find("second")->bias);
    REQUIRE(w.find("third") == nullptr);
}

TEST_CASE("load_model_weights names the file and layer of a missing or mis-shaped convolution", "[io][model_weights]") {
    two_convs net({"first", "relu", "second"});
    nst::model_weights missing = two_conv_weights();
    missing.convs.erase(missing.convs.begin());
    REQUIRE_THROWS_WITH(nst::load_model_weights(net, missing),
                        Catch::Contains("weights.test") && Catch::Contains("second"));

    nst::model_weights wrong = two_conv_weights();
    wrong.convs[1] = numbered_conv("first", 3, 5, 1.0f);
    REQUIRE_THROWS_AS(nst::load_model_weights(net, wrong), nst::io_error);
    REQUIRE_THROWS_WITH(nst::load_model_weights(net, wrong),
                        Catch::Contains("layer first") && Catch::Contains("3 x 2 x 3 x 3") &&
                            Catch::Contains("3 x 5 x 3 x 3"));
}

TEST_CASE("load_model_weights from an rvalue takes the tensors over instead of copying them", "[io][model_weights]") {
    two_convs net({"first", "relu", "second"});
    nst::model_weights w = two_conv_weights();
    const nst::model_weights expected = two_conv_weights();
    const float* first_data = w.find("first")->weights.data();
    const float* second_bias = w.find("second")->bias.data();
    REQUIRE(nst::load_model_weights(net, std::move(w)) == 2);
    // The network holds the very buffers the reader filled: the weights exist once.
    REQUIRE(net.layer<0>().weights().data() == first_data);
    REQUIRE(net.layer<2>().bias().data() == second_bias);
    REQUIRE(net.layer<0>().weights() == expected.find("first")->weights);
    REQUIRE(net.layer<2>().weights() == expected.find("second")->weights);

    two_convs other({"first", "relu", "second"});
    nst::model_weights wrong = two_conv_weights();
    wrong.convs[0] = numbered_conv("second", 4, 5, 2.0f);
    REQUIRE_THROWS_WITH(nst::load_model_weights(other, std::move(wrong)),
                        Catch::Contains("layer second") && Catch::Contains("4 x 3 x 3 x 3") &&
                            Catch::Contains("4 x 5 x 3 x 3"));
}

TEST_CASE("load_model_weights refuses another network's weights that have every name it needs", "[io][model_weights]") {
    // The file has a convolution between the network's two: the network is not the file's
    // (as a VGG19 file into VGG16, which shares the names up to VGG19's extra ones).
    two_convs net({"first", "relu", "second"});
    nst::model_weights deeper = two_conv_weights();
    deeper.model = "deeper";
    deeper.convs.insert(deeper.convs.begin() + 1, numbered_conv("between", 3, 3, 5.0f));
    REQUIRE_THROWS_WITH(nst::load_model_weights(net, deeper),
                        Catch::Contains("weights.test") && Catch::Contains("convolution between lies among") &&
                            Catch::Contains("(deeper)"));
    // A network cut short is the file's first convolutions (in the file's order, here second
    // before first) and loads.
    nst::sequential<nst::conv3x3<float, 3, 4>> first_of_file({"second"});
    REQUIRE(nst::load_model_weights(first_of_file, two_conv_weights()) == 1);
    // Convolutions of the file past the network's last one are no concern.
    nst::model_weights longer = two_conv_weights();
    longer.convs.push_back(numbered_conv("third", 5, 4, 3.0f));
    REQUIRE(nst::load_model_weights(net, longer) == 2);
}
