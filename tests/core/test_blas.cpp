// The type-dispatched BLAS calls against plain loops, float and double, with transposes and
// leading dimensions larger than the rows.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/blas.hpp>

namespace {

template <class T> std::vector<T> numbered(int n, T scale) {
    std::vector<T> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[std::size_t(i)] = scale * T((i * 7) % 11 - 5);
    return v;
}

template <class T> void check_gemm(bool ta, bool tb) {
    const int m = 3, n = 4, k = 5, lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
    const auto a = numbered<T>((ta ? k : m) * lda, T(0.5)), b = numbered<T>((tb ? n : k) * ldb, T(0.25));
    std::vector<T> c = numbered<T>(m * ldc, T(1)), expected = c;
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            T sum = 0;
            for (int p = 0; p < k; ++p)
                sum += (ta ? a[std::size_t(p * lda + i)] : a[std::size_t(i * lda + p)]) *
                       (tb ? b[std::size_t(j * ldb + p)] : b[std::size_t(p * ldb + j)]);
            expected[std::size_t(i * ldc + j)] = T(2) * sum + T(0.5) * c[std::size_t(i * ldc + j)];
        }
    nst::blas::gemm(ta, tb, m, n, k, T(2), a.data(), lda, b.data(), ldb, T(0.5), c.data(), ldc);
    for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == Approx(expected[i]).margin(1e-5));
}

template <class T> void check_syrk() {
    const int n = 4, k = 6, lda = k + 1, ldc = n + 2;
    const auto a = numbered<T>(n * lda, T(0.5));
    std::vector<T> c = numbered<T>(n * ldc, T(1)), expected = c;
    for (int i = 0; i < n; ++i)
        for (int j = i; j < n; ++j) {  // the upper triangle only; the rest stays as it was
            T sum = 0;
            for (int p = 0; p < k; ++p) sum += a[std::size_t(i * lda + p)] * a[std::size_t(j * lda + p)];
            expected[std::size_t(i * ldc + j)] = T(3) * sum - c[std::size_t(i * ldc + j)];
        }
    nst::blas::syrk_upper(n, k, T(3), a.data(), lda, T(-1), c.data(), ldc);
    for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == Approx(expected[i]).margin(1e-5));
}

}  // namespace

TEST_CASE("blas::gemm computes alpha op(A) op(B) + beta C row-major", "[core][blas]") {
    for (const bool ta : {false, true})
        for (const bool tb : {false, true}) {
            check_gemm<float>(ta, tb);
            check_gemm<double>(ta, tb);
        }
}

TEST_CASE("blas::syrk_upper writes only the upper triangle of alpha A A^T + beta C", "[core][blas]") {
    check_syrk<float>();
    check_syrk<double>();
}
