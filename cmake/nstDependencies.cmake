# Finds what nst's headers need and collects the targets in NST_DEPENDENCY_TARGETS.
# Used by the build tree and, installed, by nstConfig.cmake, so both resolve dependencies alike.
include(CMakeFindDependencyMacro)

# OpenBLAS provides BLAS and LAPACK; without this FindBLAS may choose the reference BLAS.
if(NOT DEFINED BLA_VENDOR)
  set(BLA_VENDOR OpenBLAS)
endif()
find_dependency(xtensor)
find_dependency(xtensor-blas)
find_dependency(OpenMP)
find_dependency(nstHDF5)
find_dependency(stb)

set(NST_DEPENDENCY_TARGETS xtensor xtensor-blas OpenMP::OpenMP_CXX nst::hdf5 stb::stb)
