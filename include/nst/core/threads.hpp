// Thread control. nst parallelises with OpenMP and calls OpenBLAS, which (in its OpenMP build)
// follows OMP_NUM_THREADS too. scoped_threads sets both for one call and restores the caller's
// counts afterwards; set_num_threads changes both for the rest of the process.
#pragma once

#include <cstring>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif
#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#endif

#include "isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// OpenBLAS's own controls, looked up in the running process: null when the program has no
// OpenBLAS (another BLAS, or none linked because nothing calls it). Not declared as weak
// symbols: a weak declaration here would make the including program's own call to the same
// function weak too, and a linker that drops unneeded libraries (--as-needed) would then leave
// it a call to address 0. (<cblas.h> is not included: it clashes with xtensor-blas.)
template <class Function> Function* openblas_function([[maybe_unused]] const char* name) {
#if __has_include(<dlfcn.h>)
    Function* f = nullptr;
    const void* found = dlsym(RTLD_DEFAULT, name);
    std::memcpy(&f, &found, sizeof f);  // (a function from an object pointer: POSIX's dlsym idiom)
    return f;
#else
    return nullptr;
#endif
}
inline auto* const openblas_set_num_threads = openblas_function<void(int)>("openblas_set_num_threads");
inline auto* const openblas_get_num_threads = openblas_function<int()>("openblas_get_num_threads");
inline auto* const openblas_get_corename = openblas_function<char*()>("openblas_get_corename");

}  // namespace detail

// Threads nst uses for its own loops and for BLAS. Defaults to OMP_NUM_THREADS (or all cores).
inline int num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// OpenBLAS's thread count, or 0 when the BLAS is not OpenBLAS.
inline int blas_num_threads() {
    return detail::openblas_get_num_threads ? detail::openblas_get_num_threads() : 0;
}

// requires: n >= 1. ensures: num_threads() == n (when built with OpenMP).
inline void set_num_threads(int n) {
    if (n < 1) n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    if (detail::openblas_set_num_threads) detail::openblas_set_num_threads(n);
}

/*  Sets the thread count of OpenMP and OpenBLAS for the guard's lifetime:
        { nst::scoped_threads guard(2); ... }   // 2 threads here, the caller's count after
    requires: nothing. n <= 0 changes nothing.
    ensures:  while the guard lives, num_threads() == n (built with OpenMP) and OpenBLAS uses n
              threads; its destructor restores the values it found. OpenMP's count belongs to the
              calling thread, OpenBLAS's to the whole process: two guards alive at once in
              different threads set OpenBLAS's count in turn (the last one wins). */
class scoped_threads {
public:
    explicit scoped_threads(int n) : active_(n > 0), openmp_(num_threads()), blas_(blas_num_threads()) {
        if (active_) set_num_threads(n);
    }
    ~scoped_threads() {
        if (!active_) return;
        // OpenBLAS's OpenMP build sets OpenMP's count too: restore it first, OpenMP's last.
        if (detail::openblas_set_num_threads && blas_ > 0) detail::openblas_set_num_threads(blas_);
#ifdef _OPENMP
        omp_set_num_threads(openmp_);
#endif
    }
    scoped_threads(const scoped_threads&) = delete;
    scoped_threads& operator=(const scoped_threads&) = delete;

private:
    bool active_;
    int openmp_;  // the caller's counts
    int blas_;
};

// The CPU kernel set OpenBLAS chose at start-up ("Haswell", "SkylakeX", "Prescott", ...), or
// "unknown" when the BLAS is not OpenBLAS.
inline std::string blas_core_name() {
    if (detail::openblas_get_corename) {
        if (const char* name = detail::openblas_get_corename()) return name;
    }
    return "unknown";
}

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
