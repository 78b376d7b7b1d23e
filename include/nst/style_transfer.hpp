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
// options.style_scale times that; estimate the working memory and, above options.memory_limit,
// plan overlapping tiles that fit it (options.tile; invalid_argument stating the estimate when
// not even the smallest tile does); load VGG19; record the content activations
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
// Size: the content loss is a sum over activations and the TV prior a sum over pixels, so both
// grow with the pixel count, while the Gram-normalised style loss does not. With
// options.size_invariant (the default) stylize multiplies the content and TV weights by
// (512 / size)^2: the weights keep the balance they have at 512 px at every size (a 256 px preview
// looks like the 1024 px render); false gives the paper's plain sums.
//
// Coarse-to-fine (options.scales or options.multiscale): the run optimises at ascending sizes,
// each starting from the previous result upsampled, with the content and style targets computed
// at each size; options.iterations is the budget of the whole run (scale_plan.hpp splits it so the
// run costs about as much as single-scale, the cheap low scales getting more steps).
//
// The parts, one idea per header in style_transfer/: options.hpp (stylize_options, progress,
// result, validate_options), scale_plan.hpp (the sizes and steps of a coarse-to-fine run),
// content_scales.hpp (the automatic pyramid for one run's image shapes),
// memory_estimate.hpp, original_colors.hpp (keep_original_colors), color_transfer.hpp
// (match_color_statistics), region_masks.hpp (style and content masks), stylize.hpp (the
// steps and stylize itself), tile_plan.hpp and tiled.hpp (sizes beyond the memory limit, in
// overlapping tiles: stylize_options::tile)), stylize_cache.hpp (reuse of the
// weights and the style targets across calls).
#pragma once

#include "style_transfer/color_transfer.hpp"
#include "style_transfer/content_scales.hpp"
#include "style_transfer/memory_estimate.hpp"
#include "style_transfer/model_choice.hpp"
#include "style_transfer/options.hpp"
#include "style_transfer/original_colors.hpp"
#include "style_transfer/pyramid_parametrization.hpp"
#include "style_transfer/region_masks.hpp"
#include "style_transfer/scale_plan.hpp"
#include "style_transfer/stylize.hpp"
#include "style_transfer/tile_plan.hpp"
#include "style_transfer/tiled.hpp"
#include "style_transfer/stylize_cache.hpp"
