# Sanitizer builds (issue #15). OKR_SANITIZE selects the runtime checks compiled into every
# target of the tree:
#   ""                   none (the default)
#   "address,undefined"  AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer too)
#   "thread"             ThreadSanitizer
# e.g. CC=clang-14 CXX=clang++-14 cmake -S . -B build-asan -G Ninja \
#          -DOKR_SANITIZE=address,undefined -DOKR_BUILD_TESTS=ON
# Any undefined behaviour is an error (-fno-sanitize-recover=undefined). Tests that CTest
# runs get ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS / TSAN_OPTIONS (below), and so do the
# processes they start (okr-server, the Python clients); values already in the environment
# are appended, so they win. .ci/sanitizers.sh builds and runs both trees.
#
# Debian's libraries (Abseil, gRPC, protobuf, ...) are not instrumented. Under TSan the
# absl::Mutex / absl::CondVar calls are made visible by okr_tsan_absl_sync (see
# cmake/sanitizers/tsan_absl_sync.cc), linked into every executable.

set(OKR_SANITIZE "" CACHE STRING
    "Sanitizers to build with: empty, \"address,undefined\" or \"thread\"")
set_property(CACHE OKR_SANITIZE PROPERTY STRINGS "" "address,undefined" "thread")

if(OKR_SANITIZE STREQUAL "")
  return()
endif()
if(NOT OKR_SANITIZE MATCHES "^(address,undefined|address|undefined|thread)$")
  message(FATAL_ERROR "OKR_SANITIZE=${OKR_SANITIZE}: use \"address,undefined\" or \"thread\"")
endif()

# Line tables are all a sanitizer report needs (file:line in every frame); full debug
# information would make these trees much slower to build and link.
set(_okr_sanitize_flags -fsanitize=${OKR_SANITIZE} -fno-omit-frame-pointer)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND _okr_sanitize_flags -gline-tables-only)
else()
  list(APPEND _okr_sanitize_flags -g1)
endif()
if(OKR_SANITIZE MATCHES "undefined")
  list(APPEND _okr_sanitize_flags -fno-sanitize-recover=undefined)
endif()
# Directory-level options: every target added after this include gets them.
add_compile_options(${_okr_sanitize_flags})
add_link_options(${_okr_sanitize_flags})

set(_okr_suppressions ${PROJECT_SOURCE_DIR}/.ci/sanitizers)
if(OKR_SANITIZE STREQUAL "thread")
  # halt_on_error: the first report fails the test. second_deadlock_stack: both stacks of a
  # lock-order inversion.
  set(_okr_sanitizer_env
      "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=${_okr_suppressions}/tsan.supp")
  # The interposer for absl::Mutex / absl::CondVar (uninstrumented in Debian's libabsl).
  # Every executable links it, and exports its symbols so calls from the shared libraries
  # (gRPC's own locks are absl::Mutex) reach it too.
  add_library(okr_tsan_absl_sync OBJECT ${PROJECT_SOURCE_DIR}/cmake/sanitizers/tsan_absl_sync.cc)
  target_link_libraries(okr_tsan_absl_sync PRIVATE absl::synchronization)
  set(_okr_if_exe "$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>")
  link_libraries("$<${_okr_if_exe}:okr_tsan_absl_sync>"
                 "$<${_okr_if_exe}:absl::synchronization>" ${CMAKE_DL_LIBS})
  add_link_options("$<${_okr_if_exe}:-rdynamic>")
  # Proof that the interposer works: guarded state gives no report, unguarded state does.
  # Deferred to the end of the top-level directory, where enable_testing() has run.
  function(_okr_tsan_absl_sync_test)
    if(NOT OKR_BUILD_TESTS)
      return()
    endif()
    find_package(Threads REQUIRED)
    add_executable(tsan_absl_sync_test
                   ${PROJECT_SOURCE_DIR}/tests/sanitizers/tsan_absl_sync_test.cc)
    target_link_libraries(tsan_absl_sync_test PRIVATE absl::synchronization absl::time
                                                      Threads::Threads)
    add_test(NAME tsan_absl_sync_guarded COMMAND tsan_absl_sync_test guarded)
    set_tests_properties(tsan_absl_sync_guarded PROPERTIES
                         FAIL_REGULAR_EXPRESSION "ThreadSanitizer")
    add_test(NAME tsan_absl_sync_unguarded COMMAND tsan_absl_sync_test unguarded)
    set_tests_properties(tsan_absl_sync_unguarded PROPERTIES
                         PASS_REGULAR_EXPRESSION "WARNING: ThreadSanitizer: data race")
    # The TSan run covers the event, API and store tests: `ctest -L tsan` selects them (the
    # directory label reaches the tests gtest_discover_tests adds at test time).
    set_tests_properties(tsan_absl_sync_guarded tsan_absl_sync_unguarded PROPERTIES
                         LABELS tsan)
    foreach(dir events api storage)
      set_property(DIRECTORY ${PROJECT_SOURCE_DIR}/tests/${dir} APPEND PROPERTY LABELS tsan)
    endforeach()
  endfunction()
  cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL _okr_tsan_absl_sync_test)
else()
  set(_okr_sanitizer_env
      "ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=0:strict_init_order=1:check_initialization_order=1:print_stacktrace=1"
      "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=${_okr_suppressions}/ubsan.supp"
      "LSAN_OPTIONS=suppressions=${_okr_suppressions}/lsan.supp:print_suppressions=0")
endif()

# CTest reads TEST_INCLUDE_FILES in its own process before it runs a test, so environment
# set there reaches every test and every process a test starts.
set(_okr_env_script ${PROJECT_BINARY_DIR}/okr_sanitizer_env.cmake)
set(_okr_env_lines "# Generated by cmake/Sanitizers.cmake (OKR_SANITIZE=${OKR_SANITIZE}).\n")
foreach(kv IN LISTS _okr_sanitizer_env)
  string(REGEX MATCH "^[A-Z_]+" _name "${kv}")
  string(LENGTH "${_name}=" _len)
  string(SUBSTRING "${kv}" ${_len} -1 _value)
  string(APPEND _okr_env_lines
         "if(DEFINED ENV{${_name}})\n  set(ENV{${_name}} \"${_value}:\$ENV{${_name}}\")\n"
         "else()\n  set(ENV{${_name}} \"${_value}\")\nendif()\n")
endforeach()
file(WRITE ${_okr_env_script} "${_okr_env_lines}")
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY TEST_INCLUDE_FILES
             ${_okr_env_script})
message(STATUS "okr: sanitizers ${OKR_SANITIZE}; test environment in ${_okr_env_script}")
