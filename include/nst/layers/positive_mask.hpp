// One bit per element of an activation: whether it is positive. The ReLU's compact saved state
// (relu.hpp): its backward needs only where its output was positive, 32x smaller than the floats.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "detail/simd_bits.hpp"
#include "layer_shape.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// One bit per element of an activation: whether it is positive (y > 0). Storage is reused when
// a mask of the same or a smaller size is assigned again.
class positive_mask {
public:
    static constexpr std::size_t bits = 64;

    // ensures: shape() == shape_of(y) and test(i) == (y.data()[i] > 0) for every element.
    template <class T> void assign(const tensor3<T>& y) {
        shape_ = shape_of(y);
        size_ = y.size();
        words_.resize((size_ + bits - 1) / bits);
        const T* v = y.data();
        const std::ptrdiff_t full = std::ptrdiff_t(size_ / bits);
#pragma omp parallel for schedule(static) if (size_ > (1 << 16))
        for (std::ptrdiff_t k = 0; k < full; ++k) {
            const T* p = v + std::size_t(k) * bits;
            if constexpr (std::is_same_v<T, float>) {
                words_[std::size_t(k)] = detail::positive_bits64(p);
            } else {
                std::uint64_t word = 0;
                for (std::size_t b = 0; b < bits; ++b) word |= std::uint64_t(p[b] > T(0)) << b;
                words_[std::size_t(k)] = word;
            }
        }
        if (size_ % bits) {
            std::uint64_t word = 0;
            for (std::size_t i = std::size_t(full) * bits; i < size_; ++i)
                word |= std::uint64_t(v[i] > T(0)) << (i % bits);
            words_[std::size_t(full)] = word;
        }
    }

    // requires: shape_of(g) == shape(). ensures: g[i] = 0 wherever the mask is 0.
    template <class T> void zero_where_clear(tensor3<T>& g) const {
        T* p = g.data();
        const std::ptrdiff_t words = std::ptrdiff_t(words_.size());
#pragma omp parallel for schedule(static) if (size_ > (1 << 16))
        for (std::ptrdiff_t k = 0; k < words; ++k) {
            const std::uint64_t word = words_[std::size_t(k)];
            T* q = p + std::size_t(k) * bits;
            const std::size_t n = std::min(bits, size_ - std::size_t(k) * bits);
            if constexpr (std::is_same_v<T, float>) {
                if (n == bits) {
                    detail::zero_where_clear64(q, word);
                    continue;
                }
            }
            for (std::size_t b = 0; b < n; ++b) q[b] = (word >> b) & 1u ? q[b] : T(0);
        }
    }

    // Recording piece by piece, for a layer that reads the activation anyway (the average
    // pooling after a ReLU, pool2x2.hpp) and sets the bits while the values are in the cache:
    // reset(shape) clears every bit, then record(p, begin, n) sets those of elements begin ..
    // begin + n - 1 from p[0 .. n-1]. Threads may record disjoint ranges at once: a word that
    // two ranges share is merged atomically. The result equals assign's once every element
    // has been recorded.
    void reset(const shape3& s) {
        shape_ = s;
        size_ = s[0] * s[1] * s[2];
        words_.assign((size_ + bits - 1) / bits, 0);
    }
    template <class T> void record(const T* p, std::size_t begin, std::size_t n) {
        std::size_t i = begin;
        const std::size_t end = begin + n;
        const auto merge_partial = [&](std::size_t stop) {
            std::uint64_t word = 0;
            const std::size_t k = i / bits;
            for (; i < stop; ++i) word |= std::uint64_t(p[i - begin] > T(0)) << (i % bits);
            std::uint64_t& target = words_[k];
#pragma omp atomic
            target |= word;
        };
        if (i % bits) merge_partial(std::min(end, (i / bits + 1) * bits));
        for (; i + bits <= end; i += bits) {  // whole words: only this range writes them
            if constexpr (std::is_same_v<T, float>) {
                words_[i / bits] = detail::positive_bits64(p + (i - begin));
            } else {
                std::uint64_t word = 0;
                for (std::size_t b = 0; b < bits; ++b) word |= std::uint64_t(p[i - begin + b] > T(0)) << b;
                words_[i / bits] = word;
            }
        }
        if (i < end) merge_partial(end);
    }

    // zero_where_clear for elements begin .. begin + n - 1 only, held at g[0 .. n-1].
    template <class T> void zero_where_clear(T* g, std::size_t begin, std::size_t n) const {
        std::size_t i = begin;
        const std::size_t end = begin + n;
        for (; i < end && i % bits; ++i)
            if (!test(i)) g[i - begin] = T(0);
        for (; i + bits <= end; i += bits) {
            const std::uint64_t word = words_[i / bits];
            T* q = g + (i - begin);
            if constexpr (std::is_same_v<T, float>) {
                detail::zero_where_clear64(q, word);
            } else {
                for (std::size_t b = 0; b < bits; ++b) q[b] = (word >> b) & 1u ? q[b] : T(0);
            }
        }
        for (; i < end; ++i)
            if (!test(i)) g[i - begin] = T(0);
    }

    bool test(std::size_t i) const { return (words_[i / bits] >> (i % bits)) & 1u; }
    const shape3& shape() const { return shape_; }
    std::size_t size() const { return size_; }
    // Bytes held (capacity of the bit storage).
    std::size_t bytes() const { return words_.capacity() * sizeof(std::uint64_t); }

private:
    std::vector<std::uint64_t> words_;
    std::size_t size_ = 0;
    shape3 shape_{};
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
