// Which network a stylisation runs: the model asked for (stylize_options::model) checked against
// the one the weights file is for, or the file's model when none was asked, or VGG19.
#pragma once

#include <optional>
#include <string>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../io/keras_weights.hpp"
#include "../io/model_weights.hpp"
#include "../models/model_kind.hpp"
#include "options.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// The model a weights file holds: "vgg19" (16 convolutions), "vgg16" (13) or "" (neither).
inline std::string weights_model(const model_weights& w) { return w.model; }
inline std::string weights_model(const keras_weight_file& f) {
    const std::size_t convs = keras_vgg_convolutions(f).size();
    return convs == 16 ? "vgg19" : convs == 13 ? "vgg16" : "";
}

/*  The network to build for options `o` and a weights file (`path`) holding `file_model`.
    ensures: o.model when set, else the file's model, else vgg19; every content and style layer
             is one of the result's.
    throws:  invalid_argument when o.model and the file's model differ (VGG16 has VGG19's names
             but other weights: loading one into the other would run silently wrong), or for a
             layer the resolved model lacks (e.g. relu5_4 with a VGG16 file). */
inline model_kind resolve_model(const stylize_options& o, const std::string& file_model, const std::string& path) {
    const std::optional<model_kind> from_file = parse_model_kind(file_model);
    if (o.model && from_file && *o.model != *from_file)
        throw invalid_argument(std::string("model ") + to_string(*o.model) + " was asked for, but the weights file " +
                               path + " holds " + to_string(*from_file) + " weights");
    const model_kind model = o.model ? *o.model : from_file.value_or(model_kind::vgg19);
    validate_layer_names(o, model);
    return model;
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
