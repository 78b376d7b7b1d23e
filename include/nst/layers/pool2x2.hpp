// 2x2 pooling with stride 2, average (the paper's choice for style transfer) or max (VGG's).
// Odd heights/widths drop the last row/column, as Keras' "valid" and PyTorch's default do.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "../core/isa_namespace.hpp"
#include "layer_shape.hpp"
#include "positive_mask.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

enum class pooling { average, max };

inline const char* to_string(pooling p) { return p == pooling::average ? "avg" : "max"; }

template <class T, pooling Mode> class pool2x2 {
public:
    using value_type = T;
    static constexpr const char* kind = Mode == pooling::average ? "avgpool2x2" : "maxpool2x2";
    static constexpr std::size_t in_channels = 0;
    static constexpr std::size_t out_channels = 0;
    static constexpr bool backward_needs_input = Mode == pooling::max;  // where the max was
    static constexpr bool backward_needs_output = false;

    static constexpr shape3 output_shape(const shape3& in) { return {in[0], in[1] / 2, in[2] / 2}; }

    void forward(const tensor3<T>& x, tensor3<T>& y) const { run_forward(x, y, nullptr); }

    // Average pooling fused with the ReLU before it (sequential.hpp does this where that ReLU's
    // output is not kept): the forward also records where its input x is positive, the ReLU's
    // saved state, while each pair of rows is in the cache, and backward_through_relu applies
    // that mask to dx as it writes it. Each spares a pass over the ReLU's output, the largest
    // activations of VGG (64 x H x W before the first pooling). (Max pooling reads its input in
    // backward, so the ReLU's output is kept whole there and its mask is never made.)
    static constexpr bool records_relu_mask = Mode == pooling::average;
    void forward_recording(const tensor3<T>& x, tensor3<T>& y, positive_mask& x_positive) const {
        static_assert(records_relu_mask, "only average pooling records its input's mask");
        run_forward(x, y, &x_positive);
    }
    tensor3<T> backward_through_relu(const positive_mask& x_positive, tensor3<T>&& dy,
                                     const shape3& in_shape) const {
        static_assert(records_relu_mask, "only average pooling records its input's mask");
        if (x_positive.shape() != in_shape)
            throw shape_error(std::string(kind) + " backward: input mask " +
                              shape_string(x_positive.shape()) + " does not match input " +
                              shape_string(in_shape));
        return run_backward(tensor3<T>(), std::move(dy), in_shape, &x_positive);
    }

    // Average: each input of a window gets a quarter of its gradient. Max: the first maximal
    // input of the window gets all of it (ties broken the way forward scanned).
    tensor3<T> backward(const tensor3<T>& x, const tensor3<T>&, tensor3<T>&& dy,
                        const shape3& in_shape) const {
        // Max reads x as in_shape to find each window's maximum (average does not read it).
        if (Mode == pooling::max && shape_of(x) != in_shape)
            throw shape_error(std::string(kind) + " backward: expected input " + shape_string(in_shape) +
                              ", got " + shape_string(x.shape()));
        return run_backward(x, std::move(dy), in_shape, nullptr);
    }

private:
    void run_forward(const tensor3<T>& x, tensor3<T>& y, positive_mask* x_positive) const {
        require_activation(x, 0, kind);
        const shape3 s = output_shape(shape_of(x));
        if (s[1] == 0 || s[2] == 0)
            throw shape_error(std::string(kind) + ": input " + shape_string(x.shape()) +
                              " is smaller than the 2 x 2 window");
        y.resize(s);
        if (x_positive) x_positive->reset(shape_of(x));
        const std::size_t h = x.shape(1), w = x.shape(2);
        const std::ptrdiff_t channels = std::ptrdiff_t(s[0]);
#pragma omp parallel for schedule(static) if (x.size() > (1 << 16))
        for (std::ptrdiff_t c = 0; c < channels; ++c) {
            const std::size_t first = std::size_t(c) * h * w;  // element (c, 0, 0)
            for (std::size_t i = 0; i < s[1]; ++i) {
                const T* r0 = &x(c, 2 * i, 0);
                const T* r1 = r0 + w;
                T* dst = &y(c, i, 0);
                for (std::size_t j = 0; j < s[2]; ++j) {
                    const T a = r0[2 * j], b = r0[2 * j + 1], d = r1[2 * j], e = r1[2 * j + 1];
                    if constexpr (Mode == pooling::average)
                        dst[j] = T(0.25) * (a + b + d + e);
                    else
                        dst[j] = std::max(std::max(a, b), std::max(d, e));
                }
                if (x_positive) x_positive->record(r0, first + 2 * i * w, 2 * w);
            }
            if (x_positive && h % 2)  // the dropped last row
                x_positive->record(&x(c, h - 1, 0), first + (h - 1) * w, w);
        }
    }

    tensor3<T> run_backward(const tensor3<T>& x, tensor3<T>&& dy, const shape3& in_shape,
                            const positive_mask* x_positive) const {
        const shape3 s = output_shape(in_shape);
        if (shape_of(dy) != s)
            throw shape_error(std::string(kind) + " backward: expected gradient " +
                              shape_string(s) + ", got " + shape_string(dy.shape()));
        // Every cell of a window is written (max: the gradient or 0), so only the row and
        // column that odd sizes drop need zeroing: no separate fill pass over dx.
        auto dx = tensor3<T>::from_shape(in_shape);
        const std::size_t w = in_shape[2];
        const std::ptrdiff_t channels = std::ptrdiff_t(s[0]);
#pragma omp parallel for schedule(static) if (dx.size() > (1 << 16))
        for (std::ptrdiff_t c = 0; c < channels; ++c) {
            for (std::size_t i = 0; i < s[1]; ++i) {
                T* g0 = &dx(c, 2 * i, 0);
                T* g1 = g0 + w;
                const T* src = &dy(c, i, 0);
                for (std::size_t j = 0; j < s[2]; ++j) {
                    if constexpr (Mode == pooling::average) {
                        const T q = T(0.25) * src[j];
                        g0[2 * j] = q; g0[2 * j + 1] = q; g1[2 * j] = q; g1[2 * j + 1] = q;
                    } else {
                        const T* r0 = &x(c, 2 * i, 0);
                        const T* r1 = r0 + w;
                        T* cells[4] = {&g0[2 * j], &g0[2 * j + 1], &g1[2 * j], &g1[2 * j + 1]};
                        const T vals[4] = {r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]};
                        std::size_t best = 0;
                        for (std::size_t t = 1; t < 4; ++t)
                            if (vals[t] > vals[best]) best = t;
                        for (std::size_t t = 0; t < 4; ++t) *cells[t] = t == best ? src[j] : T(0);
                    }
                }
                if (w % 2) {  // the dropped last column
                    g0[w - 1] = T(0);
                    g1[w - 1] = T(0);
                }
                if (x_positive)
                    x_positive->zero_where_clear(g0, (std::size_t(c) * in_shape[1] + 2 * i) * w, 2 * w);
            }
            if (in_shape[1] % 2)  // the dropped last row
                std::fill_n(&dx(c, in_shape[1] - 1, 0), w, T(0));
        }
        return dx;
    }
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
