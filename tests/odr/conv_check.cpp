// Runs conv3x3 + ReLU forward and backward through nst's public layers and compares them with
// a plain double-precision convolution written here. Compiled once per instruction set, with
// NST_ODR_CHECK naming the entry point (tests/odr/CMakeLists.txt).
#include "conv_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <typeinfo>
#include <vector>

#include <nst/layers/conv3x3.hpp>
#include <nst/layers/relu.hpp>
#include <nst/layers/sequential.hpp>

namespace {

// out[o][y][x] = bias[o] + sum w[o][i][ky][kx] in[i][y+ky-1][x+kx-1] (zero padding), or with
// adjoint the transpose: out[i] += w[o][i] rotated by 180 degrees applied to in[o].
std::vector<double> reference_conv(const std::vector<float>& w, const std::vector<float>& bias,
                                   const std::vector<double>& in, std::size_t c_in,
                                   std::size_t c_out, std::size_t h, std::size_t wd,
                                   bool adjoint) {
    const std::size_t n_in = adjoint ? c_out : c_in, n_out = adjoint ? c_in : c_out;
    std::vector<double> out(n_out * h * wd, 0.0);
    for (std::size_t o = 0; o < n_out; ++o)
        for (std::size_t i = 0; i < n_in; ++i)
            for (std::size_t ky = 0; ky < 3; ++ky)
                for (std::size_t kx = 0; kx < 3; ++kx) {
                    const double k = adjoint ? w[((i * c_in + o) * 3 + (2 - ky)) * 3 + (2 - kx)]
                                             : w[((o * c_in + i) * 3 + ky) * 3 + kx];
                    for (std::size_t y = 0; y < h; ++y) {
                        const std::ptrdiff_t sy = std::ptrdiff_t(y + ky) - 1;
                        if (sy < 0 || sy >= std::ptrdiff_t(h)) continue;
                        for (std::size_t x = 0; x < wd; ++x) {
                            const std::ptrdiff_t sx = std::ptrdiff_t(x + kx) - 1;
                            if (sx < 0 || sx >= std::ptrdiff_t(wd)) continue;
                            out[(o * h + y) * wd + x] +=
                                k * in[(i * h + std::size_t(sy)) * wd + std::size_t(sx)];
                        }
                    }
                }
    if (!adjoint)
        for (std::size_t o = 0; o < n_out; ++o)
            for (std::size_t p = 0; p < h * wd; ++p) out[o * h * wd + p] += bias[o];
    return out;
}

template <class Tensor> double relative_error(const Tensor& got, const std::vector<double>& ref) {
    double diff = 0, scale = 1e-30;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        diff = std::max(diff, std::abs(double(got.data()[i]) - ref[i]));
        scale = std::max(scale, std::abs(ref[i]));
    }
    return got.size() == ref.size() ? diff / scale : 1e30;
}

std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float scale) {
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

// conv3x3<In, Out> then ReLU on an h x w image: forward against max(reference, 0); backward
// (through the ReLU's saved bit mask) against the reference adjoint of the gradient masked
// where nst's output is positive. Returns {forward error, backward error}.
template <std::size_t In, std::size_t Out>
std::pair<double, double> check(std::size_t h, std::size_t w, std::mt19937& rng) {
    nst::sequential<nst::conv3x3<float, In, Out>, nst::relu<float>> net({"conv", "relu"});
    const auto weights = random_floats(Out * In * 9, rng, std::sqrt(6.0f / (9.0f * In)));
    const auto bias = random_floats(Out, rng, 0.5f);
    const auto x = random_floats(In * h * w, rng, 1.0f);
    const auto dy = random_floats(Out * h * w, rng, 1.0f);
    nst::tensor4<float> wt = xt::adapt(weights, std::vector<std::size_t>{Out, In, 3, 3});
    nst::tensor1<float> bt = xt::adapt(bias, std::vector<std::size_t>{Out});
    net.template layer<0>().set_weights(wt, bt);

    const nst::tensor3<float> y = net.forward(xt::adapt(x, std::vector<std::size_t>{In, h, w}));
    net.release_output("relu");  // backward then reads the ReLU's bit mask
    net.add_gradient("relu", nst::tensor3<float>(xt::adapt(dy, std::vector<std::size_t>{Out, h, w})));
    const nst::tensor3<float> dx = net.backward();

    std::vector<double> xd(x.begin(), x.end()), masked(dy.size());
    auto ref_y = reference_conv(weights, bias, xd, In, Out, h, w, false);
    for (auto& v : ref_y) v = std::max(v, 0.0);
    for (std::size_t i = 0; i < dy.size(); ++i) masked[i] = y.data()[i] > 0 ? dy[i] : 0.0;
    const auto ref_dx = reference_conv(weights, bias, masked, In, Out, h, w, true);
    return {relative_error(y, ref_y), relative_error(dx, ref_dx)};
}

}  // namespace

conv_check_result NST_ODR_CHECK() {
    std::mt19937 rng(7);
    const auto direct = check<3, 8>(10, 13, rng);     // the implicit GEMM (too small for Winograd)
    const auto winograd = check<32, 32>(48, 44, rng);  // Winograd with the own kernels
    return {NST_SIMD_FLOAT_WIDTH, &nst::detail::positive_bits64,
            &nst::detail::conv3x3_implicit_packed_size,
            typeid(nst::sequential<nst::conv3x3<float, 3, 8>, nst::relu<float>>).name(), std::max(direct.first, winograd.first),
            std::max(direct.second, winograd.second)};
}
