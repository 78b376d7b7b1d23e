// The image as a sum of resolution levels, the variables L-BFGS works on:
//
//   x = z_0 + w up(z_1) + w^2 up(up(z_2)) + ... + w^K up^K(z_K),    w = 1/2
//
// z_0 has x's size, z_k half of z_(k-1)'s (rounded up), up = bilinear 2x (pixel centres
// aligned, edges clamped). The loss is the image's; its gradient for the levels is the adjoint,
// g_k = w^k (up^T)^k g. Why: the end of a run is slow because the image still drifts at every
// scale (measured at 256 px: of what changes after step 30, 40-60% lies in the octaves below the
// two finest), and a pixel step pushes a pattern spanning many pixels no harder than a one-pixel
// one. Through the levels a step along -g moves the image by sum_k w^2k up^k (up^T)^k g:
// up^k (up^T)^k gains ~4^k on a pattern the level can hold, w^2k takes it back, so each level
// fine enough to hold a pattern adds one pixel step's push: a pattern 2^k pixels wide gets
// ~k + 1. The optimum is the same image (the levels only re-express it); the path, and so where
// a finite run ends, differs.
//
// Measured (benchmarks/pyramid_levels.sh, README "Resolution levels": tubingen + starry_night,
// default weights, L-BFGS, automatic levels against 0): the pixels' final loss reached in 20%
// fewer steps at 256 px (150 steps), 9% at 512 px, 2% at 1024 px (100 steps); final losses 1.6%,
// 0.7%, 0.3% lower. Larger w pushes coarse patterns harder and did worse (one thread, 150 steps):
// w = 1/sqrt(2) (~2^k) ended alike at 256 px but only 0.1% lower at 512 px, w = 1 (~4^k) 1.2%
// above the pixel run at 256 px.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/tensor.hpp"
#include "../core/threads.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

/*  How many coarser levels the automatic choice gives an image h x w: halve while the longer
    side stays >= 16 px (256 x 192: 4 levels, 128 x 96 down to 16 x 12; 512 px: 5). */
inline std::size_t automatic_pyramid_levels(std::size_t h, std::size_t w) {
    std::size_t levels = 0;
    for (std::size_t side = std::max(h, w); (side + 1) / 2 >= 16; side = (side + 1) / 2) ++levels;
    return levels;
}

namespace detail {

// Bilinear 2x along one axis, from `coarse` samples to `fine` (pixel centres aligned, clamped at
// the edges): fine[i] = (1 - a[i]) coarse[lo[i]] + a[i] coarse[hi[i]]. The fine samples made
// from coarse sample c are first[c] .. end[c] - 1 (lo and hi never decrease with i): the
// adjoint gathers them per coarse sample, so coarse samples can be filled in parallel.
struct bilinear_axis {
    std::vector<std::size_t> lo, hi, first, end;
    std::vector<float> a;

    bilinear_axis(std::size_t coarse, std::size_t fine) : lo(fine), hi(fine), first(coarse, fine), end(coarse, 0), a(fine) {
        const double last = double(coarse - 1);
        for (std::size_t i = 0; i < fine; ++i) {
            const double pos = std::clamp((double(i) + 0.5) * double(coarse) / double(fine) - 0.5, 0.0, last);
            lo[i] = std::size_t(pos);
            hi[i] = std::min(lo[i] + 1, coarse - 1);
            a[i] = float(pos - double(lo[i]));
            for (const std::size_t c : {lo[i], hi[i]}) first[c] = std::min(first[c], i), end[c] = i + 1;
        }
    }

    // The share of fine sample i that came from coarse sample c, in T's precision.
    template <class T> T share(std::size_t i, std::size_t c) const {
        const T w = a[i];
        return (lo[i] == c ? 1 - w : T(0)) + (hi[i] == c ? w : T(0));
    }
};

}  // namespace detail

/*  The levels of an image c x h x w, stored in one flat vector: level k's c x h_k x w_k block
    after level k-1's, level 0 first (so its block is laid out as the image is). */
template <class T> class pyramid_parametrization {
public:
    /*  requires: c, h, w >= 1.
        ensures:  at most `levels` coarser levels, fewer where halving would go below 2 px. */
    pyramid_parametrization(std::size_t c, std::size_t h, std::size_t w, std::size_t levels) : c_(c) {
        heights_.push_back(h), widths_.push_back(w), offsets_.push_back(0);
        std::size_t total = c * h * w;
        while (heights_.size() <= levels && heights_.back() >= 3 && widths_.back() >= 3) {
            const std::size_t hk = (heights_.back() + 1) / 2, wk = (widths_.back() + 1) / 2;
            rows_.emplace_back(hk, heights_.back());
            cols_.emplace_back(wk, widths_.back());
            heights_.push_back(hk), widths_.push_back(wk), offsets_.push_back(total);
            total += c * hk * wk;
        }
        size_ = total;
        fine_.resize(h * w), coarse_.resize(h * w), across_.resize(h * ((w + 1) / 2));
    }

    std::size_t levels() const { return heights_.size() - 1; }  // coarser than the image
    std::size_t size() const { return size_; }                  // variables in all levels

    // The levels of image x: z_0 = x, the coarser ones 0.
    tensor1<T> levels_of(const tensor3<T>& x) const {
        tensor1<T> z({size_}, T(0));
        std::copy(x.begin(), x.end(), z.begin());
        return z;
    }

    // x = sum_k w^k up^k(z_k), coarsest first: acc = up(acc) + w^k z_k, a level's rows shared
    // among the threads (each thread swaps its own copies of the two buffer pointers alike).
    void to_image(const tensor1<T>& z, tensor3<T>& x) {
        const std::size_t top = levels();
#pragma omp parallel num_threads(num_threads())
        for (std::size_t ch = 0; ch < c_; ++ch) {
            T *acc = coarse_.data(), *next = fine_.data();
            for (std::size_t k = top + 1; k-- > 0;) {
                const T* zk = z.data() + offsets_[k] + ch * area(k);
                const T wk = weight(k);
                T* out = k == 0 ? x.data() + ch * area(0) : next;
#pragma omp for schedule(static)
                for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(heights_[k]); ++i) {
                    const std::size_t row = std::size_t(i) * widths_[k];
                    if (k == top)
                        for (std::size_t j = 0; j < widths_[k]; ++j) out[row + j] = wk * zk[row + j];
                    else
                        up_row(k + 1, acc, std::size_t(i), zk + row, wk, out + row);
                }
                std::swap(acc, next);
            }
        }
    }

    // The adjoint of to_image: g_k = w^k (up^T)^k g_x, each level from the one finer: its rows
    // first spread back along x (per fine row), then gathered along y (per coarse row).
    void gradient_to_levels(const tensor3<T>& gx, tensor1<T>& gz) {
#pragma omp parallel num_threads(num_threads())
        for (std::size_t ch = 0; ch < c_; ++ch) {
            const T* fine = gx.data() + ch * area(0);
            T *out = coarse_.data(), *spare = fine_.data();
            T* g0 = gz.data() + ch * area(0);
#pragma omp for schedule(static)
            for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(area(0)); ++i) g0[i] = fine[i];
            for (std::size_t k = 1; k <= levels(); ++k) {
                const detail::bilinear_axis &r = rows_[k - 1], &c = cols_[k - 1];
                const std::size_t wc = widths_[k], wf = widths_[k - 1];
#pragma omp for schedule(static)
                for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(heights_[k - 1]); ++i) {
                    T* across = across_.data() + std::size_t(i) * wc;
                    std::fill_n(across, wc, T(0));
                    const T* g = fine + std::size_t(i) * wf;
                    for (std::size_t j = 0; j < wf; ++j) {
                        const T b = c.a[j];
                        across[c.lo[j]] += (1 - b) * g[j], across[c.hi[j]] += b * g[j];
                    }
                }
                T* gk = gz.data() + offsets_[k] + ch * area(k);
                const T wk = weight(k);
#pragma omp for schedule(static)
                for (std::ptrdiff_t ci = 0; ci < std::ptrdiff_t(heights_[k]); ++ci) {
                    T* row = out + std::size_t(ci) * wc;
                    std::fill_n(row, wc, T(0));
                    for (std::size_t i = r.first[std::size_t(ci)]; i < r.end[std::size_t(ci)]; ++i) {
                        const T share = r.share<T>(i, std::size_t(ci));
                        const T* across = across_.data() + i * wc;
                        for (std::size_t j = 0; j < wc; ++j) row[j] += share * across[j];
                    }
                    for (std::size_t j = 0; j < wc; ++j) gk[std::size_t(ci) * wc + j] = wk * row[j];
                }
                fine = out;
                std::swap(out, spare);
            }
        }
    }

private:
    std::size_t area(std::size_t k) const { return heights_[k] * widths_[k]; }
    static T weight(std::size_t k) { return T(std::ldexp(1.0, -int(k))); }  // w^k, w = 1/2

    // Row i of level k-1: out = up(level k in) + wk * z (both rows of level k-1's width).
    void up_row(std::size_t k, const T* in, std::size_t i, const T* z, T wk, T* out) const {
        const detail::bilinear_axis &r = rows_[k - 1], &c = cols_[k - 1];
        const std::size_t wc = widths_[k];
        const T *top = in + r.lo[i] * wc, *bottom = in + r.hi[i] * wc;
        const T a = r.a[i];
        for (std::size_t j = 0; j < widths_[k - 1]; ++j) {
            const T b = c.a[j];
            const T upper = top[c.lo[j]] + b * (top[c.hi[j]] - top[c.lo[j]]);
            const T lower = bottom[c.lo[j]] + b * (bottom[c.hi[j]] - bottom[c.lo[j]]);
            out[j] = upper + a * (lower - upper) + wk * z[j];
        }
    }

    std::size_t c_, size_ = 0;
    std::vector<std::size_t> heights_, widths_, offsets_;
    std::vector<detail::bilinear_axis> rows_, cols_;  // [k - 1]: level k -> k - 1
    std::vector<T> fine_, coarse_;                    // one channel of one level, reused
    std::vector<T> across_;                           // the adjoint's rows spread back along x
};

/*  f(x, g_x) seen through the levels: f_z(z, g_z) evaluates f at to_image(z) and returns its
    value, with g_z its gradient for the levels. */
template <class F, class T> class pyramid_objective {
public:
    pyramid_objective(F& f, pyramid_parametrization<T>& levels, const tensor3<T>& like)
        : f_(f), levels_(levels), image_(like), image_gradient_(like.shape(), T(0)) {}

    auto operator()(const tensor1<T>& z, tensor1<T>& gz) {
        levels_.to_image(z, image_);
        std::fill(image_gradient_.begin(), image_gradient_.end(), T(0));
        auto value = f_(static_cast<const tensor3<T>&>(image_), image_gradient_);
        levels_.gradient_to_levels(image_gradient_, gz);
        return value;
    }

private:
    F& f_;
    pyramid_parametrization<T>& levels_;
    tensor3<T> image_, image_gradient_;
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
