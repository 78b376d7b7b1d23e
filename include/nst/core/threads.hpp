// Thread control. nst parallelises with OpenMP and calls OpenBLAS, which (in its OpenMP build)
// follows OMP_NUM_THREADS too; set_num_threads changes both for the rest of the process.
#pragma once

#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

// OpenBLAS's own controls. Declared here because <cblas.h> clashes with xtensor-blas; they are
// weak so that a program linked against another BLAS still links (the calls are then skipped).
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
char* openblas_get_corename(void) __attribute__((weak));
}

namespace nst {

// Threads nst uses for its own loops and for BLAS. Defaults to OMP_NUM_THREADS (or all cores).
inline int num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// requires: n >= 1. ensures: num_threads() == n (when built with OpenMP).
inline void set_num_threads(int n) {
    if (n < 1) n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    if (openblas_set_num_threads) openblas_set_num_threads(n);
}

// The CPU kernel set OpenBLAS chose at start-up ("Haswell", "SkylakeX", "Prescott", ...), or
// "unknown" when the BLAS is not OpenBLAS.
inline std::string blas_core_name() {
    if (openblas_get_corename) {
        if (const char* name = openblas_get_corename()) return name;
    }
    return "unknown";
}

}  // namespace nst
