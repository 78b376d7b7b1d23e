// The high-level API: "make this photo look like that painting" (Gatys, Ecker & Bethge 2015).
//
//     nst::stylize_options options;                    // documented defaults, see below
//     options.weights = "vgg19_imagenet_notop.h5";     // or leave empty: $NST_WEIGHTS, Keras cache
//     nst::image content = nst::load_image("tubingen.jpg");
//     nst::image style = nst::load_image("starry_night.jpg");
//     auto result = nst::stylize(content, {style}, options, [](const nst::stylize_progress& p) {
//         std::printf("%zu %g\n", p.iteration, p.loss);   // return false to stop early
//     });
//     nst::save_image(result.output, "out.png");
//
// What one call does: resize the content so its longer side is options.size and each style to
// options.style_scale times that; estimate the working memory and refuse (invalid_argument,
// stating the estimate) above options.memory_limit; load VGG19; record the content activations
// and the (blended) style Gram targets; then minimise
//     content_weight * (1/K) sum_k C_k  +  style_weight * sum_l w_l E_l  +  tv_weight * TV
// over the image with L-BFGS or Adam, starting from the content, noise or a given image, and
// return the image with the lowest loss seen. C_k is the paper's 1/2 sum (F - P)^2, E_l the
// paper's 1/(4 N^2 M^2) sum (G - A)^2 (style_loss.hpp, "gatys" normalisation), w_l = 1/L by
// default, TV the sum of squared neighbour differences in pixel units (0..255).
//
// Relation to the paper: with one content layer and w_l = 1/L the total is exactly the paper's
// alpha * L_content + beta * L_style (+ TV), so alpha/beta = content_weight / style_weight.
// The defaults (alpha = 1, beta = 5e3: alpha/beta = 2e-4) lie between the paper's Fig. 2 ratios
// 1e-3 (B-D) and 1e-4 (E, F), with the same Caffe-convention VGG19 input (0..255, BGR, mean
// subtracted). They were tuned by eye on tubingen.jpg + starry_night.jpg (at 256 px with the
// 512-px-equivalent weights, then confirmed by the 512 px default run): beta = 1e2 barely
// changes the photo, 1e3 adds fine texture only, 1e4 gives strong swirls that start to dissolve
// the houses; 5e3 keeps the buildings and shows the painting's brush strokes and swirls.
// Size matters: the content loss is a sum over activations and grows with the pixel count, the
// Gram-normalised style loss does not; at another size the same look needs the content weight
// times (size / 512)^2 (or the style weight divided by it).
//
// The parts, one idea per header in style_transfer/: options.hpp (stylize_options, progress,
// result, validate_options), memory_estimate.hpp, original_colors.hpp (keep_original_colors),
// stylize.hpp (the steps and stylize itself), stylize_cache.hpp (reuse of the network and the
// style targets across calls).
#pragma once

#include "style_transfer/memory_estimate.hpp"
#include "style_transfer/options.hpp"
#include "style_transfer/original_colors.hpp"
#include "style_transfer/stylize.hpp"
#include "style_transfer/stylize_cache.hpp"
