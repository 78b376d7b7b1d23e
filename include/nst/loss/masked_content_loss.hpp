// Content loss over a region: the content loss weighted per position by a soft mask m (H x W,
// 0..1; white = keep the content here, black = only the style counts there):
//   half_sum_squares: 1/2 sum_{c,p} m_p (F - P)^2,   mean_squared: sum m_p (F - P)^2 / (C H W),
// the same denominators as content_loss.hpp, so m = 1 everywhere is content_loss exactly.
#pragma once

#include <cstddef>
#include <string>

#include "../core/isa_namespace.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"
#include "../core/tensor.hpp"
#include "content_loss.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

template <class T> class masked_content_loss {
public:
    masked_content_loss(tensor3<T> target, tensor2<T> mask,
                        content_normalization norm = content_normalization::half_sum_squares)
        : target_(std::move(target)), mask_(std::move(mask)), norm_(norm) {
        if (target_.dimension() != 3 || target_.size() == 0)
            throw shape_error("masked_content_loss: empty target activations");
        if (mask_.dimension() != 2 || mask_.shape(0) != target_.shape(1) || mask_.shape(1) != target_.shape(2))
            throw shape_error("masked_content_loss: the mask " + shape_string(mask_.shape()) +
                              " does not match the target activations " + shape_string(target_.shape()));
        for (T v : mask_)
            if (!(v >= T(0) && v <= T(1)))
                throw invalid_argument("masked_content_loss: mask values must be in 0..1, got " +
                                       number_text(v));
    }

    // Returns the loss at activations f and writes dLoss/df into df.
    T operator()(const tensor3<T>& f, tensor3<T>& df) const {
        if (f.shape() != target_.shape())
            throw shape_error("masked_content_loss: activations " + shape_string(f.shape()) +
                              " do not match the content target " + shape_string(target_.shape()));
        df.resize(f.shape());
        const std::size_t channels = f.shape(0), m = mask_.size();
        const T* a = f.data();
        const T* p = target_.data();
        const T* w = mask_.data();
        T* g = df.data();
        const T scale = norm_ == content_normalization::half_sum_squares ? T(1) : T(2) / T(f.size());
        double sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (channels * m > (1 << 15))
        for (std::ptrdiff_t c = 0; c < std::ptrdiff_t(channels); ++c)
            for (std::size_t q = 0; q < m; ++q) {
                const std::size_t i = std::size_t(c) * m + q;
                const T d = a[i] - p[i];
                sum += double(w[q]) * double(d) * d;
                g[i] = scale * w[q] * d;
            }
        return T(norm_ == content_normalization::half_sum_squares ? 0.5 * sum : sum / double(f.size()));
    }

    const tensor3<T>& target() const { return target_; }
    const tensor2<T>& mask() const { return mask_; }

private:
    tensor3<T> target_;
    tensor2<T> mask_;
    content_normalization norm_;
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
