# Finds OpenBLAS, the BLAS nst's headers call (cblas_sgemm, cblas_ssyrk, openblas_set_num_threads).
# Linked by name so a program gets OpenBLAS even when another libblas is found first for
# xtensor-blas. Defines nstOpenBLAS_FOUND and the imported target nst::openblas.
find_library(nstOpenBLAS_LIBRARY NAMES openblas)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(nstOpenBLAS REQUIRED_VARS nstOpenBLAS_LIBRARY)
if(nstOpenBLAS_FOUND AND NOT TARGET nst::openblas)
  add_library(nst::openblas UNKNOWN IMPORTED)
  set_target_properties(nst::openblas PROPERTIES IMPORTED_LOCATION "${nstOpenBLAS_LIBRARY}")
endif()
mark_as_advanced(nstOpenBLAS_LIBRARY)
