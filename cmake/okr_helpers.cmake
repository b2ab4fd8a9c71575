# Small helpers in the spirit of Abseil's CMake helpers: one target per layer, the
# link list states exactly which layers a layer may use, so a wrong include fails to link
# (and, because include paths are only the repository root, is visible in review).

# okr_cc_library(NAME <name> [SRCS ...] [HDRS ...] [DEPS ...])
# Creates target okr_<name>. A library with no SRCS becomes an INTERFACE library.
function(okr_cc_library)
  cmake_parse_arguments(OKR "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  set(_target okr_${OKR_NAME})
  if(OKR_SRCS)
    add_library(${_target} STATIC ${OKR_SRCS} ${OKR_HDRS})
    target_include_directories(${_target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    target_link_libraries(${_target} PUBLIC ${OKR_DEPS})
    target_compile_options(${_target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  else()
    add_library(${_target} INTERFACE)
    target_include_directories(${_target} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    target_link_libraries(${_target} INTERFACE ${OKR_DEPS})
  endif()
endfunction()

# okr_cc_test(NAME <name> SRCS ... [DEPS ...])
# A GoogleTest binary registered in CTest, one test per TEST().
function(okr_cc_test)
  cmake_parse_arguments(OKR "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${OKR_NAME} ${OKR_SRCS})
  target_link_libraries(${OKR_NAME} PRIVATE ${OKR_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_options(${OKR_NAME} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  gtest_discover_tests(${OKR_NAME} DISCOVERY_MODE PRE_TEST
                       PROPERTIES TIMEOUT 300)
endfunction()
