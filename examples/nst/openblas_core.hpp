// OpenBLAS 0.3.21 does not know the newest CPUs and falls back to its generic kernels there, with
// no word of it: BLAS then runs 2-4x slower. nst and nst-batch say so once, before the work, with
// the setting that fixes it (a batch server would otherwise be slow for hours with no hint).
#pragma once

#include <cstdio>
#include <string>

#include <nst/nst.hpp>

namespace nst::cli {

// The warning for this process's OpenBLAS kernel set on this CPU, "" when there is nothing to
// say (a fast kernel set, no OpenBLAS loaded, or a CPU without AVX2). `who` starts the line
// ("nst", "nst-batch on node7").
inline std::string openblas_core_warning(const std::string& who) {
    const std::string core = nst::blas_core_name();
    if (core == "unknown") return "";
    if (core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids" || core == "Haswell" || core == "Zen")
        return "";
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return who + ": warning: OpenBLAS runs its generic '" + core +
               "' kernels on this AVX-512 CPU (2-4x slower BLAS); set OPENBLAS_CORETYPE=SkylakeX in the "
               "environment to fix it";
    if (__builtin_cpu_supports("avx2"))
        return who + ": warning: OpenBLAS runs its generic '" + core +
               "' kernels on this AVX2 CPU; set OPENBLAS_CORETYPE=Haswell in the environment to fix it";
    return "";
}

inline void warn_about_openblas_core(const std::string& who) {
    const std::string warning = openblas_core_warning(who);
    if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
}

}  // namespace nst::cli
