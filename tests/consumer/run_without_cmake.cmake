# cmake -DNST_SOURCE_DIR=... -DNST_BINARY_DIR=... -DWORK_DIR=... -P run_without_cmake.cmake
# Runs every `g++ ...` line of README.md's "Without CMake" section exactly as written (with NST
# set to the source folder, and pkg-config seeing nst installed from this build into a temporary
# prefix), then runs the program each line built. Also builds the nst::core consumer with
# `pkg-config nst-core`, whose flags must name neither HDF5 nor stb.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${NST_BINARY_DIR}" --prefix "${prefix}"
                OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installing nst into ${prefix} failed")
endif()
set(env ${CMAKE_COMMAND} -E env "NST=${NST_SOURCE_DIR}" "PKG_CONFIG_PATH=${prefix}/share/pkgconfig")

# Runs a shell line in WORK_DIR, then the program it wrote (-o NAME) with no arguments: it must
# start (shared libraries found) and print its usage with exit code 2.
function(compile_and_start line)
  message(STATUS "${line}")
  execute_process(COMMAND ${env} sh -c "${line}" WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${line}")
  endif()
  if(NOT line MATCHES " -o ([^ ]+)")
    message(FATAL_ERROR "no -o NAME in: ${line}")
  endif()
  execute_process(COMMAND "${WORK_DIR}/${CMAKE_MATCH_1}" RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "usage")
    message(FATAL_ERROR "${CMAKE_MATCH_1} (from: ${line}) exited with ${rc}: ${err}")
  endif()
endfunction()

file(STRINGS "${NST_SOURCE_DIR}/README.md" readme)
set(in_section FALSE)
set(lines "")
foreach(line IN LISTS readme)
  if(line MATCHES "^## ")
    string(TOLOWER "${line}" heading)
    set(in_section FALSE)
    if(heading STREQUAL "## without cmake")
      set(in_section TRUE)
    endif()
  elseif(in_section AND line MATCHES "^g\\+\\+ ")
    list(APPEND lines "${line}")
  endif()
endforeach()
list(LENGTH lines count)
if(count LESS 2)
  message(FATAL_ERROR "README.md's \"Without CMake\" section should show the g++ line and its "
                      "pkg-config form; found ${count} g++ line(s)")
endif()
# Compiled at -O0 instead of the lines' -O2: the test checks paths, flags and linking, which the
# optimisation level does not change, and -O2 builds of the whole library cost minutes in CI.
foreach(line IN LISTS lines)
  string(REPLACE " -O2 " " -O0 " line "${line}")
  compile_and_start("${line}")
endforeach()

execute_process(COMMAND ${env} pkg-config --cflags --libs nst-core OUTPUT_VARIABLE flags
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR flags MATCHES "hdf5|stb")
  message(FATAL_ERROR "pkg-config nst-core: ${flags} (exit ${rc})")
endif()
set(core_line "g++ -std=c++17 -O0 -march=native $(pkg-config --cflags nst-core) "
              "\"$NST/tests/consumer/core.cpp\" -o core $(pkg-config --libs nst-core)")
string(CONCAT core_line ${core_line})
message(STATUS "${core_line}")
execute_process(COMMAND ${env} sh -c "${core_line} && ./core" WORKING_DIRECTORY "${WORK_DIR}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the nst::core consumer failed to build or run with pkg-config nst-core")
endif()
