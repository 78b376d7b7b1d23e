# cmake -DPROGRAM=... [-DARGS="a 'b c'"] -DEXIT=<status> "-DEXPECTED=<regex>" [-DSTDOUT=ON] -P expect_exit.cmake
# Passes when PROGRAM exits with status EXIT and writes one line to stderr, matching EXPECTED
# (with STDOUT: writes nothing to stderr and its stdout matches EXPECTED).
# A program killed by a signal (an uncaught exception's abort) has no exit status and fails.
# (PASS_REGULAR_EXPRESSION alone cannot tell these apart: CTest then ignores the exit code.)
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${PROGRAM}" ${args} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(STDOUT)
  if(NOT "${result}" STREQUAL "${EXIT}" OR NOT err STREQUAL "" OR NOT out MATCHES "${EXPECTED}")
    message(FATAL_ERROR "expected exit ${EXIT}, nothing on stderr and stdout matching '${EXPECTED}'; "
                        "got exit '${result}', stdout:\n${out}\nstderr:\n${err}")
  endif()
  message(STATUS "exit ${result}, as expected:\n${out}")
  return()
endif()
string(REGEX MATCHALL "\n" lines "${err}")
list(LENGTH lines count)
if(NOT "${result}" STREQUAL "${EXIT}" OR NOT count EQUAL 1 OR NOT err MATCHES "${EXPECTED}")
  message(FATAL_ERROR "expected exit ${EXIT} and one line on stderr matching '${EXPECTED}'; "
                      "got exit '${result}' and ${count} line(s):\n${err}")
endif()
message(STATUS "exit ${result}, as expected: ${err}")
