// The one unit that compiles nst's stylisation pipelines for the whole program.
#include <nst/stylize_instances.hpp>
