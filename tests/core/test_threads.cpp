// core/threads.hpp: scoped_threads sets OpenMP's and OpenBLAS's thread counts for its lifetime.
#include <catch2/catch.hpp>

#include <nst/core/threads.hpp>

TEST_CASE("scoped_threads sets OpenMP's and OpenBLAS's thread counts and restores the caller's",
          "[stylize][threads]") {
    const int openmp = nst::num_threads(), blas = nst::blas_num_threads();
    {
        const nst::scoped_threads guard(openmp + 1);
        REQUIRE(nst::num_threads() == openmp + 1);
        if (blas > 0) REQUIRE(nst::blas_num_threads() == openmp + 1);
        {
            const nst::scoped_threads inner(1);
            REQUIRE(nst::num_threads() == 1);
            if (blas > 0) REQUIRE(nst::blas_num_threads() == 1);
        }
        REQUIRE(nst::num_threads() == openmp + 1);
        if (blas > 0) REQUIRE(nst::blas_num_threads() == openmp + 1);
        const nst::scoped_threads unchanged(0);
        REQUIRE(nst::num_threads() == openmp + 1);
    }
    REQUIRE(nst::num_threads() == openmp);
    REQUIRE(nst::blas_num_threads() == blas);
}
