// Teaching example: the Gram matrix, the "style" statistic of Gatys et al.
//
// A VGG layer's output is C feature maps of H x W. Flatten each map into a row and you get
// F (C x HW). The Gram matrix G = F F^T / HW is C x C: entry (i, j) says how strongly feature i
// and feature j fire *together*, averaged over all positions. Where they fire is forgotten,
// which is why G describes texture and colour ("style") but not the layout of the scene.
// (The paper's G is F F^T itself, with the 1 / M^2 for M = HW moved into the loss E_l; dividing
// by HW here is the same up to that factor, and keeps G comparable between image sizes.)
//
// Usage: teach_gram_matrix WEIGHTS.h5 IMAGE [OUT_PREFIX]
//   e.g. teach_gram_matrix ../shared/weights/vgg19_imagenet_notop.h5 ../shared/images/starry_night.jpg
// Writes OUT_PREFIX_relu1_1.png and OUT_PREFIX_relu3_1.png (default prefix "gram").
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <nst/nst.hpp>

#include "teaching_arguments.hpp"

int main(int argc, char** argv) {
    const bool help = asks_for_help(argc, argv);
    if (help || argc < 3) {
        std::fprintf(help ? stdout : stderr, "usage: %s WEIGHTS.h5 IMAGE [OUT_PREFIX]\n", argv[0]);
        return help ? 0 : 2;
    }
    const std::string prefix = argc > 3 ? argv[3] : "gram";
    try {
        nst::vgg19<float> net;
        for (const char* layer : {"relu1_1", "relu3_1"})
            check_output_image(prefix + "_" + layer + ".png", {argv[1], argv[2]}, "OUT_PREFIX");
        nst::load_vgg19_weights(net, argv[1]);

        // Network input: 256 px on the longer side, BGR, mean subtracted (the weights' convention).
        const nst::image img = nst::resize_longer_side(nst::load_image(argv[2]), 256);
        const nst::tensor3<float> x = nst::to_vgg_input<float>(img);

        // One forward pass up to the deepest layer we read; earlier outputs stay readable.
        net.forward(x, net.index_of("relu3_1"));

        for (const std::string layer : {"relu1_1", "relu3_1"}) {
            const nst::tensor3<float>& f = net.output(layer);  // C x H x W
            const std::size_t c = f.shape(0), positions = f.shape(1) * f.shape(2);
            const nst::tensor2<float> g = nst::gram(f, float(positions));  // F F^T / HW

            std::printf("%s: activations %s -> Gram matrix %zu x %zu\n", layer.c_str(),
                        nst::shape_string(f.shape()).c_str(), c, c);
            // The diagonal is each feature's mean energy; off-diagonal entries are correlations.
            std::printf("  G(0,0) = %.2f  G(1,1) = %.2f  G(0,1) = %.2f  G(1,0) = %.2f (symmetric)\n",
                        g(0, 0), g(1, 1), g(0, 1), g(1, 0));

            // Heat map: white = large. A square root spreads the few huge entries out.
            const float largest = std::max(xt::amax(g)(), 1e-12f);
            nst::image heat({c, c, 3});
            for (std::size_t i = 0; i < c; ++i)
                for (std::size_t j = 0; j < c; ++j) {
                    const float v = 255.0f * std::sqrt(std::max(g(i, j), 0.0f) / largest);
                    heat(i, j, 0) = heat(i, j, 1) = heat(i, j, 2) = v;
                }
            const std::string out = prefix + "_" + layer + ".png";
            nst::save_image(heat, out);
            std::printf("  wrote %s\n", out.c_str());
        }
    } catch (const std::exception& e) {  // nst::error and its subclasses, bad numbers, ...
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    return 0;
}
