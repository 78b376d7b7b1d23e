// The model a stylisation runs (style_transfer/model_choice.hpp): asked for, told by the weights
// file, or VGG19; a contradiction and a layer the model lacks are refused naming both. Also the
// options' layer check and the memory estimate per model.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

namespace model_choice_test {

std::string resolve_error(const nst::stylize_options& o, const std::string& file_model) {
    try {
        nst::detail::resolve_model(o, file_model, "w.file");
    } catch (const nst::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace model_choice_test

TEST_CASE("model choice: asked, told by the file, or VGG19, contradictions refused", "[stylize][model]") {
    using nst::model_kind;
    using nst::detail::resolve_model;
    nst::stylize_options o;
    CHECK(resolve_model(o, "", "w.file") == model_kind::vgg19);
    CHECK(resolve_model(o, "vgg19", "w.file") == model_kind::vgg19);
    CHECK(resolve_model(o, "vgg16", "w.file") == model_kind::vgg16);
    o.model = model_kind::vgg16;
    CHECK(resolve_model(o, "", "w.file") == model_kind::vgg16);
    CHECK(resolve_model(o, "vgg16", "w.file") == model_kind::vgg16);
    CHECK(model_choice_test::resolve_error(o, "vgg19") ==
          "model vgg16 was asked for, but the weights file w.file holds vgg19 weights");
    o.model = model_kind::vgg19;
    CHECK_THAT(model_choice_test::resolve_error(o, "vgg16"), Catch::Contains("holds vgg16 weights"));

    // A file that turns out to be VGG16 cannot serve a VGG19-only layer.
    o.model.reset();
    o.style_layers = {"relu1_1", "relu5_4"};
    CHECK(resolve_model(o, "vgg19", "w.file") == model_kind::vgg19);
    CHECK(model_choice_test::resolve_error(o, "vgg16") ==
          "unknown VGG16 layer 'relu5_4' in the style layers (valid: conv1_1, relu1_1, ..., conv5_3, relu5_3, "
          "pool1..pool5)");
}

TEST_CASE("model choice: options are checked against the chosen model's layers", "[stylize][model]") {
    nst::stylize_options o;
    o.content_layers = {"conv3_4"};
    CHECK_NOTHROW(nst::validate_options(o, 1));  // VGG19 (the default) has it
    o.model = nst::model_kind::vgg16;
    CHECK_THROWS_WITH(nst::validate_options(o, 1),
                      Catch::Contains("unknown VGG16 layer 'conv3_4' in the content layers") &&
                          Catch::Contains("conv5_3, relu5_3"));
}

TEST_CASE("model choice: VGG16's memory estimate is below VGG19's for the same layers", "[stylize][model]") {
    nst::stylize_options o;
    const std::uint64_t vgg19 = nst::estimate_stylize_memory(512, 512, {{512, 512}}, o);
    o.model = nst::model_kind::vgg19;
    CHECK(nst::estimate_stylize_memory(512, 512, {{512, 512}}, o) == vgg19);  // the default plans for VGG19
    o.model = nst::model_kind::vgg16;
    const std::uint64_t vgg16 = nst::estimate_stylize_memory(512, 512, {{512, 512}}, o);
    CHECK(vgg16 < vgg19);
    // 5.3 M fewer parameters alone are 21 MB less (x the headroom); the activations differ too.
    CHECK(double(vgg19 - vgg16) > 1.05 * 4.0 * double(20024384 - 14714688));
    CHECK(nst::detail::min_input_side(o) == 16);  // relu5_1 in both
}
