// Compiles nst's stylisation pipelines once, for a program whose other units skip them.
//
// A unit that calls nst::stylize compiles four pipelines (VGG19 and VGG16, max and average
// pooling: the network is picked at run time) and their networks' forward and reverse passes;
// that is most of its compile time. To compile them once, include this header in exactly one
// .cpp of the program (as its first nst header), and compile every other unit that includes
// nst with NST_EXTERN_STYLIZE_NET defined (-DNST_EXTERN_STYLIZE_NET; with CMake,
// target_compile_definitions(app PRIVATE NST_EXTERN_STYLIZE_NET)). All of them need the same
// instruction-set flags (-march=...): the pipelines live in the namespace those flags name
// (core/isa_namespace.hpp), so a mismatch is a link error, not a silent mix.
#pragma once

#ifndef NST_EXTERN_STYLIZE_NET
#define NST_EXTERN_STYLIZE_NET  // declares them extern first, as the other units see them
#endif
#include "nst.hpp"

#ifndef NST_STYLIZE_NET_INSTANCE
#error "nst/stylize_instances.hpp must come before any other nst header in its unit (or define NST_EXTERN_STYLIZE_NET for the whole unit)"
#endif

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {
NST_STYLIZE_NET_INSTANCE(, vgg19_max_net)
NST_STYLIZE_NET_INSTANCE(, vgg19_average_net)
NST_STYLIZE_NET_INSTANCE(, vgg16_max_net)
NST_STYLIZE_NET_INSTANCE(, vgg16_average_net)
}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
