# Finds the HDF5 C library for nst's Keras weight loader. CMake's FindHDF5 needs the C language
# enabled in the calling project; a header-only C++ library cannot ask that of its consumers,
# so this looks for the header and library directly (Debian's serial build first).
# Defines nstHDF5_FOUND and the imported target nst::hdf5.
find_path(nstHDF5_INCLUDE_DIR hdf5.h PATH_SUFFIXES hdf5/serial hdf5)
find_library(nstHDF5_LIBRARY NAMES hdf5_serial hdf5 PATH_SUFFIXES hdf5/serial)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(nstHDF5 REQUIRED_VARS nstHDF5_INCLUDE_DIR nstHDF5_LIBRARY)
if(nstHDF5_FOUND AND NOT TARGET nst::hdf5)
  add_library(nst::hdf5 UNKNOWN IMPORTED)
  set_target_properties(nst::hdf5 PROPERTIES
    IMPORTED_LOCATION "${nstHDF5_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${nstHDF5_INCLUDE_DIR}")
endif()
mark_as_advanced(nstHDF5_INCLUDE_DIR nstHDF5_LIBRARY)
