# nst_find_dependencies(<component>...) finds what nst's headers need for each component and
# defines the imported targets the nst targets link:
#   core  xtensor, xtensor-blas, OpenBLAS (nst::openblas), OpenMP
#   nst   core's, plus HDF5 (nst::hdf5, Keras weights) and stb (stb::stb, images)
# It sets nst_<component>_FOUND and, when something is missing, nst_NOT_FOUND_MESSAGE in the
# caller's scope, nothing else: the search runs in the function's own scope, so what it sets
# (BLA_VENDOR, the dependencies' result variables) never reaches the caller.
# Used by the build tree and, installed, by nstConfig.cmake, so both resolve dependencies alike.
function(nst_find_dependencies)
  # xtensor-blas calls FindBLAS: ask it for OpenBLAS unless the project chose a vendor itself.
  if(NOT DEFINED BLA_VENDOR)
    set(BLA_VENDOR OpenBLAS)
  endif()
  set(quiet "")
  if(nst_FIND_QUIETLY)
    set(quiet QUIET)
  endif()
  # What each component needs beyond the previous one; nst needs core's too.
  set(needs_core xtensor xtensor-blas nstOpenBLAS OpenMP)
  set(needs_nst nstHDF5 stb)
  set(missing "")
  foreach(component core nst)
    foreach(dependency IN LISTS needs_${component})
      find_package(${dependency} ${quiet})
      if(NOT ${dependency}_FOUND)
        list(APPEND missing ${dependency})
      endif()
    endforeach()
    if(missing)
      set(nst_${component}_FOUND FALSE PARENT_SCOPE)
      set(nst_NOT_FOUND_MESSAGE "nst::${component} needs ${missing}, not found" PARENT_SCOPE)
    else()
      set(nst_${component}_FOUND TRUE PARENT_SCOPE)
    endif()
    if(NOT "nst" IN_LIST ARGN)
      break()
    endif()
  endforeach()
  foreach(component IN LISTS ARGN)
    if(NOT component MATCHES "^(core|nst)$")
      set(nst_${component}_FOUND FALSE PARENT_SCOPE)
      set(nst_NOT_FOUND_MESSAGE "nst has no component ${component} (only core and nst)" PARENT_SCOPE)
    endif()
  endforeach()
endfunction()

