// Element-wise passes: the same values as a plain loop, on the parallel path (large) and the
// serial one (small, or inside a parallel region), and a clear error for mismatched sizes.
#include <cstddef>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/elementwise.hpp>
#include <nst/core/tensor.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

std::vector<float> ramp(std::size_t n, float start, float step) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = start + step * float(i % 1000);
    return v;
}

}  // namespace

TEST_CASE("element-wise passes equal a plain loop on both sides of the parallel threshold", "[core][elementwise]") {
    for (const std::size_t n : {std::size_t(7), std::size_t(1) << 16}) {
        const std::vector<float> src = ramp(n, -3.0f, 0.25f);
        std::vector<float> dst = ramp(n, 1.0f, -0.5f), expected = dst;

        nst::add_scaled(dst, 0.5f, src);
        for (std::size_t i = 0; i < n; ++i) expected[i] += 0.5f * src[i];
        REQUIRE(dst == expected);

        nst::add_to(dst, src);
        for (std::size_t i = 0; i < n; ++i) expected[i] += src[i];
        REQUIRE(dst == expected);

        nst::scale_by(dst, -2.0f);
        for (auto& e : expected) e *= -2.0f;
        REQUIRE(dst == expected);

        nst::fill_with(dst, 4.5f);
        REQUIRE(dst == std::vector<float>(n, 4.5f));
    }
}

TEST_CASE("assign_copy takes the source's shape and values", "[core][elementwise]") {
    nst::tensor3<float> src = nst::tensor3<float>::from_shape({2, 3, 4});
    for (std::size_t i = 0; i < src.size(); ++i) src.data()[i] = float(i) * 1.5f;
    nst::tensor3<float> dst = nst::tensor3<float>::from_shape({1, 1, 1});
    nst::assign_copy(dst, src);
    REQUIRE(dst.shape(0) == 2);
    REQUIRE(dst.shape(1) == 3);
    REQUIRE(dst.shape(2) == 4);
    for (std::size_t i = 0; i < src.size(); ++i) REQUIRE(dst.data()[i] == src.data()[i]);
}

TEST_CASE("element-wise passes reject tensors of different sizes, naming the operation", "[core][elementwise]") {
    std::vector<float> a(4), b(5);
    REQUIRE_THROWS_WITH(nst::add_to(a, b), Catch::Contains("add_to") && Catch::Contains("4 vs 5"));
    REQUIRE_THROWS_AS(nst::add_scaled(a, 1.0f, b), nst::shape_error);
}

TEST_CASE("element-wise passes inside a parallel region run on the calling thread", "[core][elementwise]") {
    const std::size_t n = std::size_t(1) << 16;
    std::vector<std::vector<float>> per_thread(4, std::vector<float>(n, 1.0f));
#pragma omp parallel for num_threads(2)
    for (int t = 0; t < 4; ++t) nst::scale_by(per_thread[std::size_t(t)], float(t + 1));
    for (std::size_t t = 0; t < 4; ++t) REQUIRE(per_thread[t] == std::vector<float>(n, float(t + 1)));
}
