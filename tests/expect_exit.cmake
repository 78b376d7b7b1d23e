# cmake -DPROGRAM=... [-DARGS="a b"] -DEXIT=<status> "-DEXPECTED=<regex>" -P expect_exit.cmake
# Passes when PROGRAM exits with status EXIT and writes one line to stderr, matching EXPECTED.
# A program killed by a signal (an uncaught exception's abort) has no exit status and fails.
# (PASS_REGULAR_EXPRESSION alone cannot tell these apart: CTest then ignores the exit code.)
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${PROGRAM}" ${args} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "\n" lines "${err}")
list(LENGTH lines count)
if(NOT "${result}" STREQUAL "${EXIT}" OR NOT count EQUAL 1 OR NOT err MATCHES "${EXPECTED}")
  message(FATAL_ERROR "expected exit ${EXIT} and one line on stderr matching '${EXPECTED}'; "
                      "got exit '${result}' and ${count} line(s):\n${err}")
endif()
message(STATUS "exit ${result}, as expected: ${err}")
