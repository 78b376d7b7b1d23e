// The one place nst includes xtensor and xtensor-blas. Their header paths moved in
// xtensor 0.26 (subfolders, C++20); keeping every include here makes that a one-file change.
#pragma once

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

// Declares cblas_* (xtensor-blas carries its own cblas prototypes, so <cblas.h> must not be
// included in the same translation unit).
#include <xtensor-blas/xblas.hpp>
