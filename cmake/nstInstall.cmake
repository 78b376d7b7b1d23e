# Installs the headers, the nst::nst target and a relocatable nstConfig.cmake + version file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NST_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/nst")
install(DIRECTORY include/nst DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS nst EXPORT nstTargets)
install(EXPORT nstTargets NAMESPACE nst:: DESTINATION "${NST_CMAKE_DIR}")
configure_package_config_file(cmake/nstConfig.cmake.in
  "${PROJECT_BINARY_DIR}/nstConfig.cmake" INSTALL_DESTINATION "${NST_CMAKE_DIR}")
# Header-only: any architecture may use it.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/nstConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/nstConfig.cmake" "${PROJECT_BINARY_DIR}/nstConfigVersion.cmake"
  cmake/nstDependencies.cmake cmake/Findstb.cmake cmake/FindnstHDF5.cmake DESTINATION "${NST_CMAKE_DIR}")
