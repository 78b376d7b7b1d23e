// Chooses how a conv3x3 layer computes. At compile time: for float, when the translation unit
// is compiled with AVX-512 or AVX2+FMA, nst's own SIMD kernels; otherwise the portable
// im2col + BLAS routine (conv3x3_gemm.hpp), which also stays the reference the tests compare
// the fast kernels against. At run time, per call, between the two own kernels:
// Winograd F(4x4, 3x3) (conv3x3_winograd.hpp, 4x fewer multiplies, transforms that pay off with
// enough channels and tiles) or the implicit GEMM (conv3x3_implicit.hpp). Both directions use
// the same routines with differently packed weights (forward, and its adjoint for backward).
#pragma once

#include <atomic>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "conv3x3_gemm.hpp"
#include "conv3x3_implicit.hpp"
#include "conv3x3_winograd.hpp"

namespace nst::detail {

// Process-wide switch behind nst::set_conv_algorithm (conv3x3.hpp): may float convolutions use
// Winograd?
inline std::atomic<bool>& conv3x3_winograd_allowed() {
    static std::atomic<bool> allowed{true};
    return allowed;
}

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

    // Winograd where it measured faster on a 2-core AVX-512 machine (benchmarks/
    // bench_conv_kernels): 2-3x on every VGG19 layer with 64+ channels on both sides and at
    // least 64 x 64 pixels (256 tiles); slower with 3 channels (the transforms dominate) and at
    // 32 x 32 (64 tiles: transforming the weights on every call is not amortised).
    static bool prefer_winograd(std::size_t c_in, std::size_t c_out, std::size_t h,
                                std::size_t w) {
        return c_in >= 32 && c_out >= 32 && ((h + 3) / 4) * ((w + 3) / 4) >= 128;
    }

private:
    using packed_type = std::conditional_t<uses_own_kernel, float, T>;

    static void run(const T* in, std::size_t c_in, std::size_t h, std::size_t w,
                    const packed_type* packed, const T* bias, bool relu, T* out,
                    std::size_t c_out) {
        if constexpr (uses_own_kernel) {
#if NST_SIMD_FLOAT_WIDTH > 0  // (the own kernels exist only then)
            if (conv3x3_winograd_allowed().load(std::memory_order_relaxed) &&
                prefer_winograd(c_in, c_out, h, w))
                conv3x3_winograd(in, c_in, h, w, packed, bias, relu, out, c_out);
            else
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
