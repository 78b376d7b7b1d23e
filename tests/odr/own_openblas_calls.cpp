// A program that includes nst and calls OpenBLAS itself, linked the way a consumer's is (only
// this unit, nst::core, the toolchain's default --as-needed): its own calls must reach OpenBLAS.
// nst once declared OpenBLAS's thread controls weak, which made this unit's references weak too;
// with nothing else referring to OpenBLAS the linker dropped it and the first call jumped to
// address 0. nst must also find the same OpenBLAS and see the count the program set.
#include <cstdio>

#include <nst/core/threads.hpp>

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);

int main() {
    openblas_set_num_threads(1);
    const int own = openblas_get_num_threads(), seen = nst::blas_num_threads();
    int inside = 0;
    {
        const nst::scoped_threads guard(2);
        inside = openblas_get_num_threads();
    }
    const int after = openblas_get_num_threads();
    std::printf("OpenBLAS threads: set 1, read %d, nst read %d; 2 inside nst's guard: %d; after it: %d\n", own, seen,
                inside, after);
    return own == 1 && seen == 1 && inside == 2 && after == 1 ? 0 : 1;
}
