// A consumer that calls stylize but compiles none of its pipelines: it is built with
// NST_EXTERN_STYLIZE_NET and links them from stylize_instances.cpp (README: "Compile time").
#include <cstdio>

#include <nst/nst.hpp>

int main() {
    nst::stylize_options options;
    options.weights = "no_such_weights.h5";  // refused before any pipeline runs: linking is the point
    const nst::image photo = xt::zeros<float>({8, 8, 3});
    try {
        nst::stylize(photo, {photo}, options);
    } catch (const nst::io_error& e) {
        std::printf("stylize linked; it refused the missing weights: %s\n", e.what());
        return 0;
    }
    std::printf("stylize ran without weights\n");
    return 1;
}
