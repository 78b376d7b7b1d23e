// relu (layers/relu.hpp): backward against finite differences, and the compact state it saves
// for the backward pass (positive_mask, one bit per element) giving the same gradient bit for bit.
#include <limits>

#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::layer_gradient_error;
using nst::test::random_tensor;
using nst::test::tolerance;

namespace {

// Random values with exact zeros and tiny values of both signs mixed in: the mask must treat
// 0 as "not positive" and the smallest positive float as positive.
template <class T> tensor3<T> signed_values_with_zeros(const shape3& shape, std::mt19937& rng) {
    tensor3<T> t = random_tensor<T, 3>(shape, rng);
    T* p = t.data();
    for (std::size_t i = 0; i < t.size(); i += 7) p[i] = T(0);
    for (std::size_t i = 3; i < t.size(); i += 11) p[i] = std::numeric_limits<T>::denorm_min();
    for (std::size_t i = 5; i < t.size(); i += 13) p[i] = -std::numeric_limits<T>::denorm_min();
    return t;
}

}  // namespace

TEST_CASE("relu backward matches finite differences", "[layers][gradient]") {
    std::mt19937 rng(4);
    REQUIRE(layer_gradient_error(relu<double>(), random_tensor<double, 3>({3, 6, 7}, rng), rng) <
            tolerance);
}

TEST_CASE("positive_mask holds y > 0 for every element", "[layers][memory][relu]") {
    std::mt19937 rng(1);
    for (const shape3 shape :
         {shape3{1, 1, 1}, shape3{3, 5, 7}, shape3{2, 8, 8}, shape3{5, 9, 13}}) {
        const tensor3<float> y = signed_values_with_zeros<float>(shape, rng);
        positive_mask mask;
        mask.assign(y);
        REQUIRE(mask.shape() == shape);
        REQUIRE(mask.size() == y.size());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(mask.test(i) == (y.data()[i] > 0));
        // 1 bit per element (rounded up to 64-bit words), far below the float values.
        REQUIRE(mask.bytes() <= (y.size() + 63) / 64 * 8 + 64);
    }
    // Reassigning a smaller activation reuses the storage and forgets the old contents.
    positive_mask mask;
    mask.assign(tensor3<float>(xt::ones<float>({4, 16, 16})));
    const tensor3<float> small = -xt::ones<float>({1, 2, 3});
    mask.assign(small);
    REQUIRE(mask.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) REQUIRE_FALSE(mask.test(i));
}

TEST_CASE("relu backward from its mask equals backward from its output, bit for bit",
          "[layers][memory][relu]") {
    std::mt19937 rng(2);
    const relu<float> layer;
    for (const shape3 shape : {shape3{1, 1, 1}, shape3{3, 5, 7}, shape3{16, 64, 65}}) {
        const tensor3<float> x = signed_values_with_zeros<float>(shape, rng);
        tensor3<float> y;
        layer.forward(x, y);
        const tensor3<float> dy = random_tensor<float, 3>(shape, rng);
        const tensor3<float> from_output = layer.backward(x, y, tensor3<float>(dy), shape);
        positive_mask mask;
        layer.save_for_backward(y, mask);
        const tensor3<float> from_mask = layer.backward(mask, tensor3<float>(dy), shape);
        REQUIRE(from_mask.shape() == from_output.shape());
        for (std::size_t i = 0; i < dy.size(); ++i)
            REQUIRE(from_mask.data()[i] == from_output.data()[i]);
    }
    positive_mask mask;
    layer.save_for_backward(tensor3<float>(xt::ones<float>({2, 3, 4})), mask);
    tensor3<float> wrong = xt::ones<float>({2, 4, 3});
    REQUIRE_THROWS_AS(layer.backward(mask, std::move(wrong), shape3{2, 4, 3}), shape_error);
}

TEST_CASE("positive_mask recorded in pieces by several threads equals assign, ranges zero alike",
          "[layers][memory][relu]") {
    std::mt19937 rng(12);
    for (const shape3 shape : {shape3{1, 1, 1}, shape3{3, 5, 7}, shape3{4, 13, 21}}) {
        CAPTURE(shape[0], shape[1], shape[2]);
        const tensor3<float> y = signed_values_with_zeros<float>(shape, rng);
        positive_mask whole;
        whole.assign(y);
        // Pieces of 1 .. 130 elements, so words are shared by two pieces and some pieces lie
        // within one word; recorded in parallel, in no particular order.
        std::vector<std::pair<std::size_t, std::size_t>> pieces;
        for (std::size_t at = 0, k = 0; at < y.size(); ++k) {
            const std::size_t n = std::min<std::size_t>(y.size() - at, 1 + (k * 37) % 130);
            pieces.emplace_back(at, n);
            at += n;
        }
        positive_mask recorded;
        recorded.assign(tensor3<float>(xt::ones<float>({2, 40, 40})));  // old bits must go
        recorded.reset(shape);
#pragma omp parallel for schedule(dynamic, 1) num_threads(3)
        for (std::ptrdiff_t k = std::ptrdiff_t(pieces.size()) - 1; k >= 0; --k)
            recorded.record(y.data() + pieces[std::size_t(k)].first, pieces[std::size_t(k)].first,
                            pieces[std::size_t(k)].second);
        REQUIRE(recorded.shape() == shape);
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(recorded.test(i) == whole.test(i));

        const tensor3<float> g = random_tensor<float, 3>(shape, rng);
        tensor3<float> all = g, by_range = g;
        whole.zero_where_clear(all);
        for (const auto& [at, n] : pieces) whole.zero_where_clear(by_range.data() + at, at, n);
        for (std::size_t i = 0; i < g.size(); ++i) REQUIRE(by_range.data()[i] == all.data()[i]);
    }
}
