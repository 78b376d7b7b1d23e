// Teaching example: what VGG19 "sees" — a contact sheet of feature maps.
//
// Each convolution layer turns the image into C feature maps: one grey picture per filter that
// is bright where the filter's pattern occurs. Early layers (relu1_1) respond to edges and colours
// and still look like the photo; deeper layers (relu4_1) are coarser (three poolings before it
// halve the size three times: 1/8) and respond to larger, more abstract parts of objects.
//
// Usage: teach_feature_maps WEIGHTS.h5 IMAGE [LAYER] [OUT.png]
//   e.g. teach_feature_maps ../shared/weights/vgg19_imagenet_notop.h5 ../shared/images/tubingen.jpg relu2_1
// LAYER defaults to relu1_1 and OUT.png to feature_maps.png: the first 16 maps in a 4 x 4 grid.
#include <algorithm>
#include <cstdio>
#include <string>

#include <nst/nst.hpp>

#include "teaching_arguments.hpp"

int main(int argc, char** argv) {
    const bool help = asks_for_help(argc, argv);
    if (help || argc < 3) {
        std::fprintf(help ? stdout : stderr, "usage: %s WEIGHTS.h5 IMAGE [LAYER] [OUT.png]\n", argv[0]);
        return help ? 0 : 2;
    }
    const std::string layer = argc > 3 ? argv[3] : "relu1_1";
    const std::string out = argc > 4 ? argv[4] : "feature_maps.png";
    try {
        nst::vgg19<float> net;
        check_output_image(out, {argv[1], argv[2]});
        nst::load_vgg19_weights(net, argv[1]);
        const nst::image img = nst::resize_longer_side(nst::load_image(argv[2]), 384);

        // Forward only as deep as needed: layers after `layer` are not computed.
        const nst::tensor3<float>& f = net.forward(nst::to_vgg_input<float>(img), net.index_of(layer));
        const std::size_t h = f.shape(1), w = f.shape(2), gap = 2, grid = 4;
        std::printf("%s: %zu feature maps of %zu x %zu\n", layer.c_str(), f.shape(0), h, w);

        // A white sheet with room for grid x grid maps separated by `gap` pixels.
        nst::image sheet({grid * h + (grid + 1) * gap, grid * w + (grid + 1) * gap, 3});
        sheet.fill(255.0f);
        for (std::size_t k = 0; k < std::min<std::size_t>(grid * grid, f.shape(0)); ++k) {
            // Each map gets its own contrast stretch: its minimum is black, its maximum white.
            // (After a ReLU the minimum is usually 0: black means "pattern absent here".)
            const auto map = xt::view(f, k, xt::all(), xt::all());
            const float lo = xt::amin(map)(), hi = xt::amax(map)();
            const float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
            const std::size_t top = gap + (k / grid) * (h + gap), left = gap + (k % grid) * (w + gap);
            for (std::size_t y = 0; y < h; ++y)
                for (std::size_t x = 0; x < w; ++x)
                    for (std::size_t c = 0; c < 3; ++c)
                        sheet(top + y, left + x, c) = (map(y, x) - lo) * scale;
        }
        nst::save_image(sheet, out);
        std::printf("wrote %s\n", out.c_str());
    } catch (const std::exception& e) {  // nst::error and its subclasses, bad numbers, ...
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    return 0;
}
