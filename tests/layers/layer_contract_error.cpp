// Must NOT compile: a user layer without backward. tests/layers/expect_one_error.cmake builds it
// and checks the compiler reports exactly one error, the layer contract's, naming backward.
#include <nst/layers/conv3x3.hpp>
#include <nst/layers/sequential.hpp>

struct layer_without_backward {
    using value_type = float;
    static constexpr std::size_t in_channels = 0, out_channels = 0;
    static constexpr bool backward_needs_input = false, backward_needs_output = false;
    static constexpr nst::shape3 output_shape(const nst::shape3& in) { return in; }
    void forward(const nst::tensor3<float>& x, nst::tensor3<float>& y) const { y = x; }
};

int main() {
    nst::sequential<nst::conv3x3<float, 3, 4>, layer_without_backward> net;
    const nst::tensor3<float> x = xt::zeros<float>({3, 4, 4});
    net.forward(x);
    net.add_gradient(1, net.output(1));
    return int(net.backward().size());
}
