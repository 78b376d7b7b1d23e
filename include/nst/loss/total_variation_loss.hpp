// Total-variation smoothness prior on the image: the sum of squared differences between
// horizontally and vertically neighbouring pixels (Mahendran & Vedaldi's beta = 2 form, as in
// jcjohnson/neural-style). It suppresses the high-frequency noise that optimising through
// VGG alone tends to leave.
#pragma once

#include <cstddef>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace nst {

template <class T> class total_variation_loss {
public:
    // Returns sum_{c,i,j} (x[c,i,j+1]-x[c,i,j])^2 + (x[c,i+1,j]-x[c,i,j])^2, gradient into dx.
    T operator()(const tensor3<T>& x, tensor3<T>& dx) const {
        if (x.size() == 0)
            throw shape_error("total_variation_loss: empty image " + shape_string(x.shape()));
        const std::size_t c = x.shape(0), h = x.shape(1), w = x.shape(2);
        dx = xt::zeros<T>(x.shape());
        double sum = 0;
        for (std::size_t k = 0; k < c; ++k)
            for (std::size_t i = 0; i < h; ++i) {
                const T* row = &x(k, i, 0);
                T* g = &dx(k, i, 0);
                for (std::size_t j = 0; j < w; ++j) {
                    if (j + 1 < w) {
                        const T d = row[j + 1] - row[j];
                        sum += double(d) * d;
                        g[j + 1] += 2 * d;
                        g[j] -= 2 * d;
                    }
                    if (i + 1 < h) {
                        const T d = row[j + w] - row[j];
                        sum += double(d) * d;
                        g[j + w] += 2 * d;
                        g[j] -= 2 * d;
                    }
                }
            }
        return T(sum);
    }
};

}  // namespace nst
