// Which VGG network a run uses, by name at run time ("vgg19", "vgg16"), and the dispatch from
// that name to the network's type, so code written once for a network type serves both.
//
//   nst::with_vgg<float>(nst::model_kind::vgg16, nst::pooling::average, [](auto tag) {
//       using net = typename decltype(tag)::type;   // nst::vgg16<float, pooling::average>
//       return net::min_input_side();
//   });
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "../core/isa_namespace.hpp"
#include "../layers/pool2x2.hpp"
#include "vgg16.hpp"
#include "vgg19.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

enum class model_kind { vgg19, vgg16 };

inline const char* to_string(model_kind m) { return m == model_kind::vgg16 ? "vgg16" : "vgg19"; }

// "vgg19" / "vgg16" (as written in model_weights::model and on the command line); nullopt otherwise.
inline std::optional<model_kind> parse_model_kind(std::string_view name) {
    if (name == "vgg19") return model_kind::vgg19;
    if (name == "vgg16") return model_kind::vgg16;
    return std::nullopt;
}

// Stands for a network type in a generic lambda's argument.
template <class Net> struct model_tag {
    using type = Net;
};

// f(model_tag<vgg16<T, P>>) or f(model_tag<vgg19<T, P>>); both calls must return the same type.
template <class T, pooling P, class F> decltype(auto) with_vgg(model_kind m, F&& f) {
    if (m == model_kind::vgg16) return f(model_tag<vgg16<T, P>>{});
    return f(model_tag<vgg19<T, P>>{});
}
template <class T, class F> decltype(auto) with_vgg(model_kind m, pooling p, F&& f) {
    if (p == pooling::max) return with_vgg<T, pooling::max>(m, f);
    return with_vgg<T, pooling::average>(m, f);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
