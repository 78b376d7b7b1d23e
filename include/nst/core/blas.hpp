// Thin, type-dispatched BLAS calls (row-major) so layer templates work for float and double.
//
// Threads: called inside an active OpenMP parallel region, the OpenMP build of OpenBLAS (the one
// nst depends on) runs the call on the calling thread alone -- it checks omp_in_parallel() -- so
// nst distributes BLAS calls over its own team without touching OpenBLAS's thread setting.
// Called outside, OpenBLAS uses omp_get_max_threads() threads of its own.
#pragma once

#include "isa_namespace.hpp"
#include "xtensor.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace blas {

// C(m x n) = alpha * op(A) * op(B) + beta * C, row-major with leading dimensions.
inline void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                 int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a,
                 int lda, const double* b, int ldb, double beta, double* c, int ldc) {
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Upper triangle of C(n x n) = alpha * A * A^T + beta * C, A is n x k row-major.
inline void syrk_upper(int n, int k, float alpha, const float* a, int lda, float beta, float* c,
                       int ldc) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, alpha, a, lda, beta, c, ldc);
}
inline void syrk_upper(int n, int k, double alpha, const double* a, int lda, double beta,
                       double* c, int ldc) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, alpha, a, lda, beta, c, ldc);
}

}  // namespace blas
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
