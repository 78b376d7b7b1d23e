# Installs the headers, the targets nst::core and nst::nst, a relocatable nstConfig.cmake +
# version file, and pkg-config files nst.pc (everything) and nst-core.pc (no HDF5, no stb).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NST_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/nst")
install(DIRECTORY include/nst DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
# One export file per component, so find_package(nst COMPONENTS core) defines nst::core only.
install(TARGETS nst_core EXPORT nstCoreTargets)
install(EXPORT nstCoreTargets NAMESPACE nst:: FILE nst-core-targets.cmake DESTINATION "${NST_CMAKE_DIR}")
if(TARGET nst)
  install(TARGETS nst EXPORT nstTargets)
  install(EXPORT nstTargets NAMESPACE nst:: FILE nst-nst-targets.cmake DESTINATION "${NST_CMAKE_DIR}")
endif()
configure_package_config_file(cmake/nstConfig.cmake.in
  "${PROJECT_BINARY_DIR}/nstConfig.cmake" INSTALL_DESTINATION "${NST_CMAKE_DIR}")
# Header-only: any architecture may use it.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/nstConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/nstConfig.cmake" "${PROJECT_BINARY_DIR}/nstConfigVersion.cmake"
  cmake/nstDependencies.cmake cmake/Findstb.cmake cmake/FindnstHDF5.cmake cmake/FindnstOpenBLAS.cmake
  cmake/fetch_weights.cmake  # the weights download the library's "weights not found" message names
  DESTINATION "${NST_CMAKE_DIR}")

# pkg-config: the flags of the dependencies found here (-I/-L only where the compiler does not
# look anyway), with nst's own include folder relative to the installed .pc file.
function(nst_pc_include_flags out)
  set(flags "")
  foreach(dir IN LISTS ARGN)
    if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
      string(APPEND flags " -I${dir}")
    endif()
  endforeach()
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()
function(nst_pc_library_flags out)
  set(flags "")
  foreach(library IN LISTS ARGN)
    get_filename_component(dir "${library}" DIRECTORY)
    get_filename_component(name "${library}" NAME_WE)
    string(REGEX REPLACE "^lib" "" name "${name}")
    if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
      string(APPEND flags " -L${dir}")
    endif()
    string(APPEND flags " -l${name}")
  endforeach()
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()
function(nst_write_pc name description include_dirs libraries)
  set(NST_PC_NAME ${name})
  set(NST_PC_DESCRIPTION "${description}")
  nst_pc_include_flags(includes ${include_dirs})
  nst_pc_library_flags(links ${libraries})
  string(STRIP "${includes} ${OpenMP_CXX_FLAGS}" NST_PC_CFLAGS)
  string(STRIP "${links} ${OpenMP_CXX_FLAGS}" NST_PC_LIBS)
  set(pc_dir "${CMAKE_INSTALL_DATADIR}/pkgconfig")
  file(RELATIVE_PATH NST_PC_PREFIX "/prefix/${pc_dir}" "/prefix")
  string(REGEX REPLACE "/$" "" NST_PC_PREFIX "${NST_PC_PREFIX}")
  configure_file(cmake/nst.pc.in "${PROJECT_BINARY_DIR}/${name}.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/${name}.pc" DESTINATION "${pc_dir}")
endfunction()
get_target_property(_nst_xtensor_includes xtensor INTERFACE_INCLUDE_DIRECTORIES)
nst_write_pc(nst-core "Neural style transfer on the CPU, header-only: layers, models, losses, optimizers"
  "${_nst_xtensor_includes}" "${nstOpenBLAS_LIBRARY}")
if(TARGET nst)
  nst_write_pc(nst "Neural style transfer on the CPU, header-only: everything (images through stb, Keras weights through HDF5)"
    "${_nst_xtensor_includes};${nstHDF5_INCLUDE_DIR};${stb_INCLUDE_DIR}"
    "${nstHDF5_LIBRARY};${nstOpenBLAS_LIBRARY};${stb_LIBRARY}")
endif()
