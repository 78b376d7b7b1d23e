// Reuse between stylize calls, for programs that stylise many pairs (nst-batch): each weights
// file is read once, and each style image's Gram targets are computed once per
// (image, working size, layers, network) and then reused. Give stylize one through
// stylize_options::cache; without one every call loads and computes everything itself.
//
//     nst::stylize_cache cache;
//     options.cache = &cache;
//     nst::stylize_weights(options);  // optional: read (and check) the weights file now, into the cache
//     for (const auto& content : contents) nst::stylize(content, {style}, options);  // style targets once
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/tensor.hpp"
#include "../io/detail/sha256.hpp"
#include "../io/image.hpp"
#include "../io/model_weights.hpp"
#include "../io/read_weights.hpp"
#include "../io/weights_identity.hpp"
#include "../io/weights_lookup.hpp"
#include "../layers/conv_precision.hpp"
#include "../layers/pool2x2.hpp"
#include "options.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

/*  What stylize keeps between the calls that share this object.
    Thread safety: calls may share one cache concurrently. Entries are computed outside the lock:
    two calls missing the same entry at once both compute it, and the first stored is kept.
    Memory: one copy of each weights file's convolutions (VGG19: about 80 MB) and the Gram
    targets of each (style image, size, layers) (the five default layers: 2.4 MB); clear() frees
    them. Entries are never evicted otherwise. */
class stylize_cache {
public:
    /*  The weights file stored under `key`; the first time, read() loads it (a
        std::shared_ptr<const model_weights>), and later calls share that copy. */
    template <class Read> std::shared_ptr<const model_weights> weights(const std::string& key, Read&& read) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            const auto found = weights_.find(key);
            if (found != weights_.end()) return found->second;
        }
        std::shared_ptr<const model_weights> loaded = read();
        const std::lock_guard<std::mutex> lock(mutex_);
        ++weights_reads_;
        return weights_.emplace(key, std::move(loaded)).first->second;
    }

    // How often a weights file was read into this cache (once per file unless two calls missed it at once).
    std::size_t weights_reads() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return weights_reads_;
    }

    /*  The per-layer Gram targets stored under `key` for the network type Net; the first time,
        compute() makes them (a std::vector<tensor2<Net::value_type>>). */
    template <class Net, class Compute, class T = typename Net::value_type>
    std::vector<tensor2<T>> style_targets(const std::string& key, Compute&& compute) {
        const std::string full = std::string(typeid(Net).name()) + '\n' + key;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            const auto found = targets_.find(full);
            if (found != targets_.end()) {
                ++hits_;
                return *std::static_pointer_cast<const std::vector<tensor2<T>>>(found->second);
            }
        }
        std::vector<tensor2<T>> targets = compute();
        const std::lock_guard<std::mutex> lock(mutex_);
        ++misses_;
        targets_.emplace(full, std::make_shared<const std::vector<tensor2<T>>>(targets));
        return targets;
    }

    // How often style targets were reused / computed (each style image of a call counts once).
    std::size_t style_target_hits() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return hits_;
    }
    std::size_t style_target_misses() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return misses_;
    }

    void clear() {
        const std::lock_guard<std::mutex> lock(mutex_);
        weights_.clear();
        targets_.clear();
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const model_weights>> weights_;
    std::map<std::string, std::shared_ptr<const void>> targets_;
    std::size_t hits_ = 0, misses_ = 0, weights_reads_ = 0;
};

namespace detail {

// The weights file stylize reads, and the key the cache stores its weights and targets under.
inline std::string weights_path(const stylize_options& o) {
    return o.weights.empty() ? find_vgg19_weights("", "") : o.weights;
}
inline std::string weights_key(const stylize_options& o) { return weights_path(o) + " sha256 " + o.weights_sha256; }

// Reads and checks the weights file of a call with `o` (o.weights_sha256 pins it).
inline model_weights read_call_weights(const stylize_options& o) {
    weights_options pin;
    pin.expected_sha256 = o.weights_sha256;
    return read_model_weights(weights_path(o), pin);
}

}  // namespace detail

/*  The weights file a stylize call with `o` uses (o.weights, else find_vgg19_weights), read and
    checked (o.weights_sha256, the file's format and values) through o.cache when it has one: the
    first call reads the file, later ones (stylize's included) share that copy. A program that
    checks the file before its first stylize calls this with its cache, so the file is read once.
    throws: io_error / invalid_argument as read_model_weights. */
inline std::shared_ptr<const model_weights> stylize_weights(const stylize_options& o) {
    const auto read = [&] { return std::make_shared<const model_weights>(detail::read_call_weights(o)); };
    return o.cache ? o.cache->weights(detail::weights_key(o), read) : read();
}

namespace detail {

// The weights one stylize call loads into its network: the cache's (copied into the network), or,
// without a cache, read for this call alone (moved into the network: held once, not twice).
struct call_weights {
    std::shared_ptr<const model_weights> shared;
    model_weights own;
    const model_weights& get() const { return shared ? *shared : own; }
};
inline call_weights weights_for_call(const stylize_options& o) {
    if (o.cache) return {stylize_weights(o), {}};
    return {nullptr, read_call_weights(o)};
}

}  // namespace detail

/*  The key of one style image's targets: everything they depend on besides the network type
    (which style_targets adds): the image's pixels (SHA-256), its working size, the layers, the
    pooling, the convolution precision and the weights file. */
inline std::string style_target_key(const image& style, std::size_t height, std::size_t width,
                                    const std::vector<std::string>& layers, pooling pooling_mode,
                                    conv_precision precision, const std::string& weights_key) {
    detail::sha256 pixels;
    pixels.update(style.data(), style.size() * sizeof(float));
    std::string key = pixels.hex_digest();
    key += ' ' + std::to_string(style.shape(0)) + 'x' + std::to_string(style.shape(1));
    key += " at " + std::to_string(height) + 'x' + std::to_string(width) + " layers";
    for (const auto& l : layers) key += ' ' + l;
    key += pooling_mode == pooling::max ? " max" : " avg";
    key += std::string(" ") + to_string(precision) + " ";
    return key + weights_key;
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
