// Teaching example: what a VGG layer remembers of a photo (Gatys et al. 2015, Fig. 1, bottom).
//
// Take the photo's activations P at one layer. Start from white noise x and change x until its
// activations F at that layer match P: minimise 1/2 sum (F - P)^2 with L-BFGS, where the
// gradient with respect to the pixels comes from one backward pass through the network.
// From conv1_2 / relu2_1 the photo's edges, layout and fine detail come back (grainy and
// duller after the default 200 iterations; closer with more); from relu4_2 or relu5_1 the
// objects and their layout survive but exact colours and fine detail are lost: deep layers
// encode *content*, which is why style transfer compares content there.
//
// Usage: teach_content_reconstruction WEIGHTS.h5 IMAGE [LAYER] [OUT.png] [ITERATIONS] [SIZE]
//   defaults: relu4_2, reconstruction.png, 200 iterations, 256 px on the longer side.
#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>

#include <nst/nst.hpp>

#include "argument_numbers.hpp"
#include "teaching_arguments.hpp"

int main(int argc, char** argv) {
    const bool help = asks_for_help(argc, argv);
    if (help || argc < 3) {
        std::fprintf(help ? stdout : stderr, "usage: %s WEIGHTS.h5 IMAGE [LAYER] [OUT.png] [ITERATIONS] [SIZE]\n", argv[0]);
        return help ? 0 : 2;
    }
    const std::string layer = argc > 3 ? argv[3] : "relu4_2";
    const std::string out = argc > 4 ? argv[4] : "reconstruction.png";
    try {
        const std::size_t iterations = argc > 5 ? whole_number_argument(argv[5], "ITERATIONS", 0, 100000) : 200;
        const std::size_t size = argc > 6 ? whole_number_argument(argv[6], "SIZE", 16, 4096) : 256;
        nst::vgg19<float> net;
        check_output_image(out, {argv[1], argv[2]});
        nst::load_vgg19_weights(net, argv[1]);
        const nst::image photo = nst::resize_longer_side(nst::load_image(argv[2]), size);
        // A layer behind k poolings, each halving the image, needs 2^k px: at least 1 px must remain.
        const std::size_t shorter = std::min(photo.shape(0), photo.shape(1)),
                          needed = net.min_input_side(net.index_of(layer));
        if (shorter < needed)
            throw std::invalid_argument("SIZE " + std::to_string(size) + " makes the photo's shorter side " +
                                        std::to_string(shorter) + " px; " + layer + " needs " + std::to_string(needed));

        // The target: the photo's activations at `layer` (copied: the next forward overwrites them).
        const nst::tensor3<float> target = net.forward(nst::to_vgg_input<float>(photo), net.index_of(layer));

        // The objective f(x, grad): forward to `layer`, content loss, backward to the pixels.
        nst::objective<nst::vgg19<float>> f(net);
        f.add(layer, 1.0f, nst::content_loss<float>(target), "content");

        // Start from white noise of the photo's size.
        std::mt19937 rng(42);
        std::uniform_real_distribution<float> level(0.0f, 255.0f);
        nst::image noise(photo.shape());
        for (float& v : noise) v = level(rng);
        nst::tensor3<float> x = nst::to_vgg_input<float>(noise);

        nst::lbfgs<float>::options options;
        options.max_iterations = iterations;
        const auto progress = [](const auto& s) {
            if (s.iteration % 25 == 0) std::printf("iteration %4zu  loss %.4g\n", s.iteration, double(s.loss));
        };
        const auto result = nst::lbfgs<float>(options).minimize(f, x, progress);
        std::printf("stopped after %zu iterations (%s), loss %.4g\n", result.iterations,
                    nst::to_string(result.reason).c_str(), double(result.loss));

        nst::save_image(nst::from_vgg_input(x), out);  // clamped to 0..255 only here
        std::printf("wrote %s\n", out.c_str());
    } catch (const std::exception& e) {  // nst::error and its subclasses, bad numbers, ...
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    return 0;
}
