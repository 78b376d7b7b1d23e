// Content loss: how far a layer's activations F are from the content image's P.
#pragma once

#include <cstddef>
#include <string>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "detail/accumulator.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

enum class content_normalization {
    half_sum_squares,  // 1/2 sum (F - P)^2: the paper's equation (1). Default.
    mean_squared,      // sum (F - P)^2 / (C H W): Keras/TensorFlow tutorials.
};

template <class T> class content_loss {
public:
    explicit content_loss(tensor3<T> target,
                          content_normalization norm = content_normalization::half_sum_squares)
        : target_(std::move(target)), norm_(norm) {
        if (target_.size() == 0) throw shape_error("content_loss: empty target activations");
    }

    // Returns the loss at activations f and writes dLoss/df into df.
    T operator()(const tensor3<T>& f, tensor3<T>& df) const {
        check(f);
        df.resize(f.shape());
        return evaluate<false>(f, T(1), df);
    }

    // Returns the loss at activations f and adds weight * dLoss/df to df (f's shape) in the
    // same pass: the form objective uses to gather the term into the network's gradient.
    T accumulate(const tensor3<T>& f, T weight, tensor3<T>& df) const {
        check(f);
        detail::require_accumulator("content_loss", f, df);
        return evaluate<true>(f, weight, df);
    }

    const tensor3<T>& target() const { return target_; }

private:
    void check(const tensor3<T>& f) const {
        if (f.shape() != target_.shape())
            throw shape_error("content_loss: activations " + shape_string(f.shape()) +
                              " do not match the content target " +
                              shape_string(target_.shape()));
    }
    template <bool Add> T evaluate(const tensor3<T>& f, T weight, tensor3<T>& df) const {
        const T* a = f.data();
        const T* p = target_.data();
        T* g = df.data();
        const std::ptrdiff_t n = std::ptrdiff_t(f.size());
        const T scale = norm_ == content_normalization::half_sum_squares ? T(1) : T(2) / T(n);
        const T k = weight * scale;
        double sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (n > (1 << 15))
        for (std::ptrdiff_t i = 0; i < n; ++i) {
            const T d = a[i] - p[i];
            sum += double(d) * d;
            if constexpr (Add)
                g[i] += k * d;
            else
                g[i] = k * d;
        }
        return T(norm_ == content_normalization::half_sum_squares ? 0.5 * sum : sum / double(n));
    }

    tensor3<T> target_;
    content_normalization norm_;
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
