// A consumer's first program: compose a tiny network, run it forward and backward.
#include <cstdio>

#include <nst/nst.hpp>

int main() {
    using net_type = nst::sequential<nst::conv3x3<float, 3, 4>, nst::relu<float>>;
    net_type net({"conv", "relu"});
    nst::tensor3<float> x = xt::ones<float>({3, 5, 5});
    const auto& y = net.forward(x);
    net.add_gradient("relu", xt::ones<float>(y.shape()));
    const auto dx = net.backward();
    std::printf("nst %s: output %s, input gradient %s\n", NST_VERSION_STRING,
                nst::shape_string(y.shape()).c_str(), nst::shape_string(dx.shape()).c_str());
    return dx.shape() == x.shape() ? 0 : 1;
}
