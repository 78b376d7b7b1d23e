// Chooses, at compile time, how a conv3x3 layer computes: nst's own SIMD implicit GEMM
// (conv3x3_implicit.hpp) for float when the translation unit is compiled with AVX-512 or
// AVX2+FMA, otherwise the portable im2col + BLAS routine (conv3x3_gemm.hpp), which also stays
// the reference the tests compare the fast path against. Both directions use the same routine
// with differently packed weights (forward, and its adjoint for the backward pass).
#pragma once

#include <cstddef>
#include <type_traits>
#include <vector>

#include "conv3x3_gemm.hpp"
#include "conv3x3_implicit.hpp"

namespace nst::detail {

template <class T> class conv3x3_engine {
public:
    // True when this scalar type runs on nst's own kernel (independent of the BLAS's kernels).
    static constexpr bool uses_own_kernel =
        std::is_same_v<T, float> && conv3x3_implicit_available;

    // requires: weights is c_out x c_in x 3 x 3 (PyTorch order).
    void pack(const T* weights, std::size_t c_in, std::size_t c_out) {
        c_in_ = c_in;
        c_out_ = c_out;
        if constexpr (uses_own_kernel) {
            forward_.resize(conv3x3_implicit_packed_size(c_in, c_out));
            backward_.resize(conv3x3_implicit_packed_size(c_out, c_in));
            conv3x3_implicit_pack(weights, c_in, c_out, false, forward_.data());
            conv3x3_implicit_pack(weights, c_in, c_out, true, backward_.data());
        } else {
            forward_.resize(9 * c_in * c_out);
            backward_.resize(9 * c_in * c_out);
            conv3x3_gemm_pack(weights, c_in, c_out, false, forward_.data());
            conv3x3_gemm_pack(weights, c_in, c_out, true, backward_.data());
        }
    }

    // out (c_out x h x w) = act(conv(in) + bias); bias may be null.
    void forward(const T* in, std::size_t h, std::size_t w, const T* bias, bool relu,
                 T* out) const {
        run(in, c_in_, h, w, forward_.data(), bias, relu, out, c_out_);
    }

    // dx (c_in x h x w) = gradient of sum(dy * conv(x)) with respect to x.
    void backward(const T* dy, std::size_t h, std::size_t w, T* dx) const {
        run(dy, c_out_, h, w, backward_.data(), nullptr, false, dx, c_in_);
    }

private:
    using packed_type = std::conditional_t<uses_own_kernel, float, T>;

    static void run(const T* in, std::size_t c_in, std::size_t h, std::size_t w,
                    const packed_type* packed, const T* bias, bool relu, T* out,
                    std::size_t c_out) {
        if constexpr (uses_own_kernel) {
#if NST_SIMD_FLOAT_WIDTH > 0  // (conv3x3_implicit exists only then)
            conv3x3_implicit(in, c_in, h, w, packed, bias, relu, out, c_out);
#endif
        } else {
            conv3x3_same(in, c_in, h, w, packed, bias, relu, out, c_out);
        }
    }

    std::size_t c_in_ = 0, c_out_ = 0;
    std::vector<packed_type> forward_, backward_;
};

}  // namespace nst::detail
