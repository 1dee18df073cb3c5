# A compile-failure test: compiles SOURCE with CXX -std=c++20 -fsyntax-only -I INCLUDE_DIR
#  * as is (FUGUE_MISWIRED undefined: the well-wired variant): must compile (exit 0);
#  * once per entry "<n>:<Concept>" of CASES (comma-separated) with -DFUGUE_MISWIRED=<n>: must
#    fail (non-zero exit) AND the compiler's message must name <Concept> as the unsatisfied
#    constraint (GCC: "required for the satisfaction of 'Concept<...>'", clang: "because
#    'Concept<...>' evaluated to false" / "does not satisfy 'Concept'"), not only quote it.
# So the test fails both when a constraint is missing (the miswired variant compiles) and when
# it is too strict or broken (the well-wired variant does not).
cmake_minimum_required(VERSION 3.25)
foreach(var CXX INCLUDE_DIR SOURCE CASES)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "expect_concept_error.cmake: -D${var}=... is required")
  endif()
endforeach()
set(flags -std=c++20 -fsyntax-only -I${INCLUDE_DIR})

execute_process(COMMAND ${CXX} ${flags} ${SOURCE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the well-wired variant of ${SOURCE} does not compile (exit ${rc}):\n${out}${err}")
endif()
message(STATUS "well-wired ${SOURCE}: compiles")

string(REPLACE "," ";" cases "${CASES}")
foreach(case IN LISTS cases)
  if(NOT case MATCHES "^([0-9]+):([A-Za-z_][A-Za-z0-9_]*)$")
    message(FATAL_ERROR "expect_concept_error.cmake: bad case '${case}' (want <n>:<Concept>)")
  endif()
  set(n ${CMAKE_MATCH_1})
  set(concept ${CMAKE_MATCH_2})
  execute_process(COMMAND ${CXX} ${flags} -DFUGUE_MISWIRED=${n} ${SOURCE}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "miswired variant ${n} of ${SOURCE} compiled; expected an error naming ${concept}")
  endif()
  if(NOT err MATCHES "(satisfaction of|because|does not satisfy)[^\n]*[^A-Za-z0-9_]${concept}[<'\"]")
    message(FATAL_ERROR "miswired variant ${n} of ${SOURCE} failed (exit ${rc}) but the compiler's message "
                        "does not name ${concept} as the unsatisfied constraint:\n${err}")
  endif()
  message(STATUS "miswired variant ${n} of ${SOURCE}: rejected, the message names ${concept}")
endforeach()
