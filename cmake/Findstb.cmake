# Finds Debian's libstb-dev: headers in <prefix>/include/stb and the prebuilt implementations
# in libstb (so no translation unit has to define STB_IMAGE_IMPLEMENTATION).
# Defines stb_FOUND and the imported target stb::stb.
find_path(stb_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb)
find_library(stb_LIBRARY NAMES stb)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(stb REQUIRED_VARS stb_INCLUDE_DIR stb_LIBRARY)
if(stb_FOUND AND NOT TARGET stb::stb)
  add_library(stb::stb UNKNOWN IMPORTED)
  set_target_properties(stb::stb PROPERTIES
    IMPORTED_LOCATION "${stb_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${stb_INCLUDE_DIR}")
endif()
mark_as_advanced(stb_INCLUDE_DIR stb_LIBRARY)
