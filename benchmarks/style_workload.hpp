// The style-transfer workload every benchmark and the PyTorch comparison run: VGG19 through
// relu5_1 with average pooling, content loss at relu4_2, Gram style losses at relu1_1..relu5_1,
// a total-variation term, and the backward pass to the image.
//
// Weights and images come from a counter-based hash instead of a seeded generator, so that
// benchmarks/reference_pytorch.py (which implements the same hash in numpy) builds bit-identical
// weights and images: both engines then compute the same loss, which shows they do the same work.
#pragma once

#include <sys/resource.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nst/nst.hpp>

namespace nst::bench {

// A value uniform in [lo, hi) determined by (seed, index): the splitmix64 finaliser of
// seed * golden + index, top 24 bits as the fraction. Exact in float and in double.
inline double hashed_uniform(std::uint64_t seed, std::uint64_t index, double lo, double hi) {
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + index;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double unit = double(z >> 40) * (1.0 / double(1u << 24));
    return lo + (hi - lo) * unit;
}

// Fills t (row-major order) with hashed_uniform(seed, i, lo, hi).
template <class Tensor> void fill_hashed(Tensor& t, std::uint64_t seed, double lo, double hi) {
    using T = typename Tensor::value_type;
    T* p = t.data();
    for (std::size_t i = 0; i < t.size(); ++i) p[i] = T(hashed_uniform(seed, i, lo, hi));
}

// He-uniform weights (bound sqrt(6 / (9 Cin))) and small biases for the k-th conv of a network,
// k counted from 0: weights seed 1000 + k, bias seed 2000 + k. Keeps activations O(1) through
// the whole net, so no denormals slow either engine down.
template <class Net> void hashed_weights(Net& net) {
    std::uint64_t k = 0;
    net.for_each_layer([&](auto& layer, std::size_t, const std::string&) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (nst::is_conv3x3_v<L>) {
            using T = typename L::value_type;
            tensor4<T> w = xt::empty<T>({L::out_channels, L::in_channels, std::size_t(3), std::size_t(3)});
            tensor1<T> b = xt::empty<T>({L::out_channels});
            const double bound = std::sqrt(6.0 / (9.0 * double(L::in_channels)));
            fill_hashed(w, 1000 + k, -bound, bound);
            fill_hashed(b, 2000 + k, -0.1, 0.1);
            layer.set_weights(std::move(w), std::move(b));
            ++k;
        }
    });
}

// A 3 x size x size image in the network's input range (about -50..50 around the mean).
template <class T> tensor3<T> hashed_image(std::size_t size, std::uint64_t seed) {
    tensor3<T> x = xt::empty<T>({std::size_t(3), size, size});
    fill_hashed(x, seed, -50.0, 50.0);
    return x;
}

inline const char* content_layer() { return "relu4_2"; }
inline std::array<const char*, 5> style_layers() {
    return {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
}
constexpr double content_weight = 1.0;
constexpr double style_weight = 1e3;  // per style layer
constexpr double tv_weight = 1e-3;
constexpr std::uint64_t content_seed = 1, style_seed = 2, start_seed = 3;

// Builds the workload's objective on net (weights already set) for size x size images: runs the
// content and style images forward once, keeping only the layers the targets need.
template <class T>
objective<vgg19<T>> style_objective(vgg19<T>& net, std::size_t size) {
    objective<vgg19<T>> obj(net);
    const std::size_t content_index = net.index_of(content_layer());
    net.keep_only({content_index});
    net.forward(hashed_image<T>(size, content_seed), content_index);
    obj.add(content_layer(), T(content_weight), content_loss<T>(net.output(content_index)),
            "content");

    std::vector<std::size_t> style_indices;
    for (const char* name : style_layers()) style_indices.push_back(net.index_of(name));
    net.keep_only(style_indices);
    net.forward(hashed_image<T>(size, style_seed), style_indices.back());
    for (const char* name : style_layers())
        obj.add(name, T(style_weight), style_loss<T>(style_target(net.output(name))), "style");

    obj.add_image_term(T(tv_weight), total_variation_loss<T>(), "tv");
    return obj;
}

// Peak resident set size of this process so far, in MB (Linux reports ru_maxrss in KiB).
inline double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) / 1024.0;
}

// Floating-point operations of one 3x3 same convolution (multiply and add counted separately).
constexpr double conv3x3_flops(std::size_t in, std::size_t out, std::size_t h, std::size_t w) {
    return 2.0 * 9.0 * double(in) * double(out) * double(h) * double(w);
}

}  // namespace nst::bench
