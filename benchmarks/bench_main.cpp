// main() of the benchmark binaries: Google Benchmark's, plus context lines saying which OpenBLAS
// kernels and how many threads ran (the numbers mean little without them).
#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>

#include <nst/core/threads.hpp>

int main(int argc, char** argv) {
    benchmark::AddCustomContext("nst_threads", std::to_string(nst::num_threads()));
    benchmark::AddCustomContext("openblas_core", nst::blas_core_name());
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    benchmark::AddCustomContext("OPENBLAS_CORETYPE", coretype ? coretype : "(unset)");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
