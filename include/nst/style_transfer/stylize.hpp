// nst::stylize: one call from a content photo and style images to the stylised image, in named
// steps (working sizes and memory check, content terms, style targets and blends, initial
// image, optimiser run, result). style_transfer.hpp describes what it computes.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/buffer_pool.hpp"
#include "../core/error.hpp"
#include "../core/memory_limit.hpp"
#include "../core/tensor.hpp"
#include "../core/threads.hpp"
#include "../io/caffe_weights.hpp"
#include "../io/image.hpp"
#include "../io/preprocess.hpp"
#include "../io/read_weights.hpp"
#include "../io/weights_lookup.hpp"
#include "../loss/content_loss.hpp"
#include "../loss/masked_content_loss.hpp"
#include "../loss/masked_style_loss.hpp"
#include "../loss/objective.hpp"
#include "../loss/style_loss.hpp"
#include "../loss/total_variation_loss.hpp"
#include "../models/model_kind.hpp"
#include "../optim/optim.hpp"
#include "color_transfer.hpp"
#include "memory_estimate.hpp"
#include "model_choice.hpp"
#include "options.hpp"
#include "original_colors.hpp"
#include "pyramid_parametrization.hpp"
#include "region_masks.hpp"
#include "scale_plan.hpp"
#include "tile_plan.hpp"
#include "stylize_cache.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

using image_size = std::array<std::size_t, 2>;  // height, width

struct working_sizes {
    image_size content;
    std::vector<image_size> styles;
};

inline void require_side_at_least(const image_size& size, std::size_t min_side, const std::string& what) {
    if (size[0] < min_side || size[1] < min_side)
        throw invalid_argument(what + " working size " + std::to_string(size[1]) + " x " + std::to_string(size[0]) +
                               " is too small: the deepest layer needs both sides >= " +
                               std::to_string(min_side) + " pixels");
}

// A working size within the pixel limit the inputs are held to (the resize to it would refuse it).
inline void require_pixels_within(const image_size& size, const image_limits& limits, const std::string& what) {
    if (double(size[0]) * double(size[1]) > double(limits.max_pixels))
        throw image_too_large(what + " working size " + std::to_string(size[1]) + " x " + std::to_string(size[0]) +
                              " is more than the limit of " + std::to_string(limits.max_pixels) +
                              " pixels (stylize_options::input_limits.max_pixels)");
}

/*  Step 1: the sizes the images are resized to, checked against what the deepest layer needs,
    the pixel limit and the memory limit, before anything large is allocated.
    throws: invalid_argument naming the size, or stating the memory estimate and the limit;
            image_too_large naming the size above the pixel limit. */
inline working_sizes plan_working_sizes(const nst::image& content, const std::vector<nst::image>& styles,
                                        const stylize_options& o) {
    working_sizes sizes{scaled_size(content.shape(0), content.shape(1), o.size), {}};
    const std::size_t style_side = std::max<std::size_t>(1, std::size_t(std::lround(o.style_scale * double(o.size))));
    for (const auto& s : styles) sizes.styles.push_back(scaled_size(s.shape(0), s.shape(1), style_side));

    const std::size_t min_side = min_input_side(o);
    require_side_at_least(sizes.content, min_side, "content");
    require_pixels_within(sizes.content, o.input_limits, "content");
    for (std::size_t i = 0; i < sizes.styles.size(); ++i) {
        require_side_at_least(sizes.styles[i], min_side, "style image " + std::to_string(i + 1));
        require_pixels_within(sizes.styles[i], o.input_limits, "style image " + std::to_string(i + 1));
    }

    const std::uint64_t limit = o.memory_limit ? o.memory_limit : default_memory_limit();
    const std::uint64_t need = estimate_stylize_memory(sizes.content[0], sizes.content[1], sizes.styles, o) +
                               input_image_bytes(content, styles);
    if (need > limit) {
        // Style images larger than the content (a large style scale) may be what does not fit: named.
        std::string larger;
        for (std::size_t i = 0; i < sizes.styles.size(); ++i)
            if (sizes.styles[i][0] * sizes.styles[i][1] > sizes.content[0] * sizes.content[1])
                larger += std::string(larger.empty() ? " (" : ", ") + "style image " + std::to_string(i + 1) + " at " +
                          std::to_string(sizes.styles[i][1]) + " x " + std::to_string(sizes.styles[i][0]);
        throw invalid_argument("working size " + std::to_string(sizes.content[1]) + " x " +
                               std::to_string(sizes.content[0]) + (larger.empty() ? "" : larger + ")") +
                               " needs about " + format_bytes(need) + " of memory, above the limit of " +
                               format_bytes(limit) + "; lower the size" +
                               (larger.empty() ? "" : " or the style scale,") + " or raise the memory limit");
    }
    return sizes;
}

// The input convention of a run (stylize_with resolves weights_preprocessing before any use).
inline input_convention convention_of(const stylize_options& o) {
    return o.weights_preprocessing.value_or(input_convention::caffe);
}
// One pixel level (0..255 scale) in the run's input units.
inline double pixel_level(const stylize_options& o) { return pixel_level_in_input_units(convention_of(o)); }

// Network indices of the named layers; the network keeps only their outputs from now on.
template <class Net> std::vector<std::size_t> keep_layers(Net& net, const std::vector<std::string>& names) {
    std::vector<std::size_t> indices;
    for (const auto& n : names) indices.push_back(net.index_of(n));
    net.keep_only(indices);
    return indices;
}

// The H x W of a layer's output for the content at its working size.
template <class Net> std::array<std::size_t, 2> layer_size(const nst::image& content, std::size_t layer) {
    const auto shape = Net::output_shapes({3, content.shape(0), content.shape(1)})[layer];
    return {shape[1], shape[2]};
}

/*  Step 2: content terms. Records P (the content's activations) at each content layer and adds
    content_weight / K * content_loss(P) for each of the K layers, group "content" (weighted by
    the content mask pooled to the layer's size when there is one). */
template <class Net>
void add_content_terms(objective<Net>& loss, Net& net, const nst::image& content, const stylize_options& o) {
    using T = typename Net::value_type;
    if (o.content_layers.empty()) return;
    const std::vector<std::size_t> layers = keep_layers(net, o.content_layers);
    net.forward(to_vgg_input<T>(content, convention_of(o)), *std::max_element(layers.begin(), layers.end()));
    const bool masked = o.content_mask.size() != 0;
    const tensor2<float> mask =
        masked ? mask_weights(o.content_mask, content.shape(0), content.shape(1), o.input_limits) : tensor2<float>();
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const double wk = o.content_layer_weights.empty() ? 1.0 / double(layers.size()) : o.content_layer_weights[k];
        const T weight = T(o.content_weight * wk);
        if (!masked) {
            loss.add(o.content_layers[k], weight, content_loss<T>(net.output(layers[k])), "content");
            continue;
        }
        const auto size = layer_size<Net>(content, layers[k]);
        tensor2<T> m = xt::cast<T>(pool_mask(mask, size[0], size[1]));
        loss.add(o.content_layers[k], weight, masked_content_loss<T>(net.output(layers[k]), std::move(m)), "content");
    }
}

// The blend weight of each style image, normalised to sum 1.
inline std::vector<double> normalised_blend(const stylize_options& o, std::size_t style_count) {
    std::vector<double> blend = o.style_blend.empty() ? std::vector<double>(style_count, 1.0) : o.style_blend;
    double sum = 0;
    for (double b : blend) sum += b;
    for (double& b : blend) b /= sum;
    return blend;
}

// A style image as the network sees it: at its working size, recoloured to the content's colour
// statistics under color_mode::histogram.
inline nst::image style_input(const nst::image& style, const image_size& size, const nst::image& content,
                              const stylize_options& o) {
    nst::image resized = resize_image(style, size[0], size[1], o.input_limits);
    return o.colors == color_mode::histogram ? match_color_statistics(resized, content) : resized;
}

/*  One style image's Gram target per layer of `layers` (from o.cache when it holds them; a style
    recoloured to the content under color_mode::histogram depends on the content and is not
    cached). */
template <class Net>
std::vector<tensor2<typename Net::value_type>> style_image_targets(Net& net, const nst::image& style,
                                                                   const image_size& size, const nst::image& content,
                                                                   const std::vector<std::size_t>& layers,
                                                                   const stylize_options& o) {
    using T = typename Net::value_type;
    const auto compute = [&] {
        net.forward(to_vgg_input<T>(style_input(style, size, content, o), convention_of(o)),
                    *std::max_element(layers.begin(), layers.end()));
        std::vector<tensor2<T>> targets;
        for (std::size_t l : layers) targets.push_back(style_target(net.output(l)));
        return targets;
    };
    if (!o.cache || o.colors == color_mode::histogram) return compute();
    const std::string convention = convention_of(o) == input_convention::caffe ? " caffe" : " torchvision";
    return o.cache->style_targets<Net>(
        style_target_key(style, size[0], size[1], o.style_layers, o.pooling_mode, o.precision, weights_key(o) + convention),
        compute);
}

/*  Per style layer, the blend-weighted sum of each style image's Gram targets, `targets_of(s)`
    giving style s's (called only for styles of weight > 0: the others are not even run through
    the network). Whole (below) and tiled (tiled.hpp) scales differ only in targets_of. */
template <class T, class TargetsOf>
std::vector<tensor2<T>> blend_style_targets(std::size_t layer_count, const std::vector<double>& blend,
                                            TargetsOf&& targets_of) {
    std::vector<tensor2<T>> targets(layer_count);
    for (std::size_t s = 0; s < blend.size(); ++s) {
        if (blend[s] == 0) continue;
        std::vector<tensor2<T>> style_targets = targets_of(s);
        for (std::size_t l = 0; l < layer_count; ++l) {
            style_targets[l] *= T(blend[s]);
            if (targets[l].size() == 0)
                targets[l] = std::move(style_targets[l]);
            else
                targets[l] += style_targets[l];
        }
    }
    return targets;
}

// Step 3a: the blended style targets of a scale optimised whole.
template <class Net>
std::vector<tensor2<typename Net::value_type>> blended_style_targets(Net& net, const nst::image& content,
                                                                     const std::vector<nst::image>& styles,
                                                                     const std::vector<image_size>& sizes,
                                                                     const stylize_options& o) {
    const std::vector<std::size_t> layers = keep_layers(net, o.style_layers);
    return blend_style_targets<typename Net::value_type>(
        layers.size(), normalised_blend(o, styles.size()),
        [&](std::size_t s) { return style_image_targets(net, styles[s], sizes[s], content, layers, o); });
}

inline double style_layer_weight(const stylize_options& o, std::size_t l) {
    return o.style_layer_weights.empty() ? 1.0 / double(o.style_layers.size()) : o.style_layer_weights[l];
}

// Each style's region at the content's working size: its mask (all ones without one), with the
// overlaps normalised.
inline std::vector<tensor2<float>> style_regions(const nst::image& content, std::size_t style_count,
                                                 const stylize_options& o) {
    const std::size_t h = content.shape(0), w = content.shape(1);
    std::vector<tensor2<float>> regions;
    for (std::size_t s = 0; s < style_count; ++s)
        regions.push_back(o.style_masks[s].size() != 0 ? mask_weights(o.style_masks[s], h, w, o.input_limits)
                                                       : tensor2<float>(xt::ones<float>({h, w})));
    normalise_overlaps(regions);
    return regions;
}

/*  Step 3b with style masks: per style s and layer l, style_weight * w_l * S blend_s *
    masked_style_loss(A_sl, region_s pooled to layer l), group "style"; A_sl is the Gram of the
    whole style image s. The S styles' blend weights are scaled to mean 1 (not sum 1): each region
    is then styled as strongly as a one-style run, since its own term is a mean over the region.
    A region that pools away to nothing at a deep layer adds no term there. */
template <class Net>
void add_masked_style_terms(objective<Net>& loss, Net& net, const nst::image& content,
                            const std::vector<nst::image>& styles, const std::vector<image_size>& sizes,
                            const stylize_options& o) {
    using T = typename Net::value_type;
    const std::vector<std::size_t> layers = keep_layers(net, o.style_layers);
    const std::vector<double> blend = normalised_blend(o, styles.size());
    const std::vector<tensor2<float>> regions = style_regions(content, styles.size(), o);
    for (std::size_t s = 0; s < styles.size(); ++s) {
        if (blend[s] == 0) continue;
        net.forward(to_vgg_input<T>(style_input(styles[s], sizes[s], content, o), convention_of(o)),
                    *std::max_element(layers.begin(), layers.end()));
        for (std::size_t l = 0; l < layers.size(); ++l) {
            const auto size = layer_size<Net>(content, layers[l]);
            tensor2<T> m = xt::cast<T>(pool_mask(regions[s], size[0], size[1]));
            if (!(xt::sum(m)() > T(0))) continue;
            const T weight = T(o.style_weight * style_layer_weight(o, l) * blend[s] * double(styles.size()));
            loss.add(o.style_layers[l], weight, masked_style_loss<T>(style_target(net.output(layers[l])), m), "style");
        }
    }
}

/*  Step 3b: style terms, style_weight * w_l * style_loss(A_l) per style layer, group "style". */
template <class Net>
void add_style_terms(objective<Net>& loss, Net& net, const nst::image& content, const std::vector<nst::image>& styles,
                     const std::vector<image_size>& sizes, const stylize_options& o) {
    using T = typename Net::value_type;
    if (o.style_layers.empty()) return;
    if (has_style_masks(o)) return add_masked_style_terms(loss, net, content, styles, sizes, o);
    std::vector<tensor2<T>> targets = blended_style_targets(net, content, styles, sizes, o);
    for (std::size_t l = 0; l < targets.size(); ++l)
        loss.add(o.style_layers[l], T(o.style_weight * style_layer_weight(o, l)), style_loss<T>(std::move(targets[l])),
                 "style");
}

// The random start: white noise around the mean grey (+-32 levels) from `seed`.
template <class T> tensor3<T> noise_image(std::size_t height, std::size_t width, std::uint64_t seed, T sd) {
    auto x = tensor3<T>::from_shape({std::size_t(3), height, width});
    std::mt19937_64 rng(seed);
    std::normal_distribution<T> noise(T(0), sd);
    for (auto& v : x) v = noise(rng);
    return x;
}

/*  Step 4: the starting image in VGG space (3 x H x W at the content's working size), with
    init_noise of the random start blended in. */
template <class T> tensor3<T> initial_image(const nst::image& content, const stylize_options& o) {
    const std::size_t h = content.shape(0), w = content.shape(1);
    if (o.init == init_kind::random) return noise_image<T>(h, w, o.seed, T(32 * pixel_level(o)));
    tensor3<T> x = o.init == init_kind::image
                       ? to_vgg_input<T>(resize_image(o.init_image, h, w, o.input_limits), convention_of(o))
                       : to_vgg_input<T>(content, convention_of(o));
    if (o.init_noise > 0) {
        const tensor3<T> noise = noise_image<T>(h, w, o.seed, T(32 * pixel_level(o)));
        const T f = T(o.init_noise);
        auto n = noise.begin();
        for (auto& v : x) v = (T(1) - f) * v + f * *n++;
    }
    return x;
}

// A point in VGG space as the RGB image the caller gets (with the content's colours if asked).
struct output_image {
    const nst::image* colour_source;  // the content at the working size, or null
    input_convention convention = input_convention::caffe;
    nst::image operator()(const tensor3<float>& x) const {
        nst::image rgb = from_vgg_input(x, convention);
        return colour_source ? keep_original_colors(rgb, *colour_source) : rgb;
    }
};

// The lowest-loss point seen so far and its loss parts.
template <class T> struct best_point {
    tensor3<T> x;
    loss_value<T> value;
};

// The caller's callbacks as one function (invoke_callbacks: all of them, in order; false = stop).
// The steps below take only this type, so a program compiles the pipeline (two poolings, each
// VGG) once, however many different callbacks its calls pass, and tiled and whole scales share
// one optimizer instantiation.
using progress_function = std::function<bool(const stylize_progress&)>;

// Where one scale's optimizer run sits in the whole run: its size and index, and the counts of
// the scales before it, so progress reports run on across scales.
struct scale_context {
    std::size_t size = 0;           // longer side at this scale
    std::size_t index = 0;          // 0-based
    std::size_t count = 1;          // scales in the plan
    std::size_t iterations = 0;     // steps planned at this scale
    std::size_t planned_total = 0;  // steps planned over all scales
    std::size_t iterations_before = 0;
    std::size_t evaluations_before = 0;
    double seconds_before = 0;      // from the first scale's optimizer start to this one's
    // The previous scale's last L-BFGS step per value of its image (0: none): this scale's first
    // trial step is that times the root of its own value count, the same change per pixel.
    double step_per_value = 0;
};

// What stylize's callbacks receive for one optimizer state whose value is a loss_value<T>.
template <class State>
stylize_progress make_progress(const State& state, const tensor3<float>& current, double best_loss,
                               const scale_context& at, const output_image& to_rgb) {
    const auto& value = state.value;
    return stylize_progress{at.iterations_before + state.iteration,
                            at.planned_total,
                            double(value.total),
                            double(value.group("content")),
                            double(value.group("style")),
                            double(value.group("tv")),
                            best_loss,
                            at.seconds_before + state.elapsed_seconds,
                            at.evaluations_before + state.evaluations,
                            current,
                            [&current, &to_rgb] { return to_rgb(current); },
                            at.size,
                            at.index,
                            at.count};
}

/*  Step 5: runs the chosen optimizer on the objective from x for this scale's steps; after every
    accepted step keeps the best point (its parts come with the optimizer's state: state.value)
    and calls the callbacks with the progress. L-BFGS works on the image's resolution levels
    (pyramid_parametrization.hpp) unless o.pyramid_levels is 0. */
template <class Net>
optim_result<typename Net::value_type> optimise_from(objective<Net>& loss, tensor3<typename Net::value_type>& x,
                                                best_point<typename Net::value_type>& best,
                                                const output_image& to_rgb, const stylize_options& o,
                                                const scale_context& at, const progress_function& report) {
    using T = typename Net::value_type;
    auto accepted = [&](const auto& state, const tensor3<T>& image) {
        const loss_value<T>& value = state.value;
        if (value.total < best.value.total) {
            best.value = value;
            best.x = image;
        }
        return report(make_progress(state, image, double(best.value.total), at, to_rgb));
    };
    if (o.optimizer == optimizer_kind::lbfgs) {
        typename lbfgs<T>::options lo;
        lo.max_iterations = at.iterations;
        lo.history_size = o.lbfgs_history;
        lo.backtracking = o.normalize_gradients;  // the gradient is not the loss's: no Wolfe curvature test
        // From the previous scale's step rather than a blind unit step, which the line search
        // would first have to grow: measured, 2-3 evaluations fewer at each larger scale.
        if (at.step_per_value > 0) lo.first_step_length = at.step_per_value * std::sqrt(double(x.size()));
        const std::size_t levels = o.pyramid_levels.value_or(automatic_pyramid_levels(x.shape(1), x.shape(2)));
        if (levels == 0) {
            auto monitor = [&](const auto& state) { return accepted(state, state.x); };
            return lbfgs<T>(lo).minimize(loss, x, monitor);
        }
        pyramid_parametrization<T> pyramid(x.shape(0), x.shape(1), x.shape(2), levels);
        pyramid_objective<objective<Net>, T> on_levels(loss, pyramid, x);
        tensor1<T> z = pyramid.levels_of(x);
        auto monitor = [&](const auto& state) {
            pyramid.to_image(state.x, x);
            return accepted(state, x);
        };
        const auto run = lbfgs<T>(lo).minimize(on_levels, z, monitor);
        pyramid.to_image(z, x);
        return run;
    }
    typename adam<T>::options ao;
    ao.max_iterations = at.iterations;
    ao.learning_rate = o.learning_rate * pixel_level(o);
    ao.beta1 = o.adam_beta1;
    ao.beta2 = o.adam_beta2;
    ao.epsilon = o.adam_epsilon;
    auto monitor = [&](const auto& state) { return accepted(state, state.x); };
    return adam<T>(ao).minimize(loss, x, monitor);
}

/*  optimise_from, with a loss that is not finite at the start (the optimizers refuse to begin)
    explained: the images are finite and the weights were checked at load, so the loss weights
    are large enough to overflow float (--style-weight 1e36). throws: non_finite_start (an
    invalid_argument) naming the weights. */
template <class Net>
optim_result<typename Net::value_type> optimise(objective<Net>& loss, tensor3<typename Net::value_type>& x,
                                                best_point<typename Net::value_type>& best,
                                                const output_image& to_rgb, const stylize_options& o,
                                                const scale_context& at, const progress_function& report) {
    try {
        return optimise_from(loss, x, best, to_rgb, o, at, report);
    } catch (const non_finite_start& e) {
        throw non_finite_start(std::string(e.what()) + ": the loss overflows float with the weights at this size " +
                               "(content " + number_text(o.content_weight) + ", style " + number_text(o.style_weight) +
                               ", tv " + number_text(o.tv_weight) + "); lower the largest");
    }
}

// What went non-finite, for a run that stopped with stop_reason::non_finite: the optimizer's
// report, which names the loss groups whose value was not finite at the failing evaluation.
template <class T> std::string non_finite_message(const optim_result<T>& run) { return to_string(run.non_finite); }

/*  Step 6: the result: the best image as RGB, its loss parts and the run's counts. */
template <class T>
stylize_result make_result(const best_point<T>& best, const optim_result<T>& run, const output_image& to_rgb,
                           double seconds) {
    stylize_result result;
    result.output = to_rgb(best.x);
    result.loss = double(best.value.total);
    result.content_loss = double(best.value.group("content"));
    result.style_loss = double(best.value.group("style"));
    result.tv_loss = double(best.value.group("tv"));
    result.iterations = run.iterations;
    result.evaluations = run.evaluations;
    result.reason = run.reason;
    result.seconds = seconds;
    return result;
}

// The options of one scale: its size, below the output size o.size the content weight raised and
// (from noise) shallower content layers added (scale_plan.hpp: coarse_content_factor,
// content_terms_at_scale), and with size_invariant the content and TV weights scaled to it
// (size_invariant_factor).
inline stylize_options options_at_scale(const stylize_options& o, std::size_t size) {
    stylize_options at = o;
    at.size = size;
    at.content_weight *= coarse_content_factor(size, o.size);
    content_terms content = content_terms_at_scale(o, size);
    at.content_layers = std::move(content.layers);
    at.content_layer_weights = std::move(content.weights);
    if (o.size_invariant) {
        at.content_weight *= size_invariant_factor(size);
        at.tv_weight *= size_invariant_factor(size);
    }
    return at;
}

/*  One scale's options (options_at_scale of `o`) for as long as this object lives, holding o's
    images, moved from `o` and back when it ends: they come at the caller's size (a photo-sized
    mask is 12 bytes a pixel), and a copy per scale would hold them once more. Meanwhile `o` has
    none: read them through get(). */
class scale_options {
public:
    scale_options(stylize_options& o, std::size_t size) : output_(o) {
        stylize_options images;
        swap_option_images(images, output_);
        try {
            at_ = options_at_scale(output_, size);  // a copy of the settings alone
        } catch (...) {
            swap_option_images(images, output_);
            throw;
        }
        swap_option_images(at_, images);
    }
    ~scale_options() { swap_option_images(at_, output_); }
    scale_options(const scale_options&) = delete;
    scale_options& operator=(const scale_options&) = delete;

    const stylize_options& get() const { return at_; }

private:
    stylize_options& output_;
    stylize_options at_;
};

/*  Step 1 for every requested scale, also those the budget gives no steps (requested_scales), so a
    bad scale is refused whatever the budget; returns the working sizes of the plan's steps. An
    error names the scale when several were requested. */
inline std::vector<working_sizes> plan_scale_sizes(const nst::image& content, const std::vector<nst::image>& styles,
                                                   stylize_options& o, const std::vector<scale_step>& plan) {
    const std::vector<std::size_t> requested = requested_scales(o);
    std::vector<working_sizes> checked;
    for (const std::size_t size : requested) {
        try {
            checked.push_back(plan_working_sizes(content, styles, scale_options(o, size).get()));
        } catch (const invalid_argument& e) {
            if (requested.size() == 1) throw;
            throw invalid_argument("at scale " + std::to_string(size) + ": " + e.what());
        }
    }
    std::vector<working_sizes> sizes;
    for (const scale_step& step : plan) {
        const auto at = std::find(requested.begin(), requested.end(), step.size);
        sizes.push_back(checked[std::size_t(at - requested.begin())]);
    }
    return sizes;
}

/*  The start at the next scale from the previous scale's best point: what that scale changed in
    its content image, upsampled (stb: Catmull-Rom), added to the content at the new size. Plain
    upsampling would also blur the photo's own edges; this keeps them (measured at 128 -> 256 px:
    the start's loss is 40% lower than the plain upsampled image's). That adds the photo's finer
    detail (content minus its upsampled smaller self) to the start, so only where the content
    loss applies: weighted by the content mask, and not at all without a content term; elsewhere
    the start is the previous best plainly upsampled (a content mask's black region showed the
    photo's fine pattern after each scale change, which nothing but the style was to shape). */
template <class T>
tensor3<T> next_scale_start(const tensor3<T>& best, const nst::image& previous_content, const nst::image& content,
                            const stylize_options& o) {
    const std::size_t h = content.shape(0), w = content.shape(1);
    nst::image change = from_vgg_input(best, convention_of(o));
    change -= previous_content;
    nst::image start = resize_image(change, h, w, o.input_limits);
    start += content;
    const bool content_term = o.content_weight > 0 && !o.content_layers.empty();
    if (content_term && o.content_mask.size() == 0) return to_vgg_input<T>(start, convention_of(o));
    // start - (1 - m) (content - previous content upsampled), m = 0 without a content term.
    const nst::image previous = resize_image(previous_content, h, w, o.input_limits);
    const tensor2<float> mask =
        content_term ? mask_weights(o.content_mask, h, w, o.input_limits) : tensor2<float>(xt::zeros<float>({h, w}));
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
            for (std::size_t c = 0; c < 3; ++c)
                start(y, x, c) -= (1.0f - mask(y, x)) * (content(y, x, c) - previous(y, x, c));
    return to_vgg_input<T>(start, convention_of(o));
}

// What the scales of one run share: the best point of the current scale, its content image at the
// working size (the colour source with original_colors), and the progress counts.
template <class T> struct coarse_to_fine_run {
    best_point<T> best;
    nst::image content;
    scale_context at;
    optim_result<T> last;  // the last scale's optimizer result
    std::string failure;   // non_finite_message of a run that became non-finite
    std::chrono::steady_clock::time_point started;  // the first scale's optimizer start
};

/*  Steps 2-5 at one scale: the content and style terms at its size, the start (the initial image
    on the first scale, else next_scale_start), the optimizer run. */
template <class Net>
void run_scale(coarse_to_fine_run<typename Net::value_type>& r, Net& net, const nst::image& content_input,
               const std::vector<nst::image>& styles, const working_sizes& sizes, const stylize_options& o,
               const progress_function& report) {
    using T = typename Net::value_type;
    nst::image next_content = resize_image(content_input, sizes.content[0], sizes.content[1], o.input_limits);
    tensor3<T> x = r.at.index == 0 ? initial_image<T>(next_content, o)
                                   : next_scale_start<T>(r.best.x, r.content, next_content, o);
    r.content = std::move(next_content);
    const nst::image& content = r.content;
    objective<Net> loss(net);
    loss.normalize_gradients(o.normalize_gradients);
    add_content_terms(loss, net, content, o);
    add_style_terms(loss, net, content, styles, sizes.styles, o);
    // TV is a sum of squared pixel differences: tv_weight is per squared pixel level.
    if (o.tv_weight > 0)
        loss.add_image_term(T(o.tv_weight / (pixel_level(o) * pixel_level(o))), total_variation_loss<T>{}, "tv");
    // The style passes ran at the style images' own sizes: return their idle blocks before the
    // optimisation's working set forms, so the two do not add up in the peak.
    buffer_pool::instance().release_idle();

    r.best = best_point<T>{x, {}};
    r.best.value.total = std::numeric_limits<T>::infinity();
    const auto now = std::chrono::steady_clock::now();
    if (r.at.index == 0) r.started = now;
    r.at.seconds_before = std::chrono::duration<double>(now - r.started).count();
    const output_image to_rgb{keeps_content_chroma(o) ? &content : nullptr, convention_of(o)};
    r.last = optimise(loss, x, r.best, to_rgb, o, r.at, report);
    if (r.last.last_step_length > 0) r.at.step_per_value = r.last.last_step_length / std::sqrt(double(x.size()));
    if (r.last.reason == stop_reason::non_finite) r.failure = non_finite_message(r.last);
    r.at.iterations_before += r.last.iterations;
    r.at.evaluations_before += r.last.evaluations;
}

/*  Loads the weights into net (in the options' precision; the call's own copy moves in, a cache
    keeps its own) and resolves the options' input convention to the weights' where they leave it
    open (convention_of). */
template <class Net>
void load_network(Net& net, weights_info& identity, call_weights weights, stylize_options& o) {
    o.weights_preprocessing = o.weights_preprocessing.value_or(weights.get().convention);
    identity = weights.get().info;
    if (weights.shared)
        load_model_weights(net, *weights.shared);
    else
        load_model_weights(net, std::move(weights.own));
    net.set_precision(o.precision);
}

/*  Steps 2-5 of a scale stylised in tiles (the counterpart of run_scale; tiled.hpp, included at
    the end of this file). */
template <class Net>
void run_tiled_scale(coarse_to_fine_run<typename Net::value_type>& r, Net& net, const nst::image& content_input,
                     const std::vector<nst::image>& styles, const working_sizes& sizes, const tiling_plan& plan,
                     const stylize_options& o, const progress_function& report);

/*  Step 1 for a run with some scale in tiles: the working sizes as plan_scale_sizes gives them,
    except that a tiled scale is checked against what the deepest layer needs but not against the
    memory limit (plan_scale_tiling checked its tiles). An error names the scale when there are
    several. */
inline std::vector<working_sizes> plan_tiled_scale_sizes(const nst::image& content,
                                                         const std::vector<nst::image>& styles,
                                                         stylize_options& o, const std::vector<scale_step>& plan,
                                                         const std::vector<tiling_plan>& tiling) {
    std::vector<working_sizes> sizes;
    for (std::size_t k = 0; k < plan.size(); ++k) {
        const scale_options scale(o, plan[k].size);
        const stylize_options& at = scale.get();
        try {
            if (!tiling[k].window) {
                sizes.push_back(plan_working_sizes(content, styles, at));
                continue;
            }
            working_sizes s{content_working_size(content, at), style_working_sizes(styles, at)};
            require_side_at_least(s.content, min_input_side(at), "content");
            for (std::size_t i = 0; i < s.styles.size(); ++i)
                require_side_at_least(s.styles[i], min_input_side(at), "style image " + std::to_string(i + 1));
            sizes.push_back(std::move(s));
        } catch (const invalid_argument& e) {
            if (plan.size() == 1) throw;
            throw invalid_argument("at scale " + std::to_string(plan[k].size) + ": " + e.what());
        }
    }
    return sizes;
}

/*  Step 6: the result from the last scale run; stopped before the last scale, that scale's best,
    upsampled as a next start, is the output. */
template <class T>
stylize_result run_result(coarse_to_fine_run<T>& run, const image_size& output_size, const nst::image& content_input,
                          const stylize_options& o, double seconds) {
    if (run.best.x.shape(1) != output_size[0] || run.best.x.shape(2) != output_size[1]) {
        nst::image content = resize_image(content_input, output_size[0], output_size[1], o.input_limits);
        run.best.x = next_scale_start<T>(run.best.x, run.content, content, o);
        run.content = std::move(content);
    }
    const output_image to_rgb{keeps_content_chroma(o) ? &run.content : nullptr, convention_of(o)};
    stylize_result result = make_result(run.best, run.last, to_rgb, seconds);
    result.iterations = run.at.iterations_before;
    result.evaluations = run.at.evaluations_before;
    result.failure = run.failure;
    return result;
}

/*  Steps 2-6 on the network type Net, with the weights read and every scale's working sizes
    planned: the scales in turn (whole, run_scale, or in tiles, run_tiled_scale), each starting
    from the previous one's result. `o` is the call's own copy of the options (stylize). */
template <class Net>
stylize_result stylize_net(std::chrono::steady_clock::time_point start, const std::vector<scale_step>& plan,
                           const std::vector<working_sizes>& sizes, const std::vector<tiling_plan>& tiling,
                           call_weights weights, const nst::image& content_input,
                           const std::vector<nst::image>& styles, stylize_options& o,
                           const progress_function& report) {
    using T = typename Net::value_type;
    Net net;
    weights_info identity;
    load_network(net, identity, std::move(weights), o);

    coarse_to_fine_run<T> run;
    run.at.count = plan.size();
    run.at.planned_total = planned_iterations(plan, tiling);
    for (std::size_t k = 0; k < plan.size(); ++k) {
        run.at.size = plan[k].size;
        run.at.index = k;
        run.at.iterations = plan[k].iterations;
        const scale_options at(o, plan[k].size);
        if (tiling[k].window)
            run_tiled_scale(run, net, content_input, styles, sizes[k], tiling[k], at.get(), report);
        else
            run_scale(run, net, content_input, styles, sizes[k], at.get(), report);
        if (run.last.reason == stop_reason::non_finite || run.last.reason == stop_reason::stopped_by_callback) break;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stylize_result result = run_result(run, sizes.back().content, content_input, o, seconds);
    result.weights = identity;
    return result;
}

#ifdef NST_EXTERN_STYLIZE_NET
// The four pipelines (VGG19 and VGG16, max and average pooling) are most of the compile time of
// a program that calls stylize (~85% of it in the compiler's back end). A program that links
// them compiled once elsewhere (nst/stylize_instances.hpp, in one of its units) defines
// NST_EXTERN_STYLIZE_NET in the others, which then do not compile them again; nor the four
// networks' forward and reverse passes (sequential_passes), which programs also call directly.
#define NST_STYLIZE_NET_INSTANCE(prefix, Net)                                                          \
    prefix template stylize_result stylize_net<Net>(                                                    \
        std::chrono::steady_clock::time_point, const std::vector<scale_step>&,                          \
        const std::vector<working_sizes>&, const std::vector<tiling_plan>&, call_weights,               \
        const nst::image&, const std::vector<nst::image>&, stylize_options&, const progress_function&);       \
    prefix template const Net::network_type::tensor& sequential_passes::forward<Net::network_type>(     \
        Net::network_type&, const Net::network_type::tensor&, std::size_t);                             \
    prefix template Net::network_type::tensor sequential_passes::backward<Net::network_type>(          \
        Net::network_type&, layer_visitor);
using vgg19_max_net = vgg19<float, pooling::max>;
using vgg19_average_net = vgg19<float, pooling::average>;
using vgg16_max_net = vgg16<float, pooling::max>;
using vgg16_average_net = vgg16<float, pooling::average>;
NST_STYLIZE_NET_INSTANCE(extern, vgg19_max_net)
NST_STYLIZE_NET_INSTANCE(extern, vgg19_average_net)
NST_STYLIZE_NET_INSTANCE(extern, vgg16_max_net)
NST_STYLIZE_NET_INSTANCE(extern, vgg16_average_net)
#endif

// Step 1 for every scale, the weights, and the network the options and the weights file agree
// on (model_choice.hpp). `o` is the call's own copy of the options (stylize).
template <pooling P>
stylize_result stylize_with(const nst::image& content_input, const std::vector<nst::image>& styles,
                            stylize_options& o, const std::vector<tiling_plan>& tiling,
                            const progress_function& report) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<scale_step> plan = plan_scales(o);
    const std::vector<working_sizes> sizes = any_tiled(tiling) ? plan_tiled_scale_sizes(content_input, styles, o, plan, tiling)
                                                               : plan_scale_sizes(content_input, styles, o, plan);
    const scoped_threads threads(o.threads);
    const std::string path = weights_path(o);
    call_weights weights = weights_for_call(o);  // through o.cache (stylize_cache.hpp)
    const std::string model = weights.get().model;
    return with_vgg<float, P>(resolve_model(o, model, path), [&](auto net) {
        return stylize_net<typename decltype(net)::type>(start, plan, sizes, tiling, std::move(weights),
                                                         content_input, styles, o, report);
    });
}

}  // namespace detail

/*  Stylises `content` with the blended `styles`. The options are the call's (moved from): their
    images (style masks, content mask, init image) are held once during the run.
    requires: content and every style are H x W x 3 RGB images (0..255) with H, W >= 1;
              each callback is invocable as cb(const stylize_progress&) and returns void or
              something convertible to bool (false = stop after this iteration).
    ensures:  returns the lowest-loss image seen (at the working size) and its loss parts;
              callbacks run at iteration 0 and after every optimizer step, in order;
              with options.threads > 0 the caller's OpenMP and OpenBLAS thread counts are the
              same after the call as before.
    throws:   invalid_argument for bad options (validate_options), a NaN or infinite pixel in an
              image, mask or init image, a mask that is all black or whose shape is too far from
              the content's (check_mask_image), a working size below what the deepest layer
              needs, an estimated working memory above the limit that no tiling brings under it
              (the message states the estimate), or a model the weights file contradicts
              (model_choice.hpp);
              io_error when the weights cannot be found or read (.h5, .pth, .safetensors or .caffemodel);
              shape_error for malformed images. Nothing large is allocated before these checks. */
template <class... Callbacks>
stylize_result stylize(const nst::image& content, const std::vector<nst::image>& styles,
                       stylize_options&& given, Callbacks&&... callbacks) {
    validate_options(given, styles.size());
    detail::require_rgb_image(content, "stylize: content image");
    detail::require_finite_pixels(content, "stylize: content image");
    // The call's options, the only copy of their images: load_network resolves its input
    // convention in them, and each scale borrows the images (scale_options).
    stylize_options options = resolve_multiscale(std::move(given), content, styles);
    for (std::size_t i = 0; i < styles.size(); ++i) {
        detail::require_rgb_image(styles[i], "stylize: style image " + std::to_string(i + 1));
        detail::require_finite_pixels(styles[i], "stylize: style image " + std::to_string(i + 1));
    }
    if (options.init == init_kind::image) detail::require_finite_pixels(options.init_image, "stylize: init image");
    for (std::size_t i = 0; i < options.style_masks.size(); ++i)
        if (options.style_masks[i].size() != 0)
            check_mask_image(options.style_masks[i], content, "style mask " + std::to_string(i + 1));
    if (options.content_mask.size() != 0) check_mask_image(options.content_mask, content, "content mask");
    const std::vector<tiling_plan> tiling = plan_scale_tiling(content, styles, options);
    const detail::progress_function report = [&callbacks...](const stylize_progress& progress) {
        return bool(invoke_callbacks(progress, callbacks...));
    };
    if (options.pooling_mode == pooling::average)
        return detail::stylize_with<pooling::average>(content, styles, options, tiling, report);
    return detail::stylize_with<pooling::max>(content, styles, options, tiling, report);
}

/*  The same with the caller's options copied (the call's own copy of their images: masks and
    init image are then held twice during the run). Pass the options as an rvalue
    (`stylize(content, styles, std::move(options))`) to hold them once. */
template <class... Callbacks>
stylize_result stylize(const nst::image& content, const std::vector<nst::image>& styles,
                       const stylize_options& given, Callbacks&&... callbacks) {
    validate_options(given, styles.size());  // before the copy
    return stylize(content, styles, stylize_options(given), std::forward<Callbacks>(callbacks)...);
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst

#include "tiled.hpp"  // run_tiled_scale, which builds on the steps above
