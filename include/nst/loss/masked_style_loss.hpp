// Style loss over a region: the Gram matrix of a layer's activations taken only where a soft
// mask m (H x W, values 0..1) is set, against a style target (Gatys et al. 2017, "Controlling
// perceptual factors in neural style transfer"; cysmith/neural-style-tf's masked styles).
//
// The region's Gram is the mask-weighted mean of the per-position outer products:
//   gatys:   G = F diag(m) F^T / sum(m),     johnson: G = F diag(m) F^T / (N sum(m))
// and E = sum (G - A)^2 / (4 N^2) (gatys) or / N^2 (johnson), as in style_loss.hpp. With m = 1
// everywhere this is style_loss exactly; with a 0/1 mask it is style_loss of the masked positions
// alone (the same as F*m with the paper's form (F m)(F m)^T, since m^2 = m). For soft values the
// weight m (not m^2) keeps G a weighted mean: a mask of constant c gives the whole image's Gram.
// It is computed as the plain Gram of F sqrt(m), so it runs on gram.hpp's BLAS kernels.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"
#include "../core/tensor.hpp"
#include "gram.hpp"
#include "style_loss.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

namespace detail {

// requires: mask non-empty, values finite in [0, 1], some value > 0 (else invalid_argument).
template <class T> T checked_mask_area(const tensor2<T>& mask, const std::string& who) {
    if (mask.dimension() != 2 || mask.size() == 0)
        throw shape_error(who + ": the mask must be a non-empty H x W matrix, got " + shape_string(mask.shape()));
    double area = 0;
    for (T v : mask) {
        if (!(v >= T(0) && v <= T(1)))
            throw invalid_argument(who + ": mask values must be in 0..1, got " + number_text(v));
        area += double(v);
    }
    if (!(area > 0)) throw invalid_argument(who + ": the mask is zero everywhere (an empty region)");
    return T(area);
}

// out[c, p] = f[c, p] * w[p] for C x H x W f and H x W w.
template <class T> void scale_positions(const tensor3<T>& f, const tensor2<T>& w, tensor3<T>& out) {
    out.resize(f.shape());
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    const T* in = f.data();
    const T* weight = w.data();
    T* o = out.data();
#pragma omp parallel for schedule(static) if (c * m > (1 << 16))
    for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(c); ++k)
        for (std::size_t p = 0; p < m; ++p) o[std::size_t(k) * m + p] = in[std::size_t(k) * m + p] * weight[p];
}

}  // namespace detail

// The region Gram F diag(m) F^T / scale(m) of activations f (C x H x W) under a mask (H x W).
template <class T>
tensor2<T> masked_gram(const tensor3<T>& f, const tensor2<T>& mask,
                       style_normalization norm = style_normalization::gatys) {
    const T area = detail::checked_mask_area(mask, "masked_gram");
    if (f.dimension() != 3 || f.shape(1) != mask.shape(0) || f.shape(2) != mask.shape(1))
        throw shape_error("masked_gram: activations " + shape_string(f.shape()) + " do not match the mask " +
                          shape_string(mask.shape()));
    tensor3<T> weighted;
    detail::scale_positions(f, tensor2<T>(xt::sqrt(mask)), weighted);
    return gram(weighted, norm == style_normalization::gatys ? area : area * T(f.shape(0)));
}

template <class T> class masked_style_loss {
public:
    // target: the style's Gram (style_target of the whole style image); mask: this layer's H x W.
    masked_style_loss(tensor2<T> target, const tensor2<T>& mask, style_normalization norm = style_normalization::gatys)
        : target_(std::move(target)), root_(xt::sqrt(mask)), area_(detail::checked_mask_area(mask, "masked_style_loss")),
          norm_(norm) {
        if (target_.dimension() != 2 || target_.shape(0) != target_.shape(1) || target_.size() == 0)
            throw shape_error("masked_style_loss: the target must be a non-empty square Gram matrix, got " +
                              shape_string(target_.shape()));
    }

    // Returns E at activations f and writes dE/df into df.
    T operator()(const tensor3<T>& f, tensor3<T>& df) const {
        const std::size_t n = target_.shape(0);
        if (f.dimension() != 3 || f.shape(0) != n || f.shape(1) != root_.shape(0) || f.shape(2) != root_.shape(1))
            throw shape_error("masked_style_loss: activations " + shape_string(f.shape()) + " do not match " +
                              std::to_string(n) + " channels and the mask " + shape_string(root_.shape()));
        const T scale = norm_ == style_normalization::gatys ? area_ : area_ * T(n);
        const T denom = norm_ == style_normalization::gatys ? T(4 * n * n) : T(n * n);
        tensor3<T> weighted;
        detail::scale_positions(f, root_, weighted);
        // diff becomes dE/dG = 2 (G - A) / denom while sum collects (G - A)^2.
        tensor2<T> diff = gram(weighted, scale);
        T* d = diff.data();
        const T* a = target_.data();
        double sum = 0;
        for (std::size_t i = 0; i < diff.size(); ++i) {
            const T e = d[i] - a[i];
            sum += double(e) * double(e);
            d[i] = e * (T(2) / denom);
        }
        gram_backward(weighted, diff, scale, df);  // dE/d(F sqrt m); the chain rule scales by sqrt m
        detail::scale_positions(tensor3<T>(df), root_, df);
        return T(sum / double(denom));
    }

    const tensor2<T>& target() const { return target_; }

private:
    tensor2<T> target_;
    tensor2<T> root_;  // sqrt of the mask
    T area_;           // sum of the mask
    style_normalization norm_;
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
