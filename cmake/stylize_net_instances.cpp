// The four stylisation pipelines (stylize.hpp: stylize_net) and their networks' forward and
// reverse passes compiled once for the project's own programs (CMakeLists.txt:
// nst_stylize_net_instances), instead of once in each.
#ifndef NST_EXTERN_STYLIZE_NET  // (the target defines it)
#define NST_EXTERN_STYLIZE_NET
#endif
#include <nst/nst.hpp>

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
