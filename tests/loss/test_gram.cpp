// Gram matrix (loss/gram.hpp): F F^T against plain loops and its backward against finite
// differences; the blocked, threaded version against plain products on odd shapes.
#include <catch2/catch.hpp>

#include "test_helpers.hpp"

using namespace nst;
using nst::test::gradient_error;
using nst::test::random_tensor;
using nst::test::tolerance;

TEST_CASE("gram matrix equals F F^T and its backward matches finite differences",
          "[loss][gram][gradient]") {
    std::mt19937 rng(6);
    const auto f = random_tensor<double, 3>({5, 4, 3}, rng);
    const tensor2<double> fm = xt::reshape_view(f, {5, 12});
    tensor2<double> expected = xt::zeros<double>({5, 5});
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            for (std::size_t k = 0; k < 12; ++k) expected(i, j) += fm(i, k) * fm(j, k) / 3.0;
    REQUIRE(xt::allclose(gram(f, 3.0), expected, 1e-12, 1e-12));

    const auto r = random_tensor<double, 2>({5, 5}, rng);  // not symmetric on purpose
    std::function<double(const tensor3<double>&)> loss = [&](const tensor3<double>& x) {
        return double(xt::sum(gram(x, 3.0) * r)());
    };
    REQUIRE(gradient_error(loss, f, gram_backward(f, r, 3.0), 0, rng) < tolerance);
    REQUIRE_THROWS_AS(gram(tensor3<double>()), shape_error);
}

// F F^T / scale and (dG + dG^T) F / scale as plain loops, accumulated in double.
template <class T> tensor2<double> reference_gram(const tensor3<T>& f, double scale) {
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    tensor2<double> g = xt::zeros<double>({c, c});
    for (std::size_t i = 0; i < c; ++i)
        for (std::size_t j = 0; j < c; ++j)
            for (std::size_t k = 0; k < m; ++k)
                g(i, j) += double(f.data()[i * m + k]) * double(f.data()[j * m + k]) / scale;
    return g;
}
template <class T>
tensor3<double> reference_gram_backward(const tensor3<T>& f, const tensor2<T>& dg, double scale) {
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    tensor3<double> df = xt::zeros<double>(f.shape());
    for (std::size_t i = 0; i < c; ++i)
        for (std::size_t j = 0; j < c; ++j)
            for (std::size_t k = 0; k < m; ++k)
                df.data()[i * m + k] +=
                    (double(dg(i, j)) + double(dg(j, i))) * double(f.data()[j * m + k]) / scale;
    return df;
}

TEMPLATE_TEST_CASE("blocked gram and gram_backward equal plain products on odd shapes",
                   "[loss][gram]", float, double) {
    using T = TestType;
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
    // Three threads split M unevenly (when M allows several shares).
    const nst::test::thread_count three(3);
    std::mt19937 rng(16);
    // {8, 50, 90}: each thread's share spans several chunks of the AVX-512 kernel, the last one
    // partial (gram_avx512.hpp).
    const std::array<std::array<std::size_t, 3>, 7> shapes{
        {{1, 1, 1}, {5, 1, 3}, {3, 1, 40}, {37, 11, 13}, {70, 3, 331}, {129, 17, 1}, {8, 50, 90}}};
    for (const auto& s : shapes) {
        CAPTURE(s[0], s[1], s[2]);
        const auto f = random_tensor<T, 3>(s, rng);
        const double scale = double(s[1] * s[2]);
        const tensor2<T> g = gram(f, T(scale));
        REQUIRE(xt::allclose(g, reference_gram(f, scale), tol, tol));
        REQUIRE(xt::all(xt::equal(g, xt::transpose(g))));

        const auto dg = random_tensor<T, 2>({s[0], s[0]}, rng);  // not symmetric on purpose
        const tensor3<double> expected = reference_gram_backward(f, dg, scale);
        REQUIRE(xt::allclose(gram_backward(f, dg, T(scale)), expected, tol, tol));
        tensor3<T> into = xt::full_like(f, T(7));  // right shape: overwritten in place
        const T* storage = into.data();
        gram_backward(f, dg, T(scale), into);
        REQUIRE(into.data() == storage);
        REQUIRE(xt::allclose(into, expected, tol, tol));
        tensor3<T> resized = xt::ones<T>({2, 2, 2});  // wrong shape: resized
        gram_backward(f, dg, T(scale), resized);
        REQUIRE(xt::allclose(resized, expected, tol, tol));

        // A symmetric dG: 2 dG F / scale without forming dG + dG^T.
        const tensor2<T> sym = dg + xt::transpose(dg);
        const tensor3<double> expected_sym = reference_gram_backward(f, tensor2<T>(sym / T(2)), scale);
        tensor3<T> sym_into = xt::full_like(f, T(7));
        symmetric_gram_backward(f, tensor2<T>(sym / T(2)), T(scale), sym_into);
        REQUIRE(xt::allclose(sym_into, expected_sym, tol, tol));
        REQUIRE_THROWS_AS(symmetric_gram_backward(f, tensor2<T>(xt::zeros<T>({s[0] + 1, s[0] + 1})),
                                                  T(scale), sym_into),
                          shape_error);

        // The adding forms: df += weight * the same, in the product's pass.
        const auto base = random_tensor<T, 3>(s, rng);
        const double weight = 0.75;
        tensor3<T> added = base;
        add_gram_backward(f, dg, T(scale), T(weight), added);
        REQUIRE(xt::allclose(added, xt::cast<double>(base) + weight * expected, tol, tol));
        tensor3<T> sym_added = base;
        add_symmetric_gram_backward(f, tensor2<T>(sym / T(2)), T(scale), T(weight), sym_added);
        REQUIRE(xt::allclose(sym_added, xt::cast<double>(base) + weight * expected_sym, tol, tol));
        tensor3<T> wrong = xt::zeros<T>({s[0], s[1] + 1, s[2]});  // never resized: refused
        REQUIRE_THROWS_AS(add_gram_backward(f, dg, T(scale), T(weight), wrong), shape_error);
        REQUIRE_THROWS_AS(add_symmetric_gram_backward(f, dg, T(scale), T(weight), wrong), shape_error);
    }
    REQUIRE_THROWS_AS(gram_backward(tensor3<T>(), tensor2<T>()), shape_error);
}
