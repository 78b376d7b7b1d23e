// Teaching example: a different style in each region (Gatys et al. 2017, "Controlling perceptual
// factors in neural style transfer").
//
// A Gram matrix forgets where features fire (see teach_gram_matrix), so one style term makes the
// whole picture one texture. To paint two regions differently, give each style its own term whose
// Gram matrix is taken only over its region of the generated image: with a mask m (1 inside, 0
// outside, soft between), G = F diag(m) F^T / sum(m), the mean outer product over the region.
// Each layer sees the mask average-pooled to its own resolution, like the image itself. The
// style's target stays the Gram of the whole style image: "look like this, but only here".
//
// This program makes two very different styles in memory (blue stripes, red dots), puts them on
// the left and right halves of a photo (stylize_options::style_masks), then swaps the masks, and
// prints how blue each half came out. It also shows, on one layer, that the masked Gram of a 0/1
// mask is the plain Gram of the region cut out.
//
// Usage: teach_style_masks WEIGHTS.h5 PHOTO [OUT_PREFIX] [ITERATIONS] [SIZE]
//   defaults: prefix "masks" (writes masks_left.png, masks_right.png), 30 iterations, 64 px.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nst/nst.hpp>

#include "argument_numbers.hpp"
#include "teaching_arguments.hpp"

namespace {

nst::image stripes_or_dots(bool stripes) {
    nst::image img({64, 64, 3});
    for (std::size_t y = 0; y < 64; ++y)
        for (std::size_t x = 0; x < 64; ++x) {
            const double dy = double(y % 10) - 5, dx = double(x % 10) - 5;
            const bool ink = stripes ? y % 8 < 3 : dy * dy + dx * dx < 9;
            const float rgb[2][2][3] = {{{250, 240, 200}, {220, 20, 20}}, {{230, 230, 240}, {20, 40, 200}}};
            for (std::size_t c = 0; c < 3; ++c) img(y, x, c) = rgb[stripes][ink][c];
        }
    return img;
}

// White on one half, black on the other (a mask image: greyscale stored as RGB).
nst::image half_mask(std::size_t h, std::size_t w, bool left) {
    nst::image img = xt::zeros<float>({h, w, std::size_t(3)});
    xt::view(img, xt::all(), left ? xt::range(0, w / 2) : xt::range(w / 2, w), xt::all()) = 255.0f;
    return img;
}

// Mean of blue minus red over the columns [begin, end).
double blueness(const nst::image& img, std::size_t begin, std::size_t end) {
    double sum = 0;
    for (std::size_t y = 0; y < img.shape(0); ++y)
        for (std::size_t x = begin; x < end; ++x)  // as saved: stylize's output is not clamped to 0..255
            sum += std::clamp(img(y, x, 2), 0.0f, 255.0f) - std::clamp(img(y, x, 0), 0.0f, 255.0f);
    return sum / double(img.shape(0) * (end - begin));
}

}  // namespace

int main(int argc, char** argv) {
    const bool help = asks_for_help(argc, argv);
    if (help || argc < 3) {
        std::fprintf(help ? stdout : stderr, "usage: %s WEIGHTS.h5 PHOTO [OUT_PREFIX] [ITERATIONS] [SIZE]\n", argv[0]);
        return help ? 0 : 2;
    }
    const std::string prefix = argc > 3 ? argv[3] : "masks";
    try {
        nst::stylize_options o;
        o.weights = argv[1];
        o.iterations = argc > 4 ? whole_number_argument(argv[4], "ITERATIONS", 0, 100000) : 30;
        o.size = argc > 5 ? whole_number_argument(argv[5], "SIZE", 16, 4096) : 64;
        o.threads = 1;
        for (const char* end : {"_left.png", "_right.png"})
            check_output_image(prefix + end, {argv[1], argv[2]}, "OUT_PREFIX");
        const nst::image photo = nst::load_image(argv[2]);
        const std::vector<nst::image> styles{stripes_or_dots(true), stripes_or_dots(false)};

        // 1. The masked Gram of a 0/1 mask is the Gram of the region alone (relu1_1 of the stripes).
        nst::vgg19<float> net;
        nst::load_vgg19_weights(net, argv[1]);
        net.forward(nst::to_vgg_input<float>(styles[0]), net.index_of("relu1_1"));
        const nst::tensor3<float>& f = net.output("relu1_1");
        nst::tensor2<float> left = xt::zeros<float>({f.shape(1), f.shape(2)});
        xt::view(left, xt::all(), xt::range(0, f.shape(2) / 2)) = 1.0f;
        const nst::tensor3<float> cut = xt::view(f, xt::all(), xt::all(), xt::range(0, f.shape(2) / 2));
        const nst::tensor2<float> region = nst::style_target(cut);
        std::printf("relu1_1: largest |masked Gram - Gram of the left half| = %.2g (largest entry %.3g)\n",
                    double(xt::amax(xt::abs(nst::masked_gram(f, left) - region))()),
                    double(xt::amax(xt::abs(region))()));

        // 2. Stripes left and dots right, then the other way round. Masks are any size near the
        // photo's shape: they are stretched to the working size.
        for (const bool stripes_left : {true, false}) {
            o.style_masks = {half_mask(photo.shape(0), photo.shape(1), stripes_left),
                             half_mask(photo.shape(0), photo.shape(1), !stripes_left)};
            const nst::stylize_result r = nst::stylize(photo, styles, o);
            const std::size_t w = r.output.shape(1);
            const std::string out = prefix + (stripes_left ? "_left.png" : "_right.png");
            nst::save_image(r.output, out);
            std::printf("stripes %s: blue - red on the left %.1f, on the right %.1f -> %s\n",
                        stripes_left ? "left " : "right", blueness(r.output, 0, w / 2), blueness(r.output, w / 2, w),
                        out.c_str());
        }
    } catch (const std::exception& e) {  // nst::error and its subclasses, bad numbers, ...
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
}
