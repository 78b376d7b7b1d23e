// Teaching example: texture synthesis from style alone (Gatys, Ecker & Bethge 2015, "Texture
// Synthesis Using Convolutional Neural Networks", which matched Gram matrices at conv1_1 and
// pool1-pool4; here at the relu<k>_1 layers of the style transfer paper's style representation).
//
// Style transfer without the content term. The painting's Gram matrices A_l at several layers
// (see teach_gram_matrix) describe its textures with all positions forgotten. Starting from
// white noise, L-BFGS changes the pixels until the noise image's Gram matrices match them:
// brush strokes and colours appear, but arranged anywhere, because nothing asks for the
// painting's layout. Using only low layers (relu1_1, relu2_1) gives small-scale texture;
// adding deeper ones gives larger structures (the style reconstructions of "A Neural Algorithm of
// Artistic Style", Fig. 1, top).
//
// Usage: teach_texture_synthesis WEIGHTS.h5 STYLE_IMAGE [OUT.png] [ITERATIONS] [SIZE] [DEEPEST]
//   defaults: texture.png, 200 iterations, 256 px, style layers relu1_1 .. relu5_1 (DEEPEST = 5).
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
        std::fprintf(help ? stdout : stderr, "usage: %s WEIGHTS.h5 STYLE_IMAGE [OUT.png] [ITERATIONS] [SIZE] [DEEPEST 1-5]\n",
                     argv[0]);
        return help ? 0 : 2;
    }
    const std::string out = argc > 3 ? argv[3] : "texture.png";
    try {
        const std::size_t iterations = argc > 4 ? whole_number_argument(argv[4], "ITERATIONS", 0, 100000) : 200;
        const std::size_t size = argc > 5 ? whole_number_argument(argv[5], "SIZE", 16, 4096) : 256;
        const int deepest = argc > 6 ? int(whole_number_argument(argv[6], "DEEPEST", 1, 5)) : 5;
        check_output_image(out, {argv[1], argv[2]});
        nst::vgg19<float> net;
        nst::load_vgg19_weights(net, argv[1]);
        const nst::image style = nst::resize_longer_side(nst::load_image(argv[2]), size);
        // relu<k>_1 lies behind k - 1 poolings, each halving the image: at least 1 px must remain.
        const std::string deepest_layer = "relu" + std::to_string(deepest) + "_1";
        const std::size_t shorter = std::min(style.shape(0), style.shape(1)),
                          needed = net.min_input_side(net.index_of(deepest_layer));
        if (shorter < needed)
            throw std::invalid_argument("SIZE " + std::to_string(size) + " makes the style image's shorter side " +
                                        std::to_string(shorter) + " px; " + deepest_layer + " needs " +
                                        std::to_string(needed));
        // Up to the deepest layer read (every layer's output up to there stays readable); past
        // it a small image would shrink below the 2 x 2 pooling window for nothing.
        net.forward(nst::to_vgg_input<float>(style), net.index_of(deepest_layer));

        // One style term per layer relu1_1 .. relu<deepest>_1, equally weighted (the paper's w_l).
        nst::objective<nst::vgg19<float>> f(net);
        for (int block = 1; block <= deepest; ++block) {
            const std::string layer = "relu" + std::to_string(block) + "_1";
            const nst::tensor2<float> target = nst::style_target(net.output(layer));  // A_l
            f.add(layer, 1.0f / float(deepest), nst::style_loss<float>(target), "style");
            std::printf("style layer %s: Gram %s\n", layer.c_str(), nst::shape_string(target.shape()).c_str());
        }

        // White noise of the style image's size. (Any size works: the Gram matrix is C x C
        // whatever H x W is, so you can also synthesise a larger texture than the painting.)
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> level(0.0f, 255.0f);
        nst::image noise(style.shape());
        for (float& v : noise) v = level(rng);
        nst::tensor3<float> x = nst::to_vgg_input<float>(noise);

        nst::lbfgs<float>::options options;
        options.max_iterations = iterations;
        const auto progress = [](const auto& s) {
            if (s.iteration % 25 == 0) std::printf("iteration %4zu  style loss %.4g\n", s.iteration, double(s.loss));
        };
        const auto result = nst::lbfgs<float>(options).minimize(f, x, progress);
        std::printf("stopped after %zu iterations (%s), loss %.4g\n", result.iterations,
                    nst::to_string(result.reason).c_str(), double(result.loss));

        nst::save_image(nst::from_vgg_input(x), out);
        std::printf("wrote %s\n", out.c_str());
    } catch (const std::exception& e) {  // nst::error and its subclasses, bad numbers, ...
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    return 0;
}
