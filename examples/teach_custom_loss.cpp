// Teaching example: your own loss functor, plugged into nst::objective and an optimizer.
//
// A loss term is any callable  T term(const tensor3<T>& f, tensor3<T>& df)  returning its value
// and writing d value / d f. Attached to a layer, f is that layer's activations and nst
// back-propagates df to the pixels. Here the term is a different *style statistic*: instead of
// the Gram matrix, match each channel's mean and standard deviation (Huang & Belongie 2017 show
// these alone carry much of a style). It is used with nst's content loss and L-BFGS.
//
// Usage: teach_custom_loss WEIGHTS.h5 CONTENT STYLE [OUT.png] [ITERATIONS] [SIZE]
//   defaults: custom_style.png, 150 iterations, 256 px on the longer side. Prints why the
//   optimizer stopped; exits 1 when the loss became non-finite (naming the terms), 2 on errors.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <nst/nst.hpp>

#include "argument_numbers.hpp"
#include "teaching_arguments.hpp"

// Per-channel mean and standard deviation of C x H x W activations.
struct channel_stats {
    explicit channel_stats(const nst::tensor3<float>& f)
        : mean(xt::mean(f, {1, 2})),
          sd(xt::sqrt(xt::maximum(xt::mean(xt::square(f), {1, 2}) - mean * mean, 0.0f) + 1e-5f)) {}
    nst::tensor1<float> mean, sd;
};

// L = sum_c (mean_c - a_c)^2 + (sd_c - b_c)^2. With M = H*W positions, the chain rule gives
//   dL/df_ci = 2 (mean_c - a_c) / M  +  2 (sd_c - b_c) (f_ci - mean_c) / (M sd_c).
struct mean_sd_style_loss {
    channel_stats target;

    float operator()(const nst::tensor3<float>& f, nst::tensor3<float>& df) const {
        const channel_stats now(f);
        const std::size_t m = f.shape(1) * f.shape(2);
        df.resize(f.shape());
        float loss = 0;
        for (std::size_t c = 0; c < f.shape(0); ++c) {
            const float dm = now.mean(c) - target.mean(c), ds = now.sd(c) - target.sd(c);
            loss += dm * dm + ds * ds;
            const float* x = &f(c, 0, 0);
            float* g = &df(c, 0, 0);
            for (std::size_t i = 0; i < m; ++i)
                g[i] = 2 * dm / float(m) + 2 * ds * (x[i] - now.mean(c)) / (float(m) * now.sd(c));
        }
        return loss;
    }
};

int main(int argc, char** argv) {
    const bool help = asks_for_help(argc, argv);
    if (help || argc < 4) {
        std::fprintf(help ? stdout : stderr, "usage: %s WEIGHTS.h5 CONTENT STYLE [OUT.png] [ITERATIONS] [SIZE]\n", argv[0]);
        return help ? 0 : 2;
    }
    const std::string out = argc > 4 ? argv[4] : "custom_style.png";
    try {
        const std::size_t iterations = argc > 5 ? whole_number_argument(argv[5], "ITERATIONS", 0, 100000) : 150;
        const std::size_t size = argc > 6 ? whole_number_argument(argv[6], "SIZE", 16, 4096) : 256;
        check_output_image(out, {argv[1], argv[2], argv[3]});
        nst::vgg19<float> net;
        nst::load_vgg19_weights(net, argv[1]);
        const auto load = [size](const char* path) {
            return nst::to_vgg_input<float>(nst::resize_longer_side(nst::load_image(path), size));
        };
        const nst::tensor3<float> content = load(argv[2]), style = load(argv[3]);
        // relu5_1 lies behind four poolings, each halving the image: at least 1 px must remain.
        const std::size_t needed = net.min_input_side(net.index_of("relu5_1"));  // 16
        for (const nst::tensor3<float>* image : {&content, &style})
            if (std::min(image->shape(1), image->shape(2)) < needed)
                throw std::invalid_argument("SIZE " + std::to_string(size) + " leaves an image's shorter side below "
                                            "the " + std::to_string(needed) + " px relu5_1 needs");

        nst::objective<nst::vgg19<float>> f(net);
        // Style statistics first (the next forward overwrites the outputs), up to the deepest
        // layer read.
        net.forward(style, net.index_of("relu5_1"));
        for (const char* layer : {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"})
            f.add(layer, 1e3f, mean_sd_style_loss{channel_stats(net.output(layer))}, "style");
        net.forward(content, net.index_of("relu4_2"));
        f.add("relu4_2", 1.0f, nst::content_loss<float>(net.output("relu4_2")), "content");

        nst::tensor3<float> x = content;  // start from the photo
        nst::lbfgs<float>::options options;
        options.max_iterations = iterations;
        const auto progress = [](const auto& s) {  // s.value: the objective's parts at this point
            if (s.iteration % 25 == 0)
                std::printf("iteration %4zu  total %.4g  content %.4g  style %.4g\n", s.iteration,
                            double(s.loss), double(s.value.group("content")), double(s.value.group("style")));
        };
        // Any nst optimizer takes any such f.
        const auto result = nst::lbfgs<float>(options).minimize(f, x, progress);
        std::printf("stopped after %zu iterations (%s), loss %.4g\n", result.iterations,
                    nst::to_string(result.reason).c_str(), double(result.loss));
        nst::save_image(nst::from_vgg_input(x), out);  // non_finite: the last finite point
        std::printf("wrote %s\n", out.c_str());
        if (result.reason == nst::stop_reason::non_finite) {  // e.g. a term returned NaN: which one
            std::fprintf(stderr, "error: %s\n", nst::to_string(result.non_finite).c_str());
            return 1;
        }
    } catch (const std::exception& e) {  // nst::error and its subclasses, bad numbers, ...
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    return 0;
}
