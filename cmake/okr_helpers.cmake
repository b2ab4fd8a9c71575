# Small helpers in the spirit of Abseil's CMake helpers: one target per layer, and the
# link list states exactly which layers a layer may use, so a wrong include fails the
# build (issue #12 section 4; tests/layering/ checks the same rules file by file).
#
# Include paths: a library does not export the repository root. Its public headers (HDRS)
# are staged (symlinked at configure time) into
#   ${PROJECT_BINARY_DIR}/include/<target>/<repository-relative path>
# and only that directory is exported, so `#include "service/core/okr_core.h"` resolves in
# a target only when okr_core is among its (transitive PUBLIC) dependencies. The target's
# own sources also see every header of their own folder (a private staging directory) and
# the generated headers under ${PROJECT_BINARY_DIR} (service/server/build_info.h); the
# protos export their own generated directories.
#
# Tests (everything defined under tests/) and benchmarks (bench/) keep the repository root:
# see okr_test_and_bench_include_root() at the end.

set(OKR_INCLUDE_STAGE_DIR ${PROJECT_BINARY_DIR}/include)

# _okr_stage_headers(<stage dir> <header>...): symlink each header (relative to the current
# source directory, or absolute) into <stage dir>/<path relative to the repository root>.
function(_okr_stage_headers stage)
  set(_srcs)
  foreach(hdr IN LISTS ARGN)
    get_filename_component(src "${hdr}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND _srcs ${src})
  endforeach()
  list(REMOVE_DUPLICATES _srcs)
  foreach(src IN LISTS _srcs)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${src})
    if(rel MATCHES "^\\.\\./")
      message(FATAL_ERROR "okr_cc_library: header ${src} is outside ${PROJECT_SOURCE_DIR}")
    endif()
    get_filename_component(dir ${stage}/${rel} DIRECTORY)
    file(MAKE_DIRECTORY ${dir})
    file(CREATE_LINK ${src} ${stage}/${rel} SYMBOLIC)
  endforeach()
endfunction()

# okr_cc_library(NAME <name> [SRCS ...] [HDRS ...] [DEPS ...] [PRIVATE_DEPS ...])
# Creates target okr_<name>. A library with no SRCS becomes an INTERFACE library.
#   HDRS          its public headers: what users of the target may include
#   DEPS          PUBLIC dependencies: those whose headers a public header includes
#   PRIVATE_DEPS  dependencies only the sources use (linked, but not exposed to users)
function(okr_cc_library)
  cmake_parse_arguments(OKR "" "NAME" "SRCS;HDRS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(_target okr_${OKR_NAME})
  set(_public_stage ${OKR_INCLUDE_STAGE_DIR}/${_target})
  set(_private_stage ${OKR_INCLUDE_STAGE_DIR}/${_target}.private)
  # Restaged at every configure: a header dropped from HDRS stops being includable.
  file(REMOVE_RECURSE ${_public_stage} ${_private_stage})
  _okr_stage_headers(${_public_stage} ${OKR_HDRS})
  if(OKR_SRCS)
    # The sources see their own folder: every header in it (listed or not; CONFIGURE_DEPENDS
    # re-globs when one is added) and any header named in SRCS.
    file(GLOB _own_headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.h)
    set(_src_headers ${OKR_SRCS})
    list(FILTER _src_headers INCLUDE REGEX "\\.h$")
    _okr_stage_headers(${_private_stage} ${_own_headers} ${_src_headers})

    add_library(${_target} STATIC ${OKR_SRCS} ${OKR_HDRS})
    target_include_directories(${_target} PUBLIC $<BUILD_INTERFACE:${_public_stage}>
                               PRIVATE ${_private_stage} ${PROJECT_BINARY_DIR})
    target_link_libraries(${_target} PUBLIC ${OKR_DEPS} PRIVATE ${OKR_PRIVATE_DEPS})
    target_compile_options(${_target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  else()
    if(OKR_PRIVATE_DEPS)
      message(FATAL_ERROR "okr_cc_library(${OKR_NAME}): a header-only library has no "
                          "PRIVATE_DEPS (its headers are all its users see)")
    endif()
    add_library(${_target} INTERFACE)
    target_include_directories(${_target} INTERFACE $<BUILD_INTERFACE:${_public_stage}>)
    target_link_libraries(${_target} INTERFACE ${OKR_DEPS})
  endif()
endfunction()

# okr_cc_test(NAME <name> SRCS ... [DEPS ...])
# A GoogleTest binary registered in CTest, one test per TEST(). Tests may include any
# header of the tree (repository root), and link what they use.
function(okr_cc_test)
  cmake_parse_arguments(OKR "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${OKR_NAME} ${OKR_SRCS})
  target_include_directories(${OKR_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${OKR_NAME} PRIVATE ${OKR_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_options(${OKR_NAME} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  gtest_discover_tests(${OKR_NAME} DISCOVERY_MODE PRE_TEST
                       PROPERTIES TIMEOUT 300)
endfunction()

# Every target defined under tests/ or bench/ (okr_cc_test binaries, the test fakes, the
# benchmark executables and harnesses, made with okr_cc_library or plain add_executable)
# keeps the repository root and the build root as PRIVATE include directories, as all
# targets had before the layers were staged. Runs once, when the top-level CMakeLists.txt
# has added every directory.
function(_okr_collect_targets dir out)
  get_property(_targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(_subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS _subdirs)
    _okr_collect_targets(${sub} _sub_targets)
    list(APPEND _targets ${_sub_targets})
  endforeach()
  set(${out} ${_targets} PARENT_SCOPE)
endfunction()

function(okr_test_and_bench_include_root)
  foreach(top tests bench)
    if(NOT EXISTS ${PROJECT_SOURCE_DIR}/${top}/CMakeLists.txt)
      continue()
    endif()
    get_property(_added DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY SUBDIRECTORIES)
    if(NOT "${PROJECT_SOURCE_DIR}/${top}" IN_LIST _added)
      continue()  # OKR_BUILD_TESTS / OKR_BUILD_BENCH off
    endif()
    _okr_collect_targets(${PROJECT_SOURCE_DIR}/${top} _targets)
    foreach(t IN LISTS _targets)
      get_target_property(_type ${t} TYPE)
      if(_type STREQUAL "INTERFACE_LIBRARY" OR _type STREQUAL "UTILITY")
        continue()
      endif()
      target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    endforeach()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL okr_test_and_bench_include_root)
