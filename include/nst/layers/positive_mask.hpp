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
        const std::ptrdiff_t words = std::ptrdiff_t(words_.size());
#pragma omp parallel for schedule(static) if (size_ > (1 << 16))
        for (std::ptrdiff_t k = 0; k < words; ++k) {
            const std::size_t at = std::size_t(k) * bits;
            words_[std::size_t(k)] = positive_bits(v + at, std::min(bits, size_ - at));
        }
    }

    // requires: shape_of(g) == shape(). ensures: g[i] = 0 wherever the mask is 0.
    template <class T> void zero_where_clear(tensor3<T>& g) const {
        T* p = g.data();
        const std::ptrdiff_t words = std::ptrdiff_t(words_.size());
#pragma omp parallel for schedule(static) if (size_ > (1 << 16))
        for (std::ptrdiff_t k = 0; k < words; ++k) {
            const std::size_t at = std::size_t(k) * bits;
            zero_clear_bits(p + at, words_[std::size_t(k)], std::min(bits, size_ - at));
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
        for (std::size_t i = begin, end = begin + n; i < end;) {
            const std::size_t k = i / bits, offset = i % bits, count = std::min(end - i, bits - offset);
            const std::uint64_t word = positive_bits(p + (i - begin), count) << offset;
            if (count == bits) {
                words_[k] = word;  // a whole word: only this range writes it
            } else {
                std::uint64_t& target = words_[k];
#pragma omp atomic
                target |= word;
            }
            i += count;
        }
    }

    // zero_where_clear for elements begin .. begin + n - 1 only, held at g[0 .. n-1].
    template <class T> void zero_where_clear(T* g, std::size_t begin, std::size_t n) const {
        for (std::size_t i = begin, end = begin + n; i < end;) {
            const std::size_t k = i / bits, offset = i % bits, count = std::min(end - i, bits - offset);
            zero_clear_bits(g + (i - begin), words_[k] >> offset, count);
            i += count;
        }
    }

    bool test(std::size_t i) const { return (words_[i / bits] >> (i % bits)) & 1u; }
    const shape3& shape() const { return shape_; }
    std::size_t size() const { return size_; }
    // Bytes held (capacity of the bit storage).
    std::size_t bytes() const { return words_.capacity() * sizeof(std::uint64_t); }

private:
    // Bit b of the result, b < n <= 64: p[b] > 0.
    template <class T> static std::uint64_t positive_bits(const T* p, std::size_t n) {
        if constexpr (std::is_same_v<T, float>)
            if (n == bits) return detail::positive_bits64(p);
        std::uint64_t word = 0;
        for (std::size_t b = 0; b < n; ++b) word |= std::uint64_t(p[b] > T(0)) << b;
        return word;
    }
    // q[b] = 0 where bit b of word is clear, b < n <= 64.
    template <class T> static void zero_clear_bits(T* q, std::uint64_t word, std::size_t n) {
        if constexpr (std::is_same_v<T, float>)
            if (n == bits) return detail::zero_where_clear64(q, word);
        for (std::size_t b = 0; b < n; ++b) q[b] = (word >> b) & 1u ? q[b] : T(0);
    }

    std::vector<std::uint64_t> words_;
    std::size_t size_ = 0;
    shape3 shape_{};
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
