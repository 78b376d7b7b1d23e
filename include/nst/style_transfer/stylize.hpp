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
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../core/buffer_pool.hpp"
#include "../core/error.hpp"
#include "../core/memory_limit.hpp"
#include "../core/tensor.hpp"
#include "../core/threads.hpp"
#include "../io/image.hpp"
#include "../io/keras_weights.hpp"
#include "../io/preprocess.hpp"
#include "../io/weights_lookup.hpp"
#include "../loss/content_loss.hpp"
#include "../loss/objective.hpp"
#include "../loss/style_loss.hpp"
#include "../loss/total_variation_loss.hpp"
#include "../models/vgg19.hpp"
#include "../optim/optim.hpp"
#include "memory_estimate.hpp"
#include "options.hpp"
#include "original_colors.hpp"
#include "stylize_cache.hpp"

namespace nst {
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

/*  Step 1: the sizes the images are resized to, checked against what the deepest layer needs
    and against the memory limit, before anything large is allocated.
    throws: invalid_argument naming the size, or stating the memory estimate and the limit. */
inline working_sizes plan_working_sizes(const nst::image& content, const std::vector<nst::image>& styles,
                                        const stylize_options& o) {
    working_sizes sizes{scaled_size(content.shape(0), content.shape(1), o.size), {}};
    const std::size_t style_side = std::max<std::size_t>(1, std::size_t(std::lround(o.style_scale * double(o.size))));
    for (const auto& s : styles) sizes.styles.push_back(scaled_size(s.shape(0), s.shape(1), style_side));

    const std::size_t min_side = vgg19<float>::min_input_side(deepest_layer(o));
    require_side_at_least(sizes.content, min_side, "content");
    for (std::size_t i = 0; i < sizes.styles.size(); ++i)
        require_side_at_least(sizes.styles[i], min_side, "style image " + std::to_string(i + 1));

    const std::uint64_t limit = o.memory_limit ? o.memory_limit : default_memory_limit();
    const std::uint64_t need = estimate_stylize_memory(sizes.content[0], sizes.content[1], sizes.styles, o);
    if (need > limit)
        throw invalid_argument("working size " + std::to_string(sizes.content[1]) + " x " +
                               std::to_string(sizes.content[0]) + " needs about " + format_bytes(need) +
                               " of memory, above the limit of " + format_bytes(limit) +
                               "; lower the size or raise the memory limit");
    return sizes;
}

// Network indices of the named layers; the network keeps only their outputs from now on.
template <class Net> std::vector<std::size_t> keep_layers(Net& net, const std::vector<std::string>& names) {
    std::vector<std::size_t> indices;
    for (const auto& n : names) indices.push_back(net.index_of(n));
    net.keep_only(indices);
    return indices;
}

/*  Step 2: content terms. Records P (the content's activations) at each content layer and adds
    content_weight / K * content_loss(P) for each of the K layers, group "content". */
template <class Net>
void add_content_terms(objective<Net>& loss, Net& net, const nst::image& content, const stylize_options& o) {
    using T = typename Net::value_type;
    if (o.content_layers.empty()) return;
    const std::vector<std::size_t> layers = keep_layers(net, o.content_layers);
    net.forward(to_vgg_input<T>(content), *std::max_element(layers.begin(), layers.end()));
    const T weight = T(o.content_weight / double(layers.size()));
    for (std::size_t k = 0; k < layers.size(); ++k)
        loss.add(o.content_layers[k], weight, content_loss<T>(net.output(layers[k])), "content");
}

// The blend weight of each style image, normalised to sum 1.
inline std::vector<double> normalised_blend(const stylize_options& o, std::size_t style_count) {
    std::vector<double> blend = o.style_blend.empty() ? std::vector<double>(style_count, 1.0) : o.style_blend;
    double sum = 0;
    for (double b : blend) sum += b;
    for (double& b : blend) b /= sum;
    return blend;
}

// The weights file stylize reads and the key the cache stores its network and targets under.
inline std::string weights_key(const stylize_options& o) {
    return (o.weights.empty() ? find_vgg19_weights("", "") : o.weights) + " sha256 " + o.weights_sha256;
}

// One style image's Gram target per layer of `layers` (from o.cache when it holds them).
template <class Net>
std::vector<tensor2<typename Net::value_type>> style_image_targets(Net& net, const nst::image& style_input,
                                                                   const image_size& size,
                                                                   const std::vector<std::size_t>& layers,
                                                                   const stylize_options& o) {
    using T = typename Net::value_type;
    const auto compute = [&] {
        const nst::image style = resize_image(style_input, size[0], size[1], o.input_limits);
        net.forward(to_vgg_input<T>(style), *std::max_element(layers.begin(), layers.end()));
        std::vector<tensor2<T>> targets;
        for (std::size_t l : layers) targets.push_back(style_target(net.output(l)));
        return targets;
    };
    if (!o.cache) return compute();
    return o.cache->style_targets<Net>(
        style_target_key(style_input, size[0], size[1], o.style_layers, o.pooling_mode, o.precision, weights_key(o)),
        compute);
}

/*  Step 3a: per style layer, the blend-weighted sum of each style image's Gram target (style
    images of weight 0 are not even run through the network). */
template <class Net>
std::vector<tensor2<typename Net::value_type>> blended_style_targets(Net& net, const std::vector<nst::image>& styles,
                                                                     const std::vector<image_size>& sizes,
                                                                     const stylize_options& o) {
    using T = typename Net::value_type;
    const std::vector<std::size_t> layers = keep_layers(net, o.style_layers);
    const std::vector<double> blend = normalised_blend(o, styles.size());
    std::vector<tensor2<T>> targets(layers.size());
    for (std::size_t s = 0; s < styles.size(); ++s) {
        if (blend[s] == 0) continue;
        std::vector<tensor2<T>> style_targets = style_image_targets(net, styles[s], sizes[s], layers, o);
        for (std::size_t l = 0; l < layers.size(); ++l) {
            tensor2<T> a = std::move(style_targets[l]);
            a *= T(blend[s]);
            if (targets[l].size() == 0)
                targets[l] = std::move(a);
            else
                targets[l] += a;
        }
    }
    return targets;
}

/*  Step 3b: style terms, style_weight * w_l * style_loss(A_l) per style layer, group "style". */
template <class Net>
void add_style_terms(objective<Net>& loss, Net& net, const std::vector<nst::image>& styles,
                     const std::vector<image_size>& sizes, const stylize_options& o) {
    using T = typename Net::value_type;
    if (o.style_layers.empty()) return;
    std::vector<tensor2<T>> targets = blended_style_targets(net, styles, sizes, o);
    for (std::size_t l = 0; l < targets.size(); ++l) {
        const double wl = o.style_layer_weights.empty() ? 1.0 / double(targets.size()) : o.style_layer_weights[l];
        loss.add(o.style_layers[l], T(o.style_weight * wl), style_loss<T>(std::move(targets[l])), "style");
    }
}

/*  Step 4: the starting image in VGG space (3 x H x W at the content's working size). */
template <class T> tensor3<T> initial_image(const nst::image& content, const stylize_options& o) {
    switch (o.init) {
        case init_kind::image:
            return to_vgg_input<T>(resize_image(o.init_image, content.shape(0), content.shape(1), o.input_limits));
        case init_kind::random: {
            auto x = tensor3<T>::from_shape({std::size_t(3), content.shape(0), content.shape(1)});
            std::mt19937_64 rng(o.seed);
            std::normal_distribution<T> noise(T(0), T(32));  // around the mean grey, +-32 levels
            for (auto& v : x) v = noise(rng);
            return x;
        }
        case init_kind::content: break;
    }
    return to_vgg_input<T>(content);
}

// A point in VGG space as the RGB image the caller gets (with the content's colours if asked).
struct output_image {
    const nst::image* colour_source;  // the content at the working size, or null
    nst::image operator()(const tensor3<float>& x) const {
        nst::image rgb = from_vgg_input(x);
        return colour_source ? keep_original_colors(rgb, *colour_source) : rgb;
    }
};

// The lowest-loss point seen so far and its loss parts.
template <class T> struct best_point {
    tensor3<T> x;
    loss_value<T> value;
};

// What stylize's callbacks receive for one optimizer state whose value is a loss_value<T>.
template <class State>
stylize_progress make_progress(const State& state, double best_loss, std::size_t budget, const output_image& to_rgb) {
    const auto& value = state.value;
    const tensor3<float>& current = state.x;
    return stylize_progress{state.iteration,
                            budget,
                            double(value.total),
                            double(value.group("content")),
                            double(value.group("style")),
                            double(value.group("tv")),
                            best_loss,
                            state.elapsed_seconds,
                            state.evaluations,
                            current,
                            [&current, &to_rgb] { return to_rgb(current); }};
}

/*  Step 5: runs the chosen optimizer on the objective from x; after every accepted step keeps
    the best point (its parts come with the optimizer's state: state.value) and calls the
    callbacks with the progress. */
template <class Net, class... Callbacks>
optim_result<typename Net::value_type> optimise(objective<Net>& loss, tensor3<typename Net::value_type>& x,
                                                best_point<typename Net::value_type>& best,
                                                const output_image& to_rgb, const stylize_options& o,
                                                Callbacks&... callbacks) {
    using T = typename Net::value_type;
    auto monitor = [&](const auto& state) {
        const loss_value<T>& value = state.value;
        if (value.total < best.value.total) {
            best.value = value;
            best.x = state.x;
        }
        return invoke_callbacks(make_progress(state, double(best.value.total), o.iterations, to_rgb), callbacks...);
    };
    if (o.optimizer == optimizer_kind::lbfgs) {
        typename lbfgs<T>::options lo;
        lo.max_iterations = o.iterations;
        lo.history_size = o.lbfgs_history;
        return lbfgs<T>(lo).minimize(loss, x, monitor);
    }
    typename adam<T>::options ao;
    ao.max_iterations = o.iterations;
    ao.learning_rate = o.learning_rate;
    return adam<T>(ao).minimize(loss, x, monitor);
}

// What went non-finite, for a run that stopped with stop_reason::non_finite: the optimizer's
// report plus the loss groups whose value was not finite at the failing evaluation.
template <class T> std::string non_finite_message(const optim_result<T>& run, const loss_value<T>& failing) {
    std::vector<std::string> groups;  // each group once (a group may hold several terms)
    for (const auto& part : failing.parts)
        if (!std::isfinite(part.value) && std::find(groups.begin(), groups.end(), part.group) == groups.end())
            groups.push_back(part.group);
    return to_string(run.non_finite) + (groups.empty() ? "" : "; non-finite loss terms: " + join(groups));
}

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

template <pooling P, class... Callbacks>
stylize_result stylize_with(const nst::image& content_input, const std::vector<nst::image>& styles,
                            const stylize_options& o, Callbacks&... callbacks) {
    const auto start = std::chrono::steady_clock::now();
    using T = float;
    using net_type = vgg19<T, P>;
    const working_sizes sizes = plan_working_sizes(content_input, styles, o);
    const scoped_threads threads(o.threads);

    net_type net;
    weights_options pin;
    pin.expected_sha256 = o.weights_sha256;
    const auto read_weights = [&](net_type& into) {
        const keras_weight_file file(o.weights.empty() ? find_vgg19_weights("", "") : o.weights, pin);
        load_vgg19_weights(into, file);
        return file.info();
    };
    const weights_info weights = o.cache ? o.cache->network(net, weights_key(o), read_weights) : read_weights(net);
    net.set_precision(o.precision);
    const nst::image content = resize_image(content_input, sizes.content[0], sizes.content[1], o.input_limits);
    objective<net_type> loss(net);
    add_content_terms(loss, net, content, o);
    add_style_terms(loss, net, styles, sizes.styles, o);
    if (o.tv_weight > 0) loss.add_image_term(T(o.tv_weight), total_variation_loss<T>{}, "tv");
    // The style passes ran at the style images' own sizes: return their idle blocks before the
    // optimisation's working set forms, so the two do not add up in the peak.
    buffer_pool::instance().release_idle();

    tensor3<T> x = initial_image<T>(content, o);
    best_point<T> best{x, {}};
    best.value.total = std::numeric_limits<T>::infinity();
    const output_image to_rgb{o.original_colors ? &content : nullptr};
    const optim_result<T> run = optimise(loss, x, best, to_rgb, o, callbacks...);
    stylize_result result = make_result(best, run, to_rgb,
                                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (run.reason == stop_reason::non_finite) result.failure = non_finite_message(run, loss.last_value());
    result.weights = weights;
    return result;
}

}  // namespace detail

/*  Stylises `content` with the blended `styles`.
    requires: content and every style are H x W x 3 RGB images (0..255) with H, W >= 1;
              each callback is invocable as cb(const stylize_progress&) and returns void or
              something convertible to bool (false = stop after this iteration).
    ensures:  returns the lowest-loss image seen (at the working size) and its loss parts;
              callbacks run at iteration 0 and after every optimizer step, in order;
              with options.threads > 0 the caller's OpenMP and OpenBLAS thread counts are the
              same after the call as before.
    throws:   invalid_argument for bad options (validate_options), a working size below what the
              deepest layer needs, or an estimated working memory above the limit (the message
              states the estimate); io_error when the weights cannot be found or read;
              shape_error for malformed images. Nothing large is allocated before these checks. */
template <class... Callbacks>
stylize_result stylize(const nst::image& content, const std::vector<nst::image>& styles,
                       const stylize_options& options, Callbacks&&... callbacks) {
    validate_options(options, styles.size());
    detail::require_rgb_image(content, "stylize: content image");
    for (std::size_t i = 0; i < styles.size(); ++i)
        detail::require_rgb_image(styles[i], "stylize: style image " + std::to_string(i + 1));
    if (options.pooling_mode == pooling::average)
        return detail::stylize_with<pooling::average>(content, styles, options, callbacks...);
    return detail::stylize_with<pooling::max>(content, styles, options, callbacks...);
}

}  // namespace nst
