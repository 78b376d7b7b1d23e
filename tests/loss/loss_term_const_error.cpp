// Must NOT compile: a loss term with an accumulate form whose call operator is not const (or,
// with NST_NON_CONST_ACCUMULATE, whose accumulate is not const). tests/layers/
// expect_one_error.cmake builds it and checks the compiler reports exactly one error, objective's
// (the call operator: errors deep in objective's lambdas; the accumulate: none, it went unused).
#include <nst/layers/conv3x3.hpp>
#include <nst/layers/relu.hpp>
#include <nst/layers/sequential.hpp>
#include <nst/loss/objective.hpp>

using net_type = nst::sequential<nst::conv3x3<float, 3, 4>, nst::relu<float>>;

#ifndef NST_NON_CONST_ACCUMULATE
struct term_with_accumulate {
    float operator()(const nst::tensor3<float>& f, nst::tensor3<float>& df) {  // not const
        df = f;
        return 0;
    }
    float accumulate(const nst::tensor3<float>& f, float weight, nst::tensor3<float>& df) const {
        df += weight * f;
        return 0;
    }
};
#else
struct term_with_accumulate {
    float operator()(const nst::tensor3<float>& f, nst::tensor3<float>& df) const {
        df = f;
        return 0;
    }
    float accumulate(const nst::tensor3<float>& f, float weight, nst::tensor3<float>& df) {  // not const
        df += weight * f;
        return 0;
    }
};
#endif

int main() {
    net_type net({"conv", "relu"});
    nst::objective<net_type> loss(net);
    loss.add("relu", 1.0f, term_with_accumulate{}, "mine");
}
