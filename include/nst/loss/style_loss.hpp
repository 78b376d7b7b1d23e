// Style loss: how far the Gram matrix of a layer's activations is from a style target.
//
// Normalisation is an explicit choice (F is N x M: N channels, M = H*W positions):
//   gatys (default): G = F F^T / M,      E = sum (G - A)^2 / (4 N^2)
//       This equals the paper's E_l = 1/(4 N^2 M^2) sum (F F^T - A_raw)^2 exactly when the style
//       and generated images have the same size, and dividing the Gram by M keeps the target
//       meaningful when they do not (style images get their own size).
//   johnson: G = F F^T / (N M),          E = sum (G - A)^2 / N^2 (a mean over the N x N entries)
//       as in jcjohnson/neural-style; its values are N^2 / 4 times smaller than gatys' (the Gram
//       is divided by N once more, and squared, against gatys' 1/4).
// Either way the per-layer weight w_l and the global style weight multiply E outside.
#pragma once

#include <cstddef>
#include <string>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "gram.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

enum class style_normalization { gatys, johnson };

inline const char* to_string(style_normalization n) {
    return n == style_normalization::gatys ? "gatys" : "johnson";
}

// The Gram scale for activations f under a normalisation.
template <class T> T gram_scale(const tensor3<T>& f, style_normalization norm) {
    const T m = T(f.shape(1) * f.shape(2));
    return norm == style_normalization::gatys ? m : m * T(f.shape(0));
}

// Style target A of one image's activations (blend several with weighted sums of these).
template <class T>
tensor2<T> style_target(const tensor3<T>& f, style_normalization norm = style_normalization::gatys) {
    return gram(f, gram_scale(f, norm));
}

template <class T> class style_loss {
public:
    explicit style_loss(tensor2<T> target, style_normalization norm = style_normalization::gatys)
        : target_(std::move(target)), norm_(norm) {
        if (target_.dimension() != 2 || target_.shape(0) != target_.shape(1) ||
            target_.size() == 0)
            throw shape_error("style_loss: the target must be a non-empty square Gram matrix, got " +
                              shape_string(target_.shape()));
        symmetric_target_ = xt::all(xt::equal(target_, xt::transpose(target_)));
    }

    // Returns E at activations f and writes dE/df into df.
    T operator()(const tensor3<T>& f, tensor3<T>& df) const { return evaluate(f, T(1), false, df); }

    // Returns E at activations f and adds weight * dE/df to df (f's shape): the form objective
    // uses to gather the term into the network's gradient in the product's own pass.
    T accumulate(const tensor3<T>& f, T weight, tensor3<T>& df) const {
        return evaluate(f, weight, true, df);
    }

    const tensor2<T>& target() const { return target_; }

private:
    T evaluate(const tensor3<T>& f, T weight, bool add, tensor3<T>& df) const {
        const std::size_t n = target_.shape(0);
        if (f.dimension() != 3 || f.shape(0) != n || f.size() == 0)
            throw shape_error("style_loss: activations " + shape_string(f.shape()) +
                              " do not have the target's " + std::to_string(n) + " channels");
        const T scale = gram_scale(f, norm_);
        const T denom = norm_ == style_normalization::gatys ? T(4 * n * n) : T(n * n);
        // diff becomes dE/dG = 2 (G - A) / denom while sum collects (G - A)^2.
        tensor2<T> diff = gram(f, scale);
        T* d = diff.data();
        const T* a = target_.data();
        const T to_gradient = T(2) / denom;
        const std::ptrdiff_t size = std::ptrdiff_t(diff.size());
        double sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (size >= 16384)
        for (std::ptrdiff_t i = 0; i < size; ++i) {
            const T e = d[i] - a[i];
            sum += double(e) * double(e);
            d[i] = e * to_gradient;
        }
        // dE/dF = (D + D^T) F / scale for D = dE/dG; D is symmetric when A is (a Gram, a blend
        // of Grams), and then the backward skips forming D + D^T.
        if (add && symmetric_target_)
            add_symmetric_gram_backward(f, diff, scale, weight, df);
        else if (add)
            add_gram_backward(f, diff, scale, weight, df);
        else if (symmetric_target_)
            symmetric_gram_backward(f, diff, scale, df);
        else
            gram_backward(f, diff, scale, df);
        return T(sum / double(denom));
    }

    tensor2<T> target_;
    style_normalization norm_;
    bool symmetric_target_ = true;
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
