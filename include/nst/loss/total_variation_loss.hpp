// Total-variation smoothness prior on the image: the sum of squared differences between
// horizontally and vertically neighbouring pixels (Mahendran & Vedaldi's beta = 2 form, as in
// jcjohnson/neural-style). It suppresses the high-frequency noise that optimising through
// VGG alone tends to leave.
#pragma once

#include <cstddef>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

template <class T> class total_variation_loss {
public:
    // Returns sum_{c,i,j} (x[c,i,j+1]-x[c,i,j])^2 + (x[c,i+1,j]-x[c,i,j])^2, gradient into dx.
    // Each gradient element is gathered from its own neighbour differences, so rows are
    // independent and the pass splits over threads without a zero fill.
    T operator()(const tensor3<T>& x, tensor3<T>& dx) const {
        if (x.size() == 0)
            throw shape_error("total_variation_loss: empty image " + shape_string(x.shape()));
        const std::size_t h = x.shape(1), w = x.shape(2);
        dx.resize(x.shape());
        const std::ptrdiff_t rows = std::ptrdiff_t(x.shape(0) * h);
        double sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (x.size() > (1 << 15))
        for (std::ptrdiff_t r = 0; r < rows; ++r) {
            const std::size_t i = std::size_t(r) % h;
            const T* row = x.data() + std::size_t(r) * w;
            T* g = dx.data() + std::size_t(r) * w;
            // The row above, in the same channel (row[j - w] would wrap the unsigned index:
            // a pointer overflow, which clang's UBSan reports).
            const T* above = i > 0 ? row - w : row;
            for (std::size_t j = 0; j < w; ++j) {
                T grad = 0;
                if (j + 1 < w) {
                    const T d = row[j + 1] - row[j];
                    sum += double(d) * d;
                    grad -= 2 * d;
                }
                if (j > 0) grad += 2 * (row[j] - row[j - 1]);
                if (i + 1 < h) {
                    const T d = row[j + w] - row[j];
                    sum += double(d) * d;
                    grad -= 2 * d;
                }
                if (i > 0) grad += 2 * (row[j] - above[j]);
                g[j] = grad;
            }
        }
        return T(sum);
    }
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
