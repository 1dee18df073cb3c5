# Fails when a CUDA translation unit of this project includes xtensor or xtl, directly or
# through fugue's headers: nvcc lists every header the TU pulls in (-M) and none may be
# under an xtensor/ or xtl/ directory.
# Usage: cmake -DNVCC=... -DSOURCE_DIR=... -DINCLUDES="a;b" -P no_xtensor_scan.cmake
file(GLOB_RECURSE cu_sources ${SOURCE_DIR}/tests/*.cu ${SOURCE_DIR}/examples/*.cu ${SOURCE_DIR}/benchmarks/*.cu)
set(include_flags)
foreach(dir ${INCLUDES})
  list(APPEND include_flags -I${dir})
endforeach()
list(LENGTH cu_sources n)
if(n EQUAL 0)
  message(FATAL_ERROR "no .cu sources found under ${SOURCE_DIR}")
endif()
foreach(src ${cu_sources})
  execute_process(COMMAND ${NVCC} -std=c++20 -M ${include_flags} ${src}
                  OUTPUT_VARIABLE deps ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nvcc -M failed for ${src}: ${err}")
  endif()
  if(deps MATCHES "/(xtensor|xtl)/[^ ]*")
    message(FATAL_ERROR "${src} includes ${CMAKE_MATCH_0}: CUDA translation units must not include xtensor or xtl")
  endif()
  string(REGEX MATCHALL "fugue/[^ ]*\\.hpp" fugue_headers "${deps}")
  list(LENGTH fugue_headers nh)
  message(STATUS "${src}: ${nh} fugue headers, no xtensor / xtl")
endforeach()
message(STATUS "checked ${n} CUDA translation units")
