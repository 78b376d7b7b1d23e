// Gram matrix of a layer's activations: G = F F^T / scale, with F the C x (H*W) matrix of the
// C x H x W activations (channel-major storage makes F a view, no copy). Computed with BLAS
// syrk (half the flops of a general product), which OpenBLAS runs on its OpenMP threads.
#pragma once

#include <cstddef>
#include <string>

#include "../core/blas.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace nst {

// requires: f non-empty, scale != 0. ensures: returns the symmetric C x C matrix F F^T / scale.
template <class T> tensor2<T> gram(const tensor3<T>& f, T scale = T(1)) {
    if (f.size() == 0)
        throw shape_error("gram: expected non-empty C x H x W activations, got " +
                          shape_string(f.shape()));
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    auto g = tensor2<T>::from_shape({c, c});
    blas::syrk_upper(int(c), int(m), T(1) / scale, f.data(), int(m), T(0), g.data(), int(c));
    for (std::size_t i = 0; i < c; ++i)  // syrk fills the upper triangle; mirror it
        for (std::size_t j = 0; j < i; ++j) g(i, j) = g(j, i);
    return g;
}

// Backward of gram: given dL/dG, returns dL/dF = (dG + dG^T) F / scale.
template <class T>
tensor3<T> gram_backward(const tensor3<T>& f, const tensor2<T>& dg, T scale = T(1)) {
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    if (dg.shape(0) != c || dg.shape(1) != c)
        throw shape_error("gram_backward: expected a " + std::to_string(c) + " x " +
                          std::to_string(c) + " gradient for activations " +
                          shape_string(f.shape()) + ", got " + shape_string(dg.shape()));
    tensor2<T> sym = dg + xt::transpose(dg);
    auto df = tensor3<T>::from_shape(f.shape());
    blas::gemm(false, false, int(c), int(m), int(c), T(1) / scale, sym.data(), int(c), f.data(),
               int(m), T(0), df.data(), int(m));
    return df;
}

}  // namespace nst
