// Compile-time checks of the layer contract (layer_abstract.hpp) and traits for its optional
// members. nst::sequential uses them: check_layer gives one readable error for a broken layer,
// the optional members (fusion, conv algorithm, weights) are found by what a type declares, so a
// user's own layers take part exactly like nst's.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "../core/isa_namespace.hpp"
#include "conv_algorithm.hpp"
#include "conv_precision.hpp"
#include "layer_shape.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// The element-wise activations a producing layer may compute in its own forward pass.
enum class fusable_activation { relu };

// Whether L holds 3x3 convolution weights the weight loaders can fill: in_channels,
// out_channels and set_weights(tensor4<T> Out x In x 3 x 3, tensor1<T> Out). True for
// nst::conv3x3; a user's layer opts in by specializing it:
//   template <> struct nst::is_conv3x3<my_conv> : std::true_type {};
template <class L> struct is_conv3x3 : std::false_type {};
template <class L> inline constexpr bool is_conv3x3_v = is_conv3x3<L>::value;

namespace detail::layer_check {
template <class L, class = void> struct value_type : std::false_type {};
template <class L> struct value_type<L, std::void_t<typename L::value_type>> : std::true_type {};

template <class L, class = void> struct channels : std::false_type {};
template <class L>
struct channels<L, std::void_t<std::integral_constant<std::size_t, L::in_channels>,
                               std::integral_constant<std::size_t, L::out_channels>>>
    : std::true_type {};

template <class L, class = void> struct needs_flags : std::false_type {};
template <class L>
struct needs_flags<L, std::void_t<std::bool_constant<L::backward_needs_input>,
                                  std::bool_constant<L::backward_needs_output>>>
    : std::true_type {};

template <class L, class = void> struct output_shape : std::false_type {};
template <class L>
struct output_shape<L, std::void_t<decltype(L::output_shape(std::declval<const shape3&>()))>>
    : std::is_same<decltype(L::output_shape(std::declval<const shape3&>())), shape3> {};

template <class L, class = void> struct forward : std::false_type {};
template <class L>
struct forward<L, std::void_t<decltype(std::declval<const L&>().forward(
                      std::declval<const tensor3<typename L::value_type>&>(),
                      std::declval<tensor3<typename L::value_type>&>()))>> : std::true_type {};

template <class L, class = void> struct backward : std::false_type {};
template <class L>
struct backward<L, std::void_t<decltype(std::declval<const L&>().backward(
                       std::declval<const tensor3<typename L::value_type>&>(),
                       std::declval<const tensor3<typename L::value_type>&>(),
                       std::declval<tensor3<typename L::value_type>&&>(),
                       std::declval<const shape3&>()))>>
    : std::is_convertible<decltype(std::declval<const L&>().backward(
                              std::declval<const tensor3<typename L::value_type>&>(),
                              std::declval<const tensor3<typename L::value_type>&>(),
                              std::declval<tensor3<typename L::value_type>&&>(),
                              std::declval<const shape3&>())),
                          tensor3<typename L::value_type>> {};
}  // namespace detail::layer_check

// Whether L meets the required part of the layer contract (layer_abstract.hpp).
template <class L>
struct is_layer
    : std::bool_constant<detail::layer_check::value_type<L>::value &&
                         detail::layer_check::channels<L>::value &&
                         detail::layer_check::needs_flags<L>::value &&
                         detail::layer_check::output_shape<L>::value &&
                         detail::layer_check::forward<L>::value &&
                         detail::layer_check::backward<L>::value &&
                         std::is_default_constructible_v<L>> {};
template <class L> inline constexpr bool is_layer_v = is_layer<L>::value;

// Fails compilation with one message naming the first member of the contract that L lacks
// (the compiler's "required from" notes name L). Returns is_layer_v<L>.
template <class L> constexpr bool check_layer() {
    namespace c = detail::layer_check;
    constexpr bool v = c::value_type<L>::value;
    static_assert(v, "nst layer contract (nst/layers/layer_abstract.hpp): the layer has no "
                     "`using value_type = T;`");
    constexpr bool ch = v && c::channels<L>::value;
    static_assert(!v || ch, "nst layer contract (nst/layers/layer_abstract.hpp): the layer needs "
                            "`static constexpr std::size_t in_channels, out_channels` (0 = any)");
    constexpr bool fl = ch && c::needs_flags<L>::value;
    static_assert(!ch || fl, "nst layer contract (nst/layers/layer_abstract.hpp): the layer needs "
                             "`static constexpr bool backward_needs_input, backward_needs_output`");
    constexpr bool os = fl && c::output_shape<L>::value;
    static_assert(!fl || os, "nst layer contract (nst/layers/layer_abstract.hpp): the layer needs "
                             "`static constexpr shape3 output_shape(const shape3& in)`");
    constexpr bool fw = os && c::forward<L>::value;
    static_assert(!os || fw, "nst layer contract (nst/layers/layer_abstract.hpp): the layer needs "
                             "`void forward(const tensor3<T>& x, tensor3<T>& y) const`");
    constexpr bool bw = fw && c::backward<L>::value;
    static_assert(!fw || bw, "nst layer contract (nst/layers/layer_abstract.hpp): the layer needs "
                             "`tensor3<T> backward(const tensor3<T>& x, const tensor3<T>& y, "
                             "tensor3<T>&& dy, const shape3& in_shape) const`");
    constexpr bool dc = bw && std::is_default_constructible_v<L>;
    static_assert(!bw || dc, "nst layer contract (nst/layers/layer_abstract.hpp): the layer must "
                             "be default-constructible");
    return dc;
}

namespace detail {
template <class L, class = void> struct declares_fusable : std::false_type {};
template <class L>
struct declares_fusable<L, std::void_t<decltype(L::fusable)>>
    : std::is_same<std::decay_t<decltype(L::fusable)>, fusable_activation> {};

template <class L, class = void> struct has_forward_fused : std::false_type {};
template <class L>
struct has_forward_fused<
    L, std::void_t<std::bool_constant<L::can_fuse(fusable_activation::relu)>,
                   decltype(std::declval<const L&>().forward_fused(
                       std::declval<const tensor3<typename L::value_type>&>(),
                       std::declval<tensor3<typename L::value_type>&>(),
                       fusable_activation::relu))>> : std::true_type {};

template <class Producer, class Activation> constexpr bool can_fuse() {
    if constexpr (has_forward_fused<Producer>::value && declares_fusable<Activation>::value)
        return Producer::can_fuse(Activation::fusable);
    else
        return false;
}

template <class L, class = void> struct parameter_count : std::integral_constant<std::size_t, 0> {};
template <class L>
struct parameter_count<L, std::void_t<std::integral_constant<std::size_t, L::parameter_count>>>
    : std::integral_constant<std::size_t, L::parameter_count> {};

template <class L, class = void> struct has_saved_state : std::false_type {};
template <class L>
struct has_saved_state<L, std::void_t<typename L::saved_state>> : std::true_type {};

template <class L, class = void> struct has_conv_algorithm : std::false_type {};
template <class L>
struct has_conv_algorithm<L, std::void_t<decltype(std::declval<L&>().set_conv_algorithm(
                                 conv_algorithm::fastest))>> : std::true_type {};

template <class L, class = void> struct has_conv_precision : std::false_type {};
template <class L>
struct has_conv_precision<L, std::void_t<decltype(std::declval<L&>().set_precision(
                                 conv_precision::fp32))>> : std::true_type {};
}  // namespace detail

// Whether Producer's forward can compute Activation (the next layer) in the same pass.
template <class Producer, class Activation>
inline constexpr bool can_fuse_v = detail::can_fuse<Producer, Activation>();

// L::parameter_count, or 0 for a layer without parameters.
template <class L>
inline constexpr std::size_t parameter_count_v = detail::parameter_count<L>::value;

// Whether L takes a convolution algorithm (set_conv_algorithm).
template <class L>
inline constexpr bool has_conv_algorithm_v = detail::has_conv_algorithm<L>::value;

// Whether L takes a convolution precision (set_precision).
template <class L>
inline constexpr bool has_conv_precision_v = detail::has_conv_precision<L>::value;

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
