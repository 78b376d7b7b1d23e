# cmake -DMODE=<mode> -DNST_SOURCE_DIR=... -DNST_BINARY_DIR=... -DWORK_DIR=... -P run_consumer_test.cmake
# Builds and runs tests/consumer. Modes:
#   find_package        against nst installed (from this build) into a temporary prefix, nst::nst
#   find_package_core   the same with find_package(nst COMPONENTS core) and nst::core only
#   add_subdirectory    nst as a subproject, nst::nst
#   add_subdirectory_core  nst as a subproject, nst::core only
# The *_core modes hide HDF5 and stb from CMake (CMAKE_DISABLE_FIND_PACKAGE_*) and check that
# the program's link line and the libraries it loads name neither.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " line "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${line}")
  endif()
endfunction()

set(consumer_src "${NST_SOURCE_DIR}/tests/consumer")
set(options -DCMAKE_BUILD_TYPE=Release)
if(MODE MATCHES "_core$")
  list(APPEND options -DNST_CORE_ONLY=ON
       -DCMAKE_DISABLE_FIND_PACKAGE_nstHDF5=ON -DCMAKE_DISABLE_FIND_PACKAGE_stb=ON)
endif()
if(MODE MATCHES "^find_package")
  run(${CMAKE_COMMAND} --install "${NST_BINARY_DIR}" --prefix "${WORK_DIR}/prefix")
  list(APPEND options -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
  # The weights download that the "weights not found" message names lies beside nstConfig.cmake.
  file(GLOB_RECURSE config "${WORK_DIR}/prefix/*/nstConfig.cmake")
  get_filename_component(config_dir "${config}" DIRECTORY)
  if(NOT config OR NOT EXISTS "${config_dir}/fetch_weights.cmake")
    message(FATAL_ERROR "no fetch_weights.cmake beside the installed nstConfig.cmake ('${config}')")
  endif()
elseif(MODE MATCHES "^add_subdirectory")
  list(APPEND options -DNST_SOURCE_DIR=${NST_SOURCE_DIR})
else()
  message(FATAL_ERROR "unknown MODE ${MODE}")
endif()
run(${CMAKE_COMMAND} -S "${consumer_src}" -B "${WORK_DIR}/build" ${options})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")

# The pipelines compiled once: the unit built with NST_EXTERN_STYLIZE_NET defines none of them
# (its compile time is the point; a duplicate would still link), the instances' unit all four.
if(EXISTS "${WORK_DIR}/build/consumer_stylize")
  run("${WORK_DIR}/build/consumer_stylize")
  set(objects "${WORK_DIR}/build/CMakeFiles/consumer_stylize.dir")  # (Makefile generators)
  foreach(unit stylize stylize_instances)
    execute_process(COMMAND nm -C --defined-only "${objects}/${unit}.cpp.o" OUTPUT_VARIABLE symbols
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "nm could not read ${objects}/${unit}.cpp.o")
    endif()
    string(REGEX MATCHALL "detail::stylize_net<" found "${symbols}")
    list(LENGTH found count)
    set(${unit}_pipelines ${count})
  endforeach()
  if(NOT stylize_pipelines EQUAL 0 OR NOT stylize_instances_pipelines EQUAL 4)
    message(FATAL_ERROR "stylize.cpp (NST_EXTERN_STYLIZE_NET) defines ${stylize_pipelines} of the "
                        "four pipelines (expected none), stylize_instances.cpp ${stylize_instances_pipelines} "
                        "(expected 4)")
  endif()
  message(STATUS "consumer_stylize: its pipelines come from stylize_instances.cpp alone")
endif()

if(MODE MATCHES "_core$")
  set(link_line "${WORK_DIR}/build/CMakeFiles/consumer.dir/link.txt")  # (Makefile generators)
  if(EXISTS "${link_line}")
    file(READ "${link_line}" text)
    if(text MATCHES "hdf5|stb" OR NOT text MATCHES "openblas")
      message(FATAL_ERROR "nst::core's link line names HDF5 or stb, or lacks OpenBLAS: ${text}")
    endif()
  endif()
  execute_process(COMMAND readelf -d "${WORK_DIR}/build/consumer" OUTPUT_VARIABLE needed
                  RESULT_VARIABLE rc)
  if(rc EQUAL 0 AND needed MATCHES "hdf5|stb")
    message(FATAL_ERROR "the nst::core consumer loads HDF5 or stb:\n${needed}")
  endif()
  message(STATUS "nst::core consumer: no HDF5 or stb on its include path, link line or libraries")
endif()
