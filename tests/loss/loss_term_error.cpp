// Must NOT compile: a loss term whose activations parameter is not const. tests/layers/
// expect_one_error.cmake builds it and checks the compiler reports exactly one error, objective's
// (it gave three, in std::function's and std::vector's terms).
#include <nst/layers/conv3x3.hpp>
#include <nst/layers/relu.hpp>
#include <nst/layers/sequential.hpp>
#include <nst/loss/objective.hpp>

using net_type = nst::sequential<nst::conv3x3<float, 3, 4>, nst::relu<float>>;

struct term_without_const {
    float operator()(nst::tensor3<float>& f, nst::tensor3<float>& df) const {
        df = f;
        return 0;
    }
};

int main() {
    net_type net({"conv", "relu"});
    nst::objective<net_type> loss(net);
    loss.add("relu", 1.0f, term_without_const{}, "mine");
}
