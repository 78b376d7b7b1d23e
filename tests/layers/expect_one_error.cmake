# Builds TARGET in BUILD_DIR and passes when the build fails with exactly one compiler error
# that contains EXPECTED (a broken layer must give one readable message, not pages of them).
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but its layer breaks the layer contract")
endif()
string(REGEX MATCHALL "error:" errors "${output}")
list(LENGTH errors count)
string(FIND "${output}" "${EXPECTED}" found)
if(NOT count EQUAL 1 OR found EQUAL -1)
  message(FATAL_ERROR "expected one error containing '${EXPECTED}', got ${count}:\n${output}")
endif()
message(STATUS "one error, as expected:\n${output}")
