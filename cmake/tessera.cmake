# Helpers to declare tessera's libraries and tests with the same flags everywhere.

set(TESSERA_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter)

# tessera_library(NAME SRCS a.cc b.cc DEPS dep1 dep2)
# Declares static library tessera_<NAME> with the public include folder and the given dependencies.
function(tessera_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(tessera_${name} STATIC ${ARG_SRCS})
  target_include_directories(tessera_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(tessera_${name} PRIVATE ${TESSERA_WARNINGS})
  target_link_libraries(tessera_${name} PUBLIC ${ARG_DEPS})
  set_target_properties(tessera_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# tessera_test(NAME [SERIAL] SRCS a_test.cc DEPS lib1 lib2)
# Declares a GoogleTest executable NAME and registers its tests with ctest. Tests find the source data
# folder through the TESSERA_DATA_DIR environment variable. SERIAL: ctest runs them alone (tests that
# measure real time).
function(tessera_test name)
  if(NOT TESSERA_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "SERIAL" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${TESSERA_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} tessera_testing GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name}
    PROPERTIES ENVIRONMENT "TESSERA_DATA_DIR=${TESSERA_SOURCE_DATA_DIR}" RUN_SERIAL ${ARG_SERIAL}
    DISCOVERY_TIMEOUT 60)
endfunction()

include(GoogleTest)
