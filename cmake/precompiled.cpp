// Empty on purpose: the unit that owns the precompiled nst.hpp of the project's own programs
// (CMakeLists.txt: nst_precompiled). CMake compiles the header before this file.
