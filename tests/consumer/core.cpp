// A consumer of nst::core alone (no HDF5, no stb on the include path or the link line): VGG19,
// a style loss in the objective, two L-BFGS iterations on a tiny image.
#include <cstdio>

#include <nst/loss/objective.hpp>
#include <nst/loss/style_loss.hpp>
#include <nst/models/vgg19.hpp>
#include <nst/optim/lbfgs.hpp>

int main() {
    using net_type = nst::vgg19<float>;
    net_type net;  // no weights (computes as zero weights): conv1_1 gets a simple filter, enough to give a non-zero loss
    net.layer<0>().set_weights(xt::ones<float>({64, 3, 3, 3}) * 0.01f, xt::zeros<float>({64}));

    const std::size_t relu1_1 = net.index_of("relu1_1");
    nst::tensor3<float> style = xt::zeros<float>({3, 8, 8});
    for (std::size_t i = 0; i < style.size(); ++i) style.data()[i] = float(i % 7) - 3.0f;
    const auto target = nst::style_target(net.forward(style, relu1_1));

    nst::objective<net_type> loss(net);
    loss.add("relu1_1", 1.0f, nst::style_loss<float>(target), "style");
    nst::tensor3<float> image = xt::ones<float>({3, 8, 8});
    nst::lbfgs<float>::options options;
    options.max_iterations = 2;
    const auto result = nst::lbfgs<float>(options).minimize(loss, image);
    std::printf("nst::core consumer: style loss %g after L-BFGS\n", double(result.loss));
    return result.loss >= 0 ? 0 : 1;
}
