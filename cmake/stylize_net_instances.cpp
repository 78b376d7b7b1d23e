// The four stylisation pipelines (stylize.hpp: stylize_net) and their networks' forward and
// reverse passes compiled once for the project's own programs (CMakeLists.txt:
// nst_stylize_net_instances), instead of once in each: the same header a consumer uses.
#include <nst/stylize_instances.hpp>
