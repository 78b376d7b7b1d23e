# cmake -DMODE=find_package|add_subdirectory -DNST_SOURCE_DIR=... -DNST_BINARY_DIR=... -DWORK_DIR=...
#       -P run_consumer_test.cmake
# Installs nst into a temporary prefix (find_package mode) and builds tests/consumer against it.
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
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install "${NST_BINARY_DIR}" --prefix "${WORK_DIR}/prefix")
  run(${CMAKE_COMMAND} -S "${consumer_src}" -B "${WORK_DIR}/build"
      -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
elseif(MODE STREQUAL "add_subdirectory")
  run(${CMAKE_COMMAND} -S "${consumer_src}" -B "${WORK_DIR}/build"
      -DNST_SOURCE_DIR=${NST_SOURCE_DIR} -DCMAKE_BUILD_TYPE=Release)
else()
  message(FATAL_ERROR "MODE must be find_package or add_subdirectory")
endif()
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
