// The whole library in a few lines: stylize_minimal CONTENT STYLE OUTPUT.PNG [WEIGHTS.h5]
// (without WEIGHTS: $NST_WEIGHTS, Keras' and PyTorch's caches, then ./models/: find_vgg19_weights).
#include <cstdio>
#include <nst/nst.hpp>

int main(int argc, char** argv) try {
    if (argc < 4) return std::fprintf(stderr, "usage: %s CONTENT STYLE OUTPUT.png [WEIGHTS]\n", argv[0]), 2;
    nst::stylize_options options;          // 512 px, 500 L-BFGS iterations, the paper's layers
    options.iterations = 100;
    if (argc > 4) options.weights = argv[4];
    auto result = nst::stylize(nst::load_image(argv[1]), {nst::load_image(argv[2])}, options,
                               [](const nst::stylize_progress& p) { std::printf("%zu %g\n", p.iteration, p.loss); });
    nst::save_image(result.output, argv[3]);
} catch (const std::exception& e) {  // nst's errors name the file, layer or shape at fault
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
}
